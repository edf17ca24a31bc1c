"""``coursepkg.nn``: Module bookkeeping, Linear, Sequential, activations, losses and init."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

import coursepkg as cp
from coursepkg import ops
from coursepkg.backend import Backend, dtype_name
from coursepkg.gradcheck import numerical_gradient, relative_error
from coursepkg.nn import init
from coursepkg.nn.activation import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from coursepkg.nn.container import Sequential
from coursepkg.nn.linear import Flatten, Identity, Linear
from coursepkg.nn.loss import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MAELoss, MSELoss
from coursepkg.nn.module import Module, Parameter
from coursepkg.tensor import Tensor


class WithBuffer(Module):
    """A layer with a parameter and a buffer (like batch norm's running mean)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.scale = Parameter(cp.get_backend().ones((size,)))
        self.register_buffer("running_mean", cp.get_backend().zeros((size,)))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale


class Net(Module):
    """Own parameter first, then a sub-module, a list of sub-modules, and a layer without bias."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = Parameter(cp.get_backend().zeros((2,)))
        self.hidden = Linear(3, 4)
        self.blocks = [Linear(4, 4), ReLU(), WithBuffer(4)]
        self.head = Linear(4, 2, bias=False)
        self.note = "not a module"

    def forward(self, x: Tensor) -> Tensor:
        h = ops.relu(self.hidden(x))
        for block in self.blocks:
            h = block(h)
        return self.head(h) + self.offset


def host(x) -> np.ndarray:
    return cp.to_numpy(x)


# ---------------------------------------------------------------------- finding parameters
def test_named_parameters_order_and_names(backend):
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["offset", "hidden.weight", "hidden.bias", "blocks.0.weight", "blocks.0.bias",
                     "blocks.2.scale", "head.weight"]
    assert [p.shape for p in net.parameters()] == [(2,), (3, 4), (4,), (4, 4), (4,), (4,), (4, 2)]
    assert all(isinstance(p, Parameter) and p.requires_grad for p in net.parameters())
    assert net.parameters()[1] is net.hidden.weight
    assert [name for name, _ in net.named_buffers()] == ["blocks.2.running_mean"]
    assert [name for name, _ in net.named_modules()] == ["", "hidden", "blocks.0", "blocks.1", "blocks.2", "head"]
    assert len(list(net.modules())) == 6


def test_sequential_names_and_nesting(backend):
    model = Sequential(Linear(2, 3), Tanh(), Sequential(Linear(3, 3), ReLU()), Linear(3, 1))
    assert [name for name, _ in model.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.2.layers.0.weight", "layers.2.layers.0.bias",
        "layers.3.weight", "layers.3.bias"]


def test_num_parameters(backend):
    assert Linear(4, 3).num_parameters() == 4 * 3 + 3
    assert Linear(4, 3, bias=False).num_parameters() == 12
    assert Net().num_parameters() == 2 + (12 + 4) + (16 + 4) + 4 + 8
    assert Sequential(ReLU(), Tanh()).num_parameters() == 0


def test_a_shared_parameter_is_listed_once(backend):
    """Tied weights: an optimizer must update them once, and they count once."""
    layer = Linear(3, 3)
    model = Sequential(layer, ReLU(), layer)
    assert len(model.parameters()) == 2
    assert model.num_parameters() == 12
    assert [name for name, _ in model.named_parameters()] == ["layers.0.weight", "layers.0.bias"]


def test_train_and_eval_reach_every_module(backend):
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert not net.blocks[1].training
    net.train()
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not net.blocks[2].training


def test_zero_grad_clears_every_parameter(backend):
    net = Net()
    x = Tensor(backend.randn((5, 3)))
    net(x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_forward_must_be_defined(backend):
    with pytest.raises(NotImplementedError, match="Bare"):
        type("Bare", (Module,), {})()(Tensor([1.0]))


def test_repr_shows_the_structure(backend):
    text = repr(Sequential(Linear(2, 3), LeakyReLU(0.2)))
    assert "Linear(in_features=2, out_features=3, bias=True)" in text
    assert "LeakyReLU(slope=0.2)" in text and "(layers.1)" in text


# ---------------------------------------------------------------------- state_dict
def test_state_dict_round_trip(backend):
    backend.seed(0)
    source = Net()
    source.blocks[2].register_buffer("running_mean", backend.asarray(np.arange(4.0)))
    backend.seed(1)
    target = Net()
    x = Tensor(backend.randn((3, 3)))
    assert not np.allclose(host(source(x)), host(target(x)))
    state = source.state_dict()
    assert list(state) == [name for name, _ in source.named_parameters()] + ["blocks.2.running_mean"]
    target.load_state_dict(state)
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(host(value), host(state[name]), err_msg=name)
        assert value.dtype == state[name].dtype
    np.testing.assert_array_equal(host(source(x)), host(target(x)))
    assert isinstance(target.hidden.weight, Parameter)  # still the same trainable objects


def test_buffers_of_the_top_module_round_trip(backend):
    layer = WithBuffer(3)
    state = {"scale": np.full(3, 2.0), "running_mean": np.array([1.0, 2.0, 3.0])}
    layer.load_state_dict(state)
    np.testing.assert_array_equal(host(layer.state_dict()["running_mean"]), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(host(layer.scale), [2.0, 2.0, 2.0])
    assert layer.state_dict()["running_mean"].dtype == backend.default_dtype


def test_load_state_dict_accepts_numpy_arrays(backend):
    model = Linear(3, 2)
    saved = {name: host(value) * 0 + 1.5 for name, value in model.state_dict().items()}  # float32 NumPy
    model.load_state_dict({name: value.astype(np.float64) for name, value in saved.items()})
    assert model.weight.dtype == backend.default_dtype and model.weight.xp is backend.xp
    np.testing.assert_array_equal(host(model.weight), np.full((3, 2), 1.5))


def test_load_state_dict_shape_mismatch_names_the_parameter_and_both_shapes(backend):
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    state = Sequential(Linear(3, 4), ReLU(), Linear(4, 5)).state_dict()
    with pytest.raises(ValueError, match=r"layers\.2\.weight.*\(4, 2\).*\(4, 5\)"):
        model.load_state_dict(state)


def test_load_state_dict_missing_and_unexpected_keys(backend):
    model = Linear(3, 2)
    state = dict(model.state_dict())
    del state["bias"]
    with pytest.raises(KeyError, match=r"missing.*'bias'"):
        model.load_state_dict(state)
    state = dict(model.state_dict(), extra=np.zeros(2))
    with pytest.raises(KeyError, match=r"unexpected.*'extra'"):
        model.load_state_dict(state)
    new_weight = np.ones((3, 2), dtype=np.float32)
    model.load_state_dict({"weight": new_weight, "extra": np.zeros(2)}, strict=False)
    np.testing.assert_array_equal(host(model.weight), new_weight)


# ---------------------------------------------------------------------- moving between backends
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_moves_between_numpy_and_strict_and_back(dtype):
    cp.set_backend("numpy", dtype=dtype)
    net = Net()
    net.blocks[2].register_buffer("running_mean", cp.get_backend().asarray(np.arange(4.0)))
    x_host = np.random.default_rng(0).standard_normal((2, 3))
    before = {name: host(v) for name, v in net.state_dict().items()}
    expected = host(net(Tensor(cp.get_backend().asarray(x_host))))
    net(Tensor(cp.get_backend().asarray(x_host))).sum().backward()

    strict = cp.set_backend("array_api_strict", device="device1", dtype=dtype)
    assert net.to(strict) is net
    for name, value in net.state_dict().items():
        assert type(value).__module__.startswith("array_api_strict"), name
        assert value.device == strict.device, name
        assert dtype_name(value.dtype) == dtype, name
        np.testing.assert_array_equal(host(value), before[name], err_msg=name)
    assert all(p.grad is None for p in net.parameters())
    out = net(Tensor(strict.asarray(x_host)))
    np.testing.assert_allclose(host(out), expected, rtol=1e-6)
    out.sum().backward()  # trains on the new device
    assert all(p.grad.device == strict.device for p in net.parameters())

    numpy_backend = Backend("numpy", dtype=dtype)
    net.to(numpy_backend)
    for name, value in net.state_dict().items():
        assert isinstance(value, np.ndarray) and value.dtype == np.dtype(dtype), name
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_to_keeps_float32_on_a_float64_backend():
    net = Linear(2, 2)  # float32, made on the default backend
    net.to(Backend("array_api_strict", device="device1", dtype="float64"))
    assert dtype_name(net.weight.dtype) == "float32"


# ---------------------------------------------------------------------- Linear
def test_linear_forward_matches_the_formula(backend):
    layer = Linear(3, 2)
    w, b = host(layer.weight), host(layer.bias)
    assert w.shape == (3, 2) and b.shape == (2,)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(host(layer(Tensor(backend.asarray(x)))), x @ w + b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(layer(Tensor(backend.asarray(x[:1])))), x[:1] @ w + b, rtol=1e-5, atol=1e-6)
    x3 = np.random.default_rng(1).standard_normal((2, 4, 3)).astype(np.float32)  # (..., D)
    np.testing.assert_allclose(host(layer(Tensor(backend.asarray(x3)))), x3 @ w + b, rtol=1e-5, atol=1e-6)
    assert Linear(3, 2, bias=False).bias is None


def test_linear_default_init_bounds(backend):
    layer = Linear(16, 8)
    bound = 1 / math.sqrt(16)
    assert np.abs(host(layer.weight)).max() <= bound and np.abs(host(layer.bias)).max() <= bound
    he = Linear(16, 8, init_scheme="he_normal")
    np.testing.assert_array_equal(host(he.bias), np.zeros(8))
    with pytest.raises(ValueError, match=r"Linear.*init_scheme.*'bogus'"):
        Linear(2, 2, init_scheme="bogus")


def test_linear_wrong_in_features_names_the_layer_and_shapes(backend):
    layer = Linear(3, 2)
    with pytest.raises(ValueError, match=r"Linear\(in_features=3, out_features=2.*\(4, 5\).*3"):
        layer(Tensor(backend.zeros((4, 5))))


def test_linear_parameter_gradients(backend64):
    layer = Linear(3, 2)
    x = Tensor(backend64.randn((4, 3)), requires_grad=True)
    projection = backend64.randn((4, 2))
    xp = backend64.xp
    (layer(x) * projection).sum().backward()
    for p in [layer.weight, layer.bias, x]:
        numeric = numerical_gradient(lambda: xp.sum(layer(x).data * projection), p.data)
        assert relative_error(p.grad, numeric) < 1e-6


# ---------------------------------------------------------------------- Sequential
def test_sequential_applies_layers_in_order(backend):
    first, second = Linear(3, 4), Linear(4, 2)
    model = Sequential(first, ReLU(), second)
    x = Tensor(backend.randn((5, 3)))
    np.testing.assert_array_equal(host(model(x)), host(second(ops.relu(first(x)))))
    assert len(model) == 3 and model[0] is first and list(model)[2] is second
    head = model[:2]
    assert isinstance(head, Sequential) and len(head) == 2
    assert model.append(Sigmoid()) is model and len(model) == 4


def test_sequential_rejects_a_non_module(backend):
    with pytest.raises(TypeError, match=r"Sequential: argument 1 is a function.*ReLU"):
        Sequential(Linear(2, 2), ops.relu)
    with pytest.raises(TypeError, match="argument 0 is a int"):
        Sequential(3)


# ---------------------------------------------------------------------- activations and losses as modules
def test_activation_modules(backend):
    x_host = np.array([[-2.0, -0.5, 0.5, 3.0]], dtype=np.float32)
    x = Tensor(backend.asarray(x_host))
    np.testing.assert_allclose(host(ReLU()(x)), np.maximum(x_host, 0))
    np.testing.assert_allclose(host(LeakyReLU(0.1)(x)), np.where(x_host > 0, x_host, 0.1 * x_host), rtol=1e-6)
    np.testing.assert_allclose(host(Sigmoid()(x)), special.expit(x_host), rtol=1e-6)
    np.testing.assert_allclose(host(Tanh()(x)), np.tanh(x_host), rtol=1e-6)
    np.testing.assert_allclose(host(GELU()(x)), x_host * special.ndtr(x_host), atol=1e-3)
    np.testing.assert_allclose(host(Softmax()(x)), special.softmax(x_host, axis=-1), rtol=1e-6)
    np.testing.assert_allclose(host(Softmax(axis=0)(x)), np.ones((1, 4)), rtol=1e-6)
    assert Identity()(x) is x
    flat = Flatten()(Tensor(backend.zeros((2, 3, 4))))
    assert flat.shape == (2, 12)
    assert len(ReLU().parameters()) == 0


def test_loss_modules(backend):
    logits = Tensor(backend.asarray(np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3]])))
    labels = backend.asarray(np.array([0, 2]))
    expected = -np.mean(special.log_softmax(host(logits), axis=1)[[0, 1], [0, 2]])
    assert CrossEntropyLoss()(logits, labels).item() == pytest.approx(expected, rel=1e-5)
    z, y = np.array([0.5, -1.5, 2.0]), np.array([1.0, 0.0, 0.0])
    p = special.expit(z)
    bce = BCEWithLogitsLoss()(Tensor(backend.asarray(z)), Tensor(backend.asarray(y)))
    assert bce.item() == pytest.approx(np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p)), rel=1e-5)
    a, b = Tensor(backend.asarray(z)), Tensor(backend.asarray(y))
    assert MSELoss()(a, b).item() == pytest.approx(np.mean((z - y) ** 2), rel=1e-5)
    assert L1Loss()(a, b).item() == pytest.approx(np.mean(np.abs(z - y)), rel=1e-5)
    assert MAELoss is L1Loss


def test_a_small_model_trains_a_step(backend):
    """End to end: loss goes down after one gradient step on a fixed batch."""
    model = Sequential(Linear(4, 8, init_scheme="he_normal"), ReLU(), Linear(8, 3))
    x = Tensor(backend.randn((16, 4)))
    labels = backend.asarray(np.arange(16) % 3)
    loss_fn = CrossEntropyLoss()
    before = loss_fn(model(x), labels)
    before.backward()
    for p in model.parameters():
        p.data = p.data - 0.1 * p.grad
    model.zero_grad()
    after = loss_fn(model(x), labels)
    assert after.item() < before.item()


# ---------------------------------------------------------------------- init
def test_fans_for_linear_and_conv_layouts():
    assert init.fans((64, 32)) == (64, 32)  # Linear weight: (in, out)
    assert init.fans((16, 3, 5, 5)) == (3 * 25, 16 * 25)  # Conv2d weight: (out, in, kh, kw)
    assert init.fans((8, 4, 3)) == (12, 24)  # Conv1d weight: (out, in, k)
    with pytest.raises(ValueError, match=r"fans.*\(5,\)"):
        init.fans((5,))


SHAPE = (500, 400)
FAN_IN, FAN_OUT = 500, 400


@pytest.mark.parametrize("name, expected_std", [
    ("xavier_normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("xavier_uniform", math.sqrt(2 / (FAN_IN + FAN_OUT))),  # U(-a, a) has std a / sqrt(3)
    ("he_normal", math.sqrt(2 / FAN_IN)),
    ("he_uniform", math.sqrt(2 / FAN_IN)),
    ("default_uniform", 1 / math.sqrt(3 * FAN_IN)),
    ("normal", 0.01),
])
def test_init_std_matches_the_formula(backend, name, expected_std):
    w = host(getattr(init, name)(SHAPE))
    assert w.shape == SHAPE and w.dtype == np.float32
    assert w.std() == pytest.approx(expected_std, rel=0.02)
    assert abs(w.mean()) < 0.02 * expected_std * 5
    if "uniform" in name:
        assert np.abs(w).max() <= expected_std * math.sqrt(3) * (1 + 1e-6)
        assert np.abs(w).max() > expected_std * math.sqrt(3) * 0.99  # fills its range


def test_init_gain_and_conv_layout(backend):
    w = host(init.xavier_normal(SHAPE, gain=2.0))
    assert w.std() == pytest.approx(2 * math.sqrt(2 / (FAN_IN + FAN_OUT)), rel=0.02)
    conv = host(init.he_normal((64, 32, 3, 3)))
    assert conv.std() == pytest.approx(math.sqrt(2 / (32 * 9)), rel=0.03)
    np.testing.assert_array_equal(host(init.zeros((3,))), np.zeros(3))


def test_init_is_reproducible_from_the_seed(backend):
    backend.seed(3)
    a = host(init.he_uniform((5, 4)))
    backend.seed(3)
    b = host(init.he_uniform((5, 4)))
    np.testing.assert_array_equal(a, b)
