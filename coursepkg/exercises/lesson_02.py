"""Lesson 02, gradient descent: the graded questions.

The learner writes the loss and its analytic gradient for linear regression (mean squared
error) and for logistic regression (binary cross-entropy), a central-difference gradient, and
the gradient-descent loop. Every function works on plain NumPy arrays in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy

from coursepkg.exercises.question import CheckFailure, as_host, describe_inputs, expect, expect_close, register


# ----------------------------------------------------------------------------- reference solutions
def reference_mse_loss_and_grad(w: numpy.ndarray, b: float, X: numpy.ndarray, y: numpy.ndarray
                      ) -> tuple[float, numpy.ndarray, float]:
    """Mean squared error of the linear model X @ w + b, and its gradient.

    Inputs: w (D,), b a number, X (N, D), y (N,).
    Returns: loss (a number), dw (D,), db (a number).
    """
    residual = X @ w + b - y
    n = X.shape[0]
    loss = numpy.mean(residual**2)
    dw = 2.0 / n * (X.T @ residual)
    db = 2.0 / n * numpy.sum(residual)
    return float(loss), dw, float(db)


def reference_logistic_loss_and_grad(w: numpy.ndarray, b: float, X: numpy.ndarray, y: numpy.ndarray
                           ) -> tuple[float, numpy.ndarray, float]:
    """Mean binary cross-entropy of sigmoid(X @ w + b) against labels y in {0, 1}, and its gradient.

    Inputs: w (D,), b a number, X (N, D), y (N,) of zeros and ones.
    Returns: loss (a number), dw (D,), db (a number).
    """
    z = X @ w + b
    n = X.shape[0]
    loss = numpy.mean(numpy.logaddexp(0.0, z) - y * z)  # log(1 + e^z) - y z, never overflows
    p = numpy.exp(-numpy.logaddexp(0.0, -z))  # sigmoid(z) = 1 / (1 + e^-z), computed stably
    dw = X.T @ (p - y) / n
    db = numpy.sum(p - y) / n
    return float(loss), dw, float(db)


def reference_numerical_gradient(f: Callable[[numpy.ndarray], float], x: numpy.ndarray,
                                 h: float = 1e-5) -> numpy.ndarray:
    """Central-difference gradient of the scalar f at x: (f(x + h e_i) - f(x - h e_i)) / (2 h).

    Inputs: f, a function of an array returning a number; x, a float array of any shape; h > 0.
    Returns: an array of x's shape. x is left unchanged.
    """
    grad = numpy.zeros(x.shape, dtype=numpy.float64)
    for index in numpy.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x)
        x[index] = old - h
        minus = f(x)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def reference_gradient_descent(loss_and_grad: Callable[..., tuple], w: numpy.ndarray, b: float, X: numpy.ndarray,
                     y: numpy.ndarray, lr: float, steps: int) -> tuple[numpy.ndarray, float, list[float]]:
    """Run ``steps`` steps of w <- w - lr dw, b <- b - lr db.

    Inputs: loss_and_grad(w, b, X, y) -> (loss, dw, db); the starting w (D,) and b; the data;
    the learning rate; the number of steps.
    Returns: the final w and b, and the list of the ``steps`` losses, each measured *before* its update.
    """
    losses = []
    for _ in range(steps):
        loss, dw, db = loss_and_grad(w, b, X, y)
        losses.append(loss)
        w = w - lr * dw
        b = b - lr * db
    return w, b, losses


# ----------------------------------------------------------------------------- planted wrong answers
def _mse_sum(w, b, X, y):
    residual = X @ w + b - y
    return float(numpy.sum(residual**2)), 2 * X.T @ residual, float(2 * numpy.sum(residual))


def _mse_no_two(w, b, X, y):
    loss, dw, db = reference_mse_loss_and_grad(w, b, X, y)
    return loss, dw / 2, db / 2


def _mse_no_bias_grad(w, b, X, y):
    loss, dw, _ = reference_mse_loss_and_grad(w, b, X, y)
    return loss, dw, 0.0


def _mse_wrong_sign(w, b, X, y):
    loss, dw, db = reference_mse_loss_and_grad(w, b, X, y)
    return loss, -dw, -db


def _mse_ignores_bias(w, b, X, y):
    return reference_mse_loss_and_grad(w, 0.0, X, y)


def _logistic_naive(w, b, X, y):
    z = X @ w + b
    with numpy.errstate(divide="ignore", over="ignore", invalid="ignore"):
        p = 1 / (1 + numpy.exp(-z))
        loss = -numpy.mean(y * numpy.log(p) + (1 - y) * numpy.log(1 - p))
    _, dw, db = reference_logistic_loss_and_grad(w, b, X, y)
    return float(loss), dw, db


def _logistic_wrong_sign(w, b, X, y):
    loss, dw, db = reference_logistic_loss_and_grad(w, b, X, y)
    return loss, -dw, -db


def _logistic_sigmoid_derivative(w, b, X, y):
    loss, _, _ = reference_logistic_loss_and_grad(w, b, X, y)
    z = X @ w + b
    p = numpy.exp(-numpy.logaddexp(0.0, -z))
    delta = (p - y) * p * (1 - p)  # the MSE-through-a-sigmoid gradient, not cross-entropy's
    return loss, X.T @ delta / len(y), float(numpy.mean(delta))


def _logistic_no_mean(w, b, X, y):
    loss, dw, db = reference_logistic_loss_and_grad(w, b, X, y)
    return loss, dw * len(y), db * len(y)


def _numgrad_forward(f, x, h=1e-5):
    grad = numpy.zeros(x.shape)
    base = f(x)
    for index in numpy.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        grad[index] = (f(x) - base) / h
        x[index] = old
    return grad


def _numgrad_over_h(f, x, h=1e-5):
    return 2 * reference_numerical_gradient(f, x, h)


def _numgrad_fixed_step(f, x, h=1e-5):
    return reference_numerical_gradient(f, x, 1e-6)


def _numgrad_no_restore(f, x, h=1e-5):
    grad = numpy.zeros(x.shape)
    for index in numpy.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x)
        x[index] = old - h
        minus = f(x)
        grad[index] = (plus - minus) / (2 * h)
    return grad


def _gd_ascent(loss_and_grad, w, b, X, y, lr, steps):
    return reference_gradient_descent(loss_and_grad, w, b, X, y, -lr, steps)


def _gd_loss_after_update(loss_and_grad, w, b, X, y, lr, steps):
    w, b, _ = reference_gradient_descent(loss_and_grad, w, b, X, y, lr, 1)
    w, b, losses = reference_gradient_descent(loss_and_grad, w, b, X, y, lr, steps)
    return w, b, losses


def _gd_bias_frozen(loss_and_grad, w, b, X, y, lr, steps):
    losses = []
    for _ in range(steps):
        loss, dw, _ = loss_and_grad(w, b, X, y)
        losses.append(loss)
        w = w - lr * dw
    return w, b, losses


# ----------------------------------------------------------------------------- helpers
def _regression_case(rng: numpy.random.Generator, n: int, d: int) -> tuple:
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    b = float(rng.standard_normal())
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    return w, b, X, y


def _classification_case(rng: numpy.random.Generator, n: int, d: int) -> tuple:
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    b = float(rng.standard_normal())
    y = (rng.random(n) < 0.5).astype(numpy.float64)
    return w, b, X, y


def _check_loss_and_grad(learner: Callable, reference: Callable, name: str, w, b, X, y, hint: str = "") -> None:
    result = learner(w.copy(), b, X.copy(), y.copy())
    what = f"{name}(w, b, X, y) with {describe_inputs(w=w, b=b, X=X, y=y)}"
    expect(isinstance(result, (tuple, list)) and len(result) == 3,
           f"{what} should return a tuple (loss, dw, db); got {type(result).__name__}"
           + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".")
    loss, dw, db = result
    expected_loss, expected_dw, expected_db = reference(w, b, X, y)
    expect_close(loss, expected_loss, what=f"{what}: the loss", rtol=1e-6, hint=hint)
    expect_close(dw, expected_dw, what=f"{what}: dw", rtol=1e-6)
    expect_close(db, expected_db, what=f"{what}: db", rtol=1e-6, atol=1e-10)


# ----------------------------------------------------------------------------- the questions
@register(
    id="02.mse", lesson="02", points=2, names=("mse_loss_and_grad",),
    reference=(reference_mse_loss_and_grad,),
    mutants={
        "sum instead of mean": (_mse_sum,),
        "forgot the factor 2 of the derivative of a square": (_mse_no_two,),
        "forgot the bias gradient": (_mse_no_bias_grad,),
        "sign error: (y - prediction) instead of (prediction - y)": (_mse_wrong_sign,),
        "prediction without the bias": (_mse_ignores_bias,),
    },
    hint="With r = X @ w + b - y: loss = mean(r**2), dw = 2/N * X.T @ r, db = 2/N * sum(r).",
)
def check_mse(mse_loss_and_grad: Callable, rng: numpy.random.Generator) -> None:
    """Mean squared error of a linear model and its gradient."""
    for n, d in [(5, 1), (1, 3), (20, 4), (7, 2)]:
        _check_loss_and_grad(mse_loss_and_grad, reference_mse_loss_and_grad, "mse_loss_and_grad",
                             *_regression_case(rng, n, d))


@register(
    id="02.logistic", lesson="02", points=2, names=("logistic_loss_and_grad",),
    reference=(reference_logistic_loss_and_grad,),
    mutants={
        "log(sigmoid) computed naively: infinite loss for confident mistakes": (_logistic_naive,),
        "sign error in the gradient": (_logistic_wrong_sign,),
        "multiplied by sigmoid'(z) as if the loss were squared error": (_logistic_sigmoid_derivative,),
        "forgot to divide the gradient by N": (_logistic_no_mean,),
    },
    hint="With z = X @ w + b and p = sigmoid(z): loss = mean(logaddexp(0, z) - y z), "
         "dw = X.T @ (p - y) / N, db = mean(p - y).",
)
def check_logistic(logistic_loss_and_grad: Callable, rng: numpy.random.Generator) -> None:
    """Binary cross-entropy of logistic regression and its gradient."""
    reference = reference_logistic_loss_and_grad
    for n, d in [(6, 1), (1, 3), (25, 4), (8, 2)]:
        _check_loss_and_grad(logistic_loss_and_grad, reference, "logistic_loss_and_grad",
                             *_classification_case(rng, n, d))
    # Confident mistakes: z = +40 with label 0 and z = -40 with label 1. 1 - sigmoid(40) rounds to 0.
    X = numpy.array([[40.0], [-40.0], [0.5], [-2.0]])
    y = numpy.array([0.0, 1.0, 1.0, 0.0])
    _check_loss_and_grad(logistic_loss_and_grad, reference, "logistic_loss_and_grad",
                         numpy.array([1.0]), 0.0, X, y,
                         hint="For large |z|, 1 - sigmoid(z) rounds to 0 and its log is -inf. Compute the loss "
                              "per example as log(1 + exp(z)) - y z, with numpy.logaddexp(0, z).")


@register(
    id="02.numerical_gradient", lesson="02", points=2, names=("numerical_gradient",),
    reference=(reference_numerical_gradient,),
    mutants={
        "one-sided (forward) difference": (_numgrad_forward,),
        "divides by h instead of 2 h": (_numgrad_over_h,),
        "ignores the step h it is given": (_numgrad_fixed_step,),
        "does not restore x after perturbing it": (_numgrad_no_restore,),
    },
    hint="For each index i: save x[i], set x[i] = old + h and evaluate f, set x[i] = old - h and evaluate f, "
         "restore x[i] = old, and store (f_plus - f_minus) / (2 h). numpy.ndindex(x.shape) visits every index.",
)
def check_numerical_gradient(numerical_gradient: Callable, rng: numpy.random.Generator) -> None:
    """Central-difference gradient of a scalar function."""
    reference = reference_numerical_gradient
    A = rng.standard_normal((3, 3))
    cases = [
        ("f(x) = sum(x**3)", lambda x: float(numpy.sum(x**3)), rng.standard_normal(4), 1e-3),
        ("f(x) = sum(x**3)", lambda x: float(numpy.sum(x**3)), rng.standard_normal(3), 0.1),
        ("f(x) = sum(exp(2 x))", lambda x: float(numpy.sum(numpy.exp(2 * x))), rng.standard_normal((2, 3)), 1e-4),
        ("f(X) = sum(tanh(A @ X))**2 (not separable)",
         lambda x: float(numpy.sum(numpy.tanh(A @ x)) ** 2), rng.standard_normal((3, 2)), 1e-5),
        ("f(x) = sum(sin(x)) * x[0, 0, 0]",
         lambda x: float(numpy.sum(numpy.sin(x)) * x[0, 0, 0]), rng.standard_normal((2, 1, 2)), 1e-4),
        ("f(x) = x[0]**2", lambda x: float(x[0] ** 2), numpy.array([0.7]), 1e-3),
    ]
    for name, f, x, h in cases:
        before = x.copy()
        what = f"numerical_gradient(f, x, h={h:g}) for {name} with {describe_inputs(x=x)}"
        got = numerical_gradient(f, x, h)
        expect(numpy.array_equal(x, before),
               f"{what}: x was changed by the call (max change {numpy.max(numpy.abs(x - before)):.3g}); "
               "put every perturbed element back to its old value.")
        expected = reference(f, before.copy(), h)
        try:
            got_host = as_host(got)
        except Exception:  # noqa: BLE001
            raise CheckFailure(f"{what} returned {type(got).__name__}, not an array.") from None
        hint = ""
        if got_host.shape == expected.shape and numpy.allclose(got_host, 2 * expected, rtol=1e-6):
            hint = "Your values are exactly twice the central difference: divide by 2 h."
        elif got_host.shape == expected.shape and numpy.allclose(got_host, expected / 2, rtol=1e-6):
            hint = "Your values are exactly half the central difference: divide by 2 h, not 4 h."
        expect_close(got, expected, what=what, rtol=1e-6, atol=1e-9,
                     hint=hint or "Use the central difference (f(x + h e_i) - f(x - h e_i)) / (2 h) with the h given.")


@register(
    id="02.gradient_descent", lesson="02", points=1, names=("gradient_descent",),
    reference=(reference_gradient_descent,),
    mutants={
        "gradient ascent (adds the gradient)": (_gd_ascent,),
        "records the loss after the update instead of before": (_gd_loss_after_update,),
        "never updates the bias": (_gd_bias_frozen,),
    },
    hint="Each step: loss, dw, db = loss_and_grad(w, b, X, y); append loss; then w = w - lr * dw and "
         "b = b - lr * db.",
)
def check_gradient_descent(gradient_descent: Callable, rng: numpy.random.Generator) -> None:
    """The gradient-descent loop."""
    reference = reference_gradient_descent
    cases = [
        (reference_mse_loss_and_grad, "mse_loss_and_grad", _regression_case(rng, 30, 2), 0.1, 25),
        (reference_logistic_loss_and_grad, "logistic_loss_and_grad", _classification_case(rng, 20, 3), 0.5, 10),
        (reference_mse_loss_and_grad, "mse_loss_and_grad", _regression_case(rng, 8, 1), 0.05, 1),
    ]
    for loss_and_grad, name, (w, b, X, y), lr, steps in cases:
        what = (f"gradient_descent({name}, w, b, X, y, lr={lr}, steps={steps}) with "
                f"{describe_inputs(w=w, b=b, X=X)}")
        result = gradient_descent(loss_and_grad, w.copy(), b, X, y, lr, steps)
        expect(isinstance(result, (tuple, list)) and len(result) == 3,
               f"{what} should return a tuple (w, b, losses); got {type(result).__name__}.")
        got_w, got_b, got_losses = result
        expected_w, expected_b, expected_losses = reference(loss_and_grad, w.copy(), b, X, y, lr, steps)
        expect_close(numpy.asarray(got_losses, dtype=float), numpy.asarray(expected_losses),
                     what=f"{what}: the list of losses", rtol=1e-6,
                     hint="losses[k] is the loss at the parameters before update k, one per step.")
        expect_close(got_w, expected_w, what=f"{what}: the final w", rtol=1e-6)
        expect_close(got_b, expected_b, what=f"{what}: the final b", rtol=1e-6)


