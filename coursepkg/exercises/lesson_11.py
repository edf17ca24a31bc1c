"""Lesson 11, transfer learning: the graded questions.

The learner writes the three moves of transfer learning on ``coursepkg.nn`` models:

- ``freeze(module)`` and ``trainable_parameters(module)``: a frozen parameter has
  ``requires_grad = False``, so autodiff computes no gradient for it, and it is left out of the
  optimizer. Checked on nested and flat ``Sequential`` models and by one real training step.
- ``build_feature_extractor_with_new_head(pretrained_model, feature_dim, num_classes)``: keep the
  pretrained body (every layer but the last), freeze it, and put a fresh ``Linear`` head on it.
  Checked by what the model computes (the pretrained features times the new head), by its
  shapes, and by a few SGD steps over *all* its parameters: the body must not move, the head must.
- ``fine_tune_optimizers(model, body_lr, head_lr, optimizer_class)``: every parameter trains, the
  body with a smaller learning rate than the head. Checked by instrumenting one step: with SGD the
  body moves by exactly ``-body_lr * grad`` and the head by ``-head_lr * grad``; with Adam's first
  step, by about ``-lr * sign(grad)``.

The checks build their models with the NumPy backend and a seed drawn from the check's ``rng``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

from coursepkg import nn, ops
from coursepkg.backend import seed as reseed
from coursepkg.backend import set_backend, to_numpy
from coursepkg.exercises.question import CheckFailure, expect, expect_close, register
from coursepkg.optim import SGD, Adam
from coursepkg.tensor import Tensor


# ----------------------------------------------------------------------------- reference solutions
def reference_freeze(module: nn.Module) -> None:
    """Freeze every parameter of ``module``: ``requires_grad = False``, so no gradient is computed for it.

    Inputs: module, any Module (a whole model or a part of one, such as ``model[:-1]``).
    Returns: None; the parameters are changed in place (they are shared with the model they belong to).
    """
    for p in module.parameters():
        p.requires_grad = False


def reference_trainable_parameters(module: nn.Module) -> list[nn.Parameter]:
    """The parameters of ``module`` that are not frozen, in the order of ``module.parameters()``.

    Returns: a list of Parameters (what an optimizer should be built on).
    """
    return [p for p in module.parameters() if p.requires_grad]


def reference_build_feature_extractor_with_new_head(pretrained_model: nn.Sequential, feature_dim: int,
                                                    num_classes: int) -> nn.Module:
    """A frozen pretrained body with a fresh linear head on top.

    Inputs:
    - pretrained_model: a Sequential whose last layer is the source task's head; the layers before
      it (the body) map x to features of shape (N, feature_dim).
    - feature_dim: F, the size of the body's output.
    - num_classes: C, the number of classes of the target task.
    Returns: a Module mapping x to logits of shape (N, C): the pretrained body (frozen, its weights
    unchanged) followed by a new ``Linear(F, C)`` (trainable).
    """
    body = pretrained_model[:-1]  # a Sequential of the same layer objects: the pretrained weights
    reference_freeze(body)
    return nn.Sequential(body, nn.Linear(feature_dim, num_classes))


def reference_fine_tune_optimizers(model: nn.Sequential, body_lr: float, head_lr: float,
                                   optimizer_class: type = SGD) -> list[Any]:
    """Two optimizers that train every parameter: the body slowly, the head fast.

    Inputs:
    - model: a Sequential; its last layer is the head, the layers before it are the body.
    - body_lr, head_lr: the learning rates (body_lr is usually 10 to 100 times smaller).
    - optimizer_class: SGD, Adam, ... called as ``optimizer_class(params, lr=...)``.
    Returns: [optimizer of the body's parameters with lr=body_lr, optimizer of the head's with lr=head_lr].
    Call ``zero_grad()`` and ``step()`` on both at every training step.
    """
    return [optimizer_class(model[:-1].parameters(), lr=body_lr),
            optimizer_class(model[-1].parameters(), lr=head_lr)]


# ----------------------------------------------------------------------------- planted wrong answers: freeze
def _freeze_first_layer_only(module):
    for p in module.parameters()[:2]:  # the first Linear's weight and bias only
        p.requires_grad = False


_LEFT_OUT: set[int] = set()


def _freeze_by_bookkeeping(module):
    """Remembers the parameters to leave out of the optimizer, but autodiff still differentiates them."""
    _LEFT_OUT.update(id(p) for p in module.parameters())


def _trainable_by_bookkeeping(module):
    return [p for p in module.parameters() if id(p) not in _LEFT_OUT]


def _trainable_inverted(module):
    return [p for p in module.parameters() if not p.requires_grad]


def _trainable_all(module):
    return module.parameters()


# ----------------------------------------------------------------------------- planted wrong answers: new head
def _reuse_old_head(pretrained_model, feature_dim, num_classes):
    reference_freeze(pretrained_model[:-1])
    return pretrained_model


def _head_without_freezing(pretrained_model, feature_dim, num_classes):
    return nn.Sequential(pretrained_model[:-1], nn.Linear(feature_dim, num_classes))


def _freeze_everything(pretrained_model, feature_dim, num_classes):
    model = nn.Sequential(pretrained_model[:-1], nn.Linear(feature_dim, num_classes))
    reference_freeze(model)
    return model


def _fresh_body(pretrained_model, feature_dim, num_classes):
    """Rebuilds the body's Linear layers with new random weights: the architecture without the knowledge."""
    layers = [nn.Linear(layer.in_features, layer.out_features) if isinstance(layer, nn.Linear) else layer
              for layer in _flat_layers(pretrained_model[:-1])]
    body = nn.Sequential(*layers)
    reference_freeze(body)
    return nn.Sequential(body, nn.Linear(feature_dim, num_classes))


def _cuts_one_layer_too_many(pretrained_model, feature_dim, num_classes):
    layers = _flat_layers(pretrained_model)
    body = nn.Sequential(*layers[:-2], nn.Identity())
    reference_freeze(body)
    last = [layer for layer in layers[:-2] if isinstance(layer, nn.Linear)][-1]
    return nn.Sequential(body, nn.Linear(last.out_features, num_classes))


# ----------------------------------------------------------------------------- planted wrong answers: fine-tuning
def _same_lr(model, body_lr, head_lr, optimizer_class=SGD):
    return [optimizer_class(model.parameters(), lr=head_lr)]


def _swapped_lrs(model, body_lr, head_lr, optimizer_class=SGD):
    return [optimizer_class(model[:-1].parameters(), lr=head_lr), optimizer_class(model[-1].parameters(), lr=body_lr)]


def _head_in_both(model, body_lr, head_lr, optimizer_class=SGD):
    return [optimizer_class(model.parameters(), lr=body_lr), optimizer_class(model[-1].parameters(), lr=head_lr)]


def _head_only(model, body_lr, head_lr, optimizer_class=SGD):
    return [optimizer_class(model[-1].parameters(), lr=head_lr)]


def _always_sgd(model, body_lr, head_lr, optimizer_class=SGD):
    return [SGD(model[:-1].parameters(), lr=body_lr), SGD(model[-1].parameters(), lr=head_lr)]


# ----------------------------------------------------------------------------- helpers
def _flat_layers(model: nn.Module) -> list[nn.Module]:
    """The leaf layers of nested Sequentials, in order."""
    if isinstance(model, nn.Sequential):
        return [leaf for layer in model.layers for leaf in _flat_layers(layer)]
    return [model]


def _mlp(sizes: tuple[int, ...], nested: bool, seed: int) -> nn.Sequential:
    """Linear-ReLU-...-Linear with the given sizes; nested: Sequential(Sequential(body...), head)."""
    reseed(seed)
    body: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        body += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    head = nn.Linear(sizes[-2], sizes[-1])
    return nn.Sequential(nn.Sequential(*body), head) if nested else nn.Sequential(*body, head)


def _describe_model(model: nn.Module) -> str:
    def name(layer: nn.Module) -> str:
        if isinstance(layer, nn.Sequential):
            return f"Sequential({', '.join(name(inner) for inner in layer.layers)})"
        if isinstance(layer, nn.Linear):
            return f"Linear({layer.in_features}, {layer.out_features})"
        return f"{type(layer).__name__}()"

    return name(model)


def _call(function: Callable, what: str, *args: Any) -> Any:
    """Call the learner's function; an exception becomes feedback that names the call."""
    try:
        return function(*args)
    except (NotImplementedError, CheckFailure):
        raise
    except Exception as error:  # noqa: BLE001  (whatever goes wrong is the learner's feedback)
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None


def _forward(model: nn.Module, X: numpy.ndarray) -> numpy.ndarray:
    return to_numpy(model(Tensor(X)).data)


def _snapshot(params: list[Any]) -> list[numpy.ndarray]:
    return [to_numpy(p.data).copy() for p in params]


def _linear_on(features: numpy.ndarray, weight: Any, bias: Any) -> numpy.ndarray:
    """features (N, F) @ weight (F, C) + bias (C,), on the host."""
    return features @ to_numpy(weight.data) + to_numpy(bias.data)


# ----------------------------------------------------------------------------- question 1: freeze
@register(
    id="11.freeze", lesson="11", points=2, names=("freeze", "trainable_parameters"),
    reference=(reference_freeze, reference_trainable_parameters),
    mutants={
        "freezes only the first layer": (_freeze_first_layer_only, reference_trainable_parameters),
        "leaves requires_grad True and only keeps the parameters out of the optimizer":
            (_freeze_by_bookkeeping, _trainable_by_bookkeeping),
        "trainable_parameters returns the frozen parameters (the head ends up frozen)":
            (reference_freeze, _trainable_inverted),
        "trainable_parameters returns every parameter, frozen or not": (reference_freeze, _trainable_all),
    },
    hint="freeze: for p in module.parameters(): p.requires_grad = False. "
         "trainable_parameters: [p for p in module.parameters() if p.requires_grad].",
)
def check_freeze(freeze: Callable, trainable_parameters: Callable, rng: numpy.random.Generator) -> None:
    """Freeze a part of a model and list what is still trainable."""
    set_backend("numpy", seed=int(rng.integers(1 << 30)))
    for case, (sizes, nested) in enumerate([((5, 8, 6, 3), True), ((4, 7, 7, 5, 2), False), ((3, 4, 2), True)]):
        model = _mlp(sizes, nested, seed=int(rng.integers(1 << 30)))
        name = _describe_model(model)
        body, head = model[:-1], model[-1]
        body_params, head_params = body.parameters(), head.parameters()

        what = f"trainable_parameters(model) before freezing anything, for the model {name}"
        listed = list(_call(trainable_parameters, what, model))
        expect(len(listed) == len(model.parameters()) and all(a is b for a, b in zip(listed, model.parameters())),
               f"{what}: expected all {len(model.parameters())} parameters in the order of model.parameters(), "
               f"got {len(listed)}.")

        what = f"freeze(model[:-1]) (the body: every layer but the last) for the model {name}"
        _call(freeze, what, body)
        still = [i for i, p in enumerate(body_params) if p.requires_grad]
        expect(not still, f"{what}: the body's parameters {still} (counting in body.parameters() order) still have "
                          f"requires_grad=True; every parameter of the module must be frozen "
                          f"({len(body_params)} of them), so that autodiff computes no gradient for them.")
        expect(all(p.requires_grad for p in head_params),
               f"{what}: the head's parameters (the last layer, not given to freeze) must stay trainable.")

        what = f"trainable_parameters(model) after {what}"
        listed = _call(trainable_parameters, what, model)
        expect(listed is not None, f"{what} returned None; did you forget `return`?")
        listed = list(listed)
        expect(all(any(p is q for q in head_params) for p in listed) and len(listed) == len(head_params),
               f"{what}: expected exactly the head's {len(head_params)} parameters (weight, bias), got "
               f"{len(listed)} parameter(s) of shapes {[tuple(p.shape) for p in listed]}.")
        expect(all(a is b for a, b in zip(listed, head_params)),
               f"{what}: return the parameters themselves, in the order of model.parameters().")

        # One real training step through the whole model, with an optimizer over the trainable parameters.
        X = rng.standard_normal((int(rng.integers(1, 7)), sizes[0])).astype(numpy.float32)
        y = rng.integers(0, sizes[-1], size=X.shape[0])
        before_body, before_head = _snapshot(body_params), _snapshot(head_params)
        optimizer = SGD(listed, lr=0.5)
        optimizer.zero_grad()
        ops.cross_entropy(model(Tensor(X)), y).backward()
        what = f"one SGD step (lr 0.5) on a batch of {X.shape[0]} after freeze(model[:-1]), for the model {name}"
        expect(all(p.grad is None for p in body_params),
               f"{what}: backward() computed a gradient for a frozen body parameter; frozen parameters have "
               "requires_grad=False so autodiff skips them (and the work of computing their gradients).")
        optimizer.step()
        for i, (p, old) in enumerate(zip(body_params, before_body)):
            expect(numpy.array_equal(to_numpy(p.data), old), f"{what}: the body's parameter {i} changed.")
        expect(any(not numpy.array_equal(to_numpy(p.data), old) for p, old in zip(head_params, before_head)),
               f"{what}: the head did not change; it must stay trainable.")

        if case == 2:  # freezing everything leaves nothing to train
            what = f"freeze(model) then trainable_parameters(model) for the model {name}"
            _call(freeze, what, model)
            listed = list(_call(trainable_parameters, what, model))
            expect(not listed, f"{what}: expected an empty list, got {len(listed)} parameter(s).")


# ----------------------------------------------------------------------------- question 2: a new head
@register(
    id="11.feature_extractor", lesson="11", points=2, names=("build_feature_extractor_with_new_head",),
    reference=(reference_build_feature_extractor_with_new_head,),
    mutants={
        "reuses the old head": (_reuse_old_head,),
        "the body is not frozen": (_head_without_freezing,),
        "freezes the new head too": (_freeze_everything,),
        "re-initializes the body instead of keeping the pretrained weights": (_fresh_body,),
        "cuts off the body's last ReLU along with the old head": (_cuts_one_layer_too_many,),
    },
    hint="body = pretrained_model[:-1]; freeze every parameter of body; return nn.Sequential(body, "
         "nn.Linear(feature_dim, num_classes)).",
)
def check_feature_extractor(build_feature_extractor_with_new_head: Callable, rng: numpy.random.Generator) -> None:
    """A frozen pretrained body with a fresh linear head."""
    set_backend("numpy", seed=int(rng.integers(1 << 30)))
    for sizes, nested, num_classes in [((6, 9, 7, 4), True, 3), ((5, 8, 8, 3), False, 3), ((4, 6, 2), False, 5)]:
        pretrained = _mlp(sizes, nested, seed=int(rng.integers(1 << 30)))
        feature_dim, old_head = sizes[-2], pretrained[-1]
        old_head_weight = to_numpy(old_head.weight.data).copy()
        X = rng.standard_normal((int(rng.integers(1, 9)), sizes[0])).astype(numpy.float32)
        y = rng.integers(0, num_classes, size=X.shape[0])
        features = _forward(pretrained[:-1], X)  # what the pretrained body computes, before anything changes
        name = _describe_model(pretrained)
        what = (f"build_feature_extractor_with_new_head(pretrained_model, feature_dim={feature_dim}, "
                f"num_classes={num_classes}) for the pretrained model {name} (its last layer is the old head, "
                f"with {sizes[-1]} classes)")
        model = _call(build_feature_extractor_with_new_head, what, pretrained, feature_dim, num_classes)
        expect(model is not None, f"{what} returned None; did you forget `return`?")
        expect(isinstance(model, nn.Module), f"{what} returned a {type(model).__name__}, not a Module.")

        logits = _call(_forward, f"model(x) for the model returned by {what}, x of shape {X.shape}", model, X)
        expect(logits.shape == (X.shape[0], num_classes),
               f"{what}: model(x) for x of shape {X.shape} has shape {logits.shape}, expected "
               f"{(X.shape[0], num_classes)}: a new head with num_classes outputs replaces the old one.")

        trainable = [p for p in model.parameters() if p.requires_grad]
        shapes = sorted(tuple(p.shape) for p in trainable)
        expect(len(trainable) > 0, f"{what}: no parameter is trainable; the new head must be (freeze the body only).")
        expect(shapes == sorted([(feature_dim, num_classes), (num_classes,)]),
               f"{what}: the trainable parameters should be exactly the new head's weight "
               f"{(feature_dim, num_classes)} and bias {(num_classes,)}, got shapes {shapes}. Freeze every "
               "parameter of the body.")
        weight = next(p for p in trainable if p.ndim == 2)
        bias = next(p for p in trainable if p.ndim == 1)
        expect(weight is not old_head.weight and not numpy.array_equal(to_numpy(weight.data), old_head_weight),
               f"{what}: the head is the pretrained model's old head; make a new nn.Linear(feature_dim, "
               "num_classes).")

        expect_close(logits, _linear_on(features, weight, bias), rtol=1e-4, atol=1e-5,
                     what=f"{what}: model(x) compared with (the pretrained body's features of x) @ head.weight + "
                          "head.bias",
                     hint="The body must be the pretrained layers themselves (every layer but the last), with "
                          "their trained weights, and the new head a Linear applied to the body's output.")

        # A few SGD steps over *all* the parameters: frozen ones have no gradient, so only the head moves.
        head_before = _snapshot([weight, bias])
        optimizer = SGD(model.parameters(), lr=0.5)
        for _ in range(3):
            optimizer.zero_grad()
            ops.cross_entropy(model(Tensor(X)), y).backward()
            optimizer.step()
        steps = f"{what}, then 3 SGD steps over model.parameters()"
        expect_close(_forward(model, X), _linear_on(features, weight, bias), rtol=1e-4, atol=1e-5,
                     what=f"{steps}: model(x) compared with (the pretrained features of x) @ head.weight + "
                          "head.bias",
                     hint="The body changed during training: it must be frozen (requires_grad = False on every "
                          "body parameter).")
        expect(not all(numpy.array_equal(to_numpy(p.data), old) for p, old in zip([weight, bias], head_before)),
               f"{steps}: the new head did not change; it must be trainable.")


# ----------------------------------------------------------------------------- question 3: two learning rates
@register(
    id="11.fine_tune", lesson="11", points=2, names=("fine_tune_optimizers",),
    reference=(reference_fine_tune_optimizers,),
    mutants={
        "the same learning rate for the body and the head": (_same_lr,),
        "learning rates swapped": (_swapped_lrs,),
        "the head is in both optimizers (updated twice)": (_head_in_both,),
        "only the head is trained": (_head_only,),
        "ignores optimizer_class (always SGD)": (_always_sgd,),
    },
    hint="[optimizer_class(model[:-1].parameters(), lr=body_lr), optimizer_class(model[-1].parameters(), "
         "lr=head_lr)]",
)
def check_fine_tune(fine_tune_optimizers: Callable, rng: numpy.random.Generator) -> None:
    """Fine-tune every parameter, the body with a smaller learning rate than the head."""
    set_backend("numpy", seed=int(rng.integers(1 << 30)))
    cases = [((5, 7, 6, 3), True, SGD, 0.01, 0.5), ((4, 6, 6, 2), False, SGD, 0.2, 0.05),
             ((3, 5, 4), False, SGD, 1e-3, 1.0), ((5, 6, 4, 3), True, Adam, 1e-3, 0.1)]
    for sizes, nested, optimizer_class, body_lr, head_lr in cases:
        model = _mlp(sizes, nested, seed=int(rng.integers(1 << 30)))
        body_params, head_params = model[:-1].parameters(), model[-1].parameters()
        what = (f"fine_tune_optimizers(model, body_lr={body_lr:g}, head_lr={head_lr:g}, "
                f"optimizer_class={optimizer_class.__name__}) for the model {_describe_model(model)}")
        optimizers = _call(fine_tune_optimizers, what, model, body_lr, head_lr, optimizer_class)
        expect(optimizers is not None, f"{what} returned None; did you forget `return`?")
        try:
            optimizers = list(optimizers)
        except TypeError:
            raise CheckFailure(f"{what} returned a {type(optimizers).__name__}; return a list of optimizers.") from None
        expect(bool(optimizers) and all(hasattr(o, "step") and hasattr(o, "zero_grad") for o in optimizers),
               f"{what}: expected a list of optimizers (objects with step() and zero_grad()), got "
               f"{[type(o).__name__ for o in optimizers]}.")
        expect(all(isinstance(o, optimizer_class) for o in optimizers),
               f"{what}: the optimizers are {[type(o).__name__ for o in optimizers]}; build them with "
               f"optimizer_class ({optimizer_class.__name__}).")

        # Instrument one step: the gradients, then where each parameter went.
        X = rng.standard_normal((int(rng.integers(1, 8)), sizes[0])).astype(numpy.float32)
        y = rng.integers(0, sizes[-1], size=X.shape[0])
        for optimizer in optimizers:
            optimizer.zero_grad()
        ops.cross_entropy(model(Tensor(X)), y).backward()
        params = body_params + head_params
        before = _snapshot(params)
        grads = [to_numpy(p.grad).astype(numpy.float64) if p.grad is not None else None for p in params]
        for optimizer in optimizers:
            optimizer.step()
        step = f"{what}, then one step of each optimizer after backward() on a batch of {X.shape[0]}"
        for i, (p, old, grad) in enumerate(zip(params, before, grads)):
            in_body = i < len(body_params)
            part, lr = ("body", body_lr) if in_body else ("head", head_lr)
            index = i if in_body else i - len(body_params)
            moved = to_numpy(p.data).astype(numpy.float64) - old
            if optimizer_class is SGD:
                expected = -lr * grad
                rule = f"-{part}_lr * grad = -{lr:g} * grad"
            else:  # Adam's first step: -lr * g / (|g| + eps), about -lr * sign(g)
                expected = -lr * grad / (numpy.abs(grad) + 1e-8)
                rule = f"about -{part}_lr * sign(grad) = -{lr:g} * sign(grad) (Adam's first step)"
            if numpy.allclose(moved, 0) and not numpy.allclose(expected, 0):
                raise CheckFailure(f"{step}: the {part}'s parameter {index} (shape {tuple(p.shape)}) did not move; "
                                   "fine-tuning trains every parameter.")
            ratio = float(numpy.sum(moved * expected) / max(float(numpy.sum(expected * expected)), 1e-30))
            expect_close(moved, expected, rtol=1e-3, atol=1e-6,
                         what=f"{step}: how far the {part}'s parameter {index} (shape {tuple(p.shape)}) moved, "
                              f"compared with {rule}",
                         hint=f"It moved about {ratio:.3g} times the expected step. The body trains with body_lr, "
                              "the head with head_lr, and each parameter belongs to exactly one optimizer.")
