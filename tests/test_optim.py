"""Optimizers: trajectories on a quadratic against the update equations written out independently
in plain NumPy float64 (and against torch.optim when torch is installed), convergence on an
ill-conditioned quadratic, skipped parameters, state_dict round trips and error messages."""

from __future__ import annotations

import numpy as np
import pytest

import coursepkg as cp
from coursepkg.nn.linear import Linear
from coursepkg.nn.module import Parameter
from coursepkg.optim.adam import Adam, AdamW
from coursepkg.optim.rmsprop import RMSprop
from coursepkg.optim.schedules import CosineAnnealing
from coursepkg.optim.sgd import SGD

# f(x) = 0.5 x^T A x - b^T x, gradient A x - b, minimum at A^-1 b.
A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.5]])
B = np.array([1.0, -2.0, 0.5])
X0 = np.array([2.0, -1.0, 3.0])
STEPS = 20

CONFIGS = {
    "sgd": (SGD, {"lr": 0.1}),
    "momentum": (SGD, {"lr": 0.05, "momentum": 0.9}),
    "nesterov": (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    "sgd_weight_decay": (SGD, {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}),
    "rmsprop": (RMSprop, {"lr": 0.01}),
    "rmsprop_momentum": (RMSprop, {"lr": 0.01, "alpha": 0.9, "momentum": 0.9, "weight_decay": 0.05}),
    "adam": (Adam, {"lr": 0.1}),
    "adam_l2": (Adam, {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    "adamw": (AdamW, {"lr": 0.1, "weight_decay": 0.1}),
}


def reference_trajectory(name: str, steps: int = STEPS) -> np.ndarray:
    """The update equations of the PyTorch documentation, one line each, in float64."""
    kind, options = CONFIGS[name]
    lr = options["lr"]
    wd = options.get("weight_decay", 0.0 if kind is not AdamW else 0.01)
    x = X0.copy()
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    path = []
    for t in range(1, steps + 1):
        g = A @ x - B
        if kind is SGD:
            g = g + wd * x
            mu = options.get("momentum", 0.0)
            if mu:
                m = g if t == 1 else mu * m + g
                g = g + mu * m if options.get("nesterov") else m
            x = x - lr * g
        elif kind is RMSprop:
            alpha, eps, mu = options.get("alpha", 0.99), options.get("eps", 1e-8), options.get("momentum", 0.0)
            g = g + wd * x
            v = alpha * v + (1 - alpha) * g**2
            if mu:
                m = mu * m + g / (np.sqrt(v) + eps)
                x = x - lr * m
            else:
                x = x - lr * g / (np.sqrt(v) + eps)
        else:
            b1, b2 = options.get("betas", (0.9, 0.999))
            eps = options.get("eps", 1e-8)
            if kind is AdamW:
                x = x - lr * wd * x
            else:
                g = g + wd * x
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g**2
            m_hat = m / (1 - b1**t)
            v_hat = v / (1 - b2**t)
            x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(x.copy())
    return np.array(path)


def package_trajectory(name: str, steps: int = STEPS) -> np.ndarray:
    kind, options = CONFIGS[name]
    backend = cp.get_backend()
    matrix, vector = backend.asarray(A), backend.asarray(B)
    x = Parameter(backend.asarray(X0.copy()))  # asarray shares memory with a NumPy array
    optimizer = kind([x], **options)
    path = []
    for _ in range(steps):
        optimizer.zero_grad()
        x.grad = backend.xp.matmul(matrix, x.data) - vector
        optimizer.step()
        path.append(cp.to_numpy(x.data).copy())
    return np.array(path)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_trajectory_matches_update_equations(backend64, name):
    got = package_trajectory(name)
    expected = reference_trajectory(name)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert not np.allclose(got[-1], X0)  # it did move


@pytest.mark.parametrize("name", list(CONFIGS))
def test_trajectory_matches_torch(name):
    torch = pytest.importorskip("torch")
    kind, options = CONFIGS[name]
    torch_class = {SGD: torch.optim.SGD, RMSprop: torch.optim.RMSprop, Adam: torch.optim.Adam,
                   AdamW: torch.optim.AdamW}[kind]
    x = torch.tensor(X0.copy(), dtype=torch.float64, requires_grad=True)
    matrix, vector = torch.tensor(A), torch.tensor(B)
    optimizer = torch_class([x], **options)
    path = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        x.grad = matrix @ x.detach() - vector
        optimizer.step()
        path.append(x.detach().numpy().copy())
    with cp.use_backend("numpy", dtype="float64"):
        got = package_trajectory(name)
    np.testing.assert_allclose(got, np.array(path), rtol=1e-10, atol=1e-12)


ILL_CONDITIONED = {  # (optimizer, options), a cosine schedule brings lr to 0 by the end
    "sgd": (SGD, {"lr": 0.019}),
    "momentum": (SGD, {"lr": 0.01, "momentum": 0.9}),
    "nesterov": (SGD, {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    "rmsprop": (RMSprop, {"lr": 0.1}),
    "adam": (Adam, {"lr": 0.5}),
    "adamw": (AdamW, {"lr": 0.3, "betas": (0.9, 0.99), "weight_decay": 0.0}),
}


@pytest.mark.parametrize("name", list(ILL_CONDITIONED))
def test_converges_on_ill_conditioned_quadratic(backend, name):
    # Hessian with eigenvalues 1 and 100 (condition number 100), rotated by 30 degrees.
    angle = np.pi / 6
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    hessian = rotation @ np.diag([1.0, 100.0]) @ rotation.T
    target = np.array([1.0, -2.0])
    minimum = target  # f(x) = 0.5 (x - target)^T H (x - target)
    matrix, shift = backend.asarray(hessian), backend.asarray(target)
    x = Parameter(backend.asarray(np.array([-3.0, 4.0])))
    kind, options = ILL_CONDITIONED[name]
    optimizer = kind([x], **options)
    steps = 1500
    schedule = CosineAnnealing(optimizer, total_steps=steps)
    for _ in range(steps):
        optimizer.zero_grad()
        x.grad = backend.xp.matmul(matrix, x.data - shift)
        optimizer.step()
        schedule.step()
    np.testing.assert_allclose(cp.to_numpy(x.data), minimum, atol=1e-3)


def test_parameters_without_gradient_are_skipped(backend):
    used = Parameter(backend.asarray(np.array([1.0, 2.0])))
    frozen = Parameter(backend.asarray(np.array([5.0, 6.0])))
    optimizer = Adam([used, frozen], lr=0.1)
    used.grad = backend.asarray(np.array([1.0, -1.0]))
    optimizer.step()
    np.testing.assert_array_equal(cp.to_numpy(frozen.data), [5.0, 6.0])
    assert optimizer.state[1] == {}
    assert optimizer.state[0]["step"] == 1
    np.testing.assert_allclose(cp.to_numpy(used.data), [0.9, 2.1], rtol=1e-5)


def test_updates_are_in_place_and_leave_the_gradient_alone(backend):
    p = Parameter(backend.asarray(np.array([1.0, 2.0, 3.0])))
    grad = backend.asarray(np.array([0.5, 0.5, 0.5]))
    for make in (lambda: SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1), lambda: Adam([p], lr=0.1, weight_decay=0.1),
                 lambda: RMSprop([p], lr=0.1, weight_decay=0.1), lambda: AdamW([p], lr=0.1)):
        optimizer = make()
        array_before = p.data  # on NumPy the optimizer took over the storage when it was built
        p.grad = grad
        optimizer.step()
        optimizer.step()
        assert p.data is array_before
        np.testing.assert_array_equal(cp.to_numpy(grad), [0.5, 0.5, 0.5])


def test_zero_grad_and_module_input(backend):
    layer = Linear(3, 2)
    optimizer = SGD(layer, lr=0.1)  # a Module is accepted
    assert len(optimizer.params) == 2
    for p in optimizer.params:
        p.grad = backend.xp.ones_like(p.data)
    optimizer.zero_grad()
    assert all(p.grad is None for p in layer.parameters())


def _train_steps(model, optimizer, batches):
    from coursepkg import ops
    for x, y in batches:
        optimizer.zero_grad()
        ops.mse_loss(model(cp.Tensor(x)), y).backward()
        optimizer.step()


@pytest.mark.parametrize("name", ["momentum", "rmsprop_momentum", "adam", "adamw"])
def test_state_dict_round_trip_resumes_identically(backend, name):
    kind, options = CONFIGS[name]
    options = {**options, "lr": 0.01}
    batches = [(backend.randn((8, 4)), backend.randn((8, 2))) for _ in range(10)]

    cp.seed(1)
    straight = Linear(4, 2)
    optimizer = kind(straight.parameters(), **options)
    _train_steps(straight, optimizer, batches)

    cp.seed(1)
    first_half = Linear(4, 2)
    optimizer = kind(first_half.parameters(), **options)
    _train_steps(first_half, optimizer, batches[:5])
    model_state = {k: cp.to_numpy(v).copy() for k, v in first_half.state_dict().items()}
    optimizer_state = {k: cp.to_numpy(v).copy() if hasattr(v, "shape") else v
                       for k, v in optimizer.state_dict().items()}

    cp.seed(99)  # a fresh model with other weights, and a fresh optimizer with other settings
    resumed = Linear(4, 2)
    resumed.load_state_dict(model_state)
    fresh = kind(resumed.parameters(), lr=0.5)
    fresh.load_state_dict(optimizer_state)
    assert fresh.lr == 0.01
    _train_steps(resumed, fresh, batches[5:])

    for (name_a, a), (name_b, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert name_a == name_b
        np.testing.assert_array_equal(cp.to_numpy(a), cp.to_numpy(b))


def test_loaded_state_is_a_copy(backend):
    p, q = (Parameter(backend.asarray(np.array([1.0, 2.0]))) for _ in range(2))
    first, second = SGD([p], lr=0.1, momentum=0.9), SGD([q], lr=0.1, momentum=0.9)
    p.grad = q.grad = backend.asarray(np.array([1.0, 1.0]))
    first.step()
    second.load_state_dict(first.state_dict())
    second.step()
    np.testing.assert_array_equal(cp.to_numpy(first.state[0]["momentum_buffer"]), [1.0, 1.0])
    np.testing.assert_allclose(cp.to_numpy(second.state[0]["momentum_buffer"]), [1.9, 1.9], rtol=1e-6)


def test_state_dict_shape_mismatch_is_named():
    p = Parameter(cp.get_backend().asarray(np.zeros((2, 3))))
    optimizer = Adam([p])
    with pytest.raises(ValueError, match=r"state\.0\.exp_avg.*\(3, 2\).*\(2, 3\)"):
        optimizer.load_state_dict({"state.0.step": 1, "state.0.exp_avg": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="parameter 4"):
        optimizer.load_state_dict({"state.4.step": 1})


def test_bad_arguments_are_explained():
    p = Parameter(cp.get_backend().asarray(np.zeros(2)))
    with pytest.raises(ValueError, match="SGD: nesterov"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="learning rate"):
        Adam([p], lr=-1.0)
    with pytest.raises(ValueError, match="betas"):
        Adam([p], betas=(0.9, 1.5))
    with pytest.raises(ValueError, match="empty"):
        RMSprop([])
    with pytest.raises(ValueError, match=r"params\[1\] is the same parameter as params\[0\]"):
        SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[0\]"):
        SGD([np.zeros(2)], lr=0.1)
    p.grad = cp.get_backend().asarray(np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(2,\).*gradient of shape \(3,\)"):
        SGD([p], lr=0.1).step()
