"""Lesson 04, automatic differentiation: the graded questions.

Two groups of exercises, on plain NumPy arrays and Python numbers:

- **Backward rules with broadcasting** (vector-Jacobian products): ``unbroadcast``,
  ``add_backward``, ``mul_backward``, ``matmul_backward`` and ``sum_backward``. Each is checked
  against central differences of  sum(forward(inputs) * grad)  in float64, whose gradient with
  respect to an input is exactly what the rule must return.
- **The engine**: ``topological_order(root)`` on graphs of nodes with a ``parents`` attribute,
  and ``backward(root)`` on the scalar :class:`Value` class below (the one the notebook uses),
  checked against central differences on random expressions where nodes are used several times.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from coursepkg.exercises.question import CheckFailure, as_host, describe_inputs, expect, expect_close, register
from coursepkg.gradcheck import numerical_gradient

NUMERIC_RTOL, NUMERIC_ATOL = 1e-6, 1e-8  # the rules are (bi)linear: central differences are nearly exact


# ----------------------------------------------------------------------------- the scalar engine
class Value:
    """A number that remembers how it was computed (the notebook's class, micrograd-style).

    Attributes:
    - data: the number (a Python float).
    - grad: d(root)/d(this value), filled in by ``backward(root)``; starts at 0.0.
    - parents: the Values this one was computed from (a tuple; empty for inputs). The same
      Value appears twice in ``a * a``.
    - local_grads: d(this value)/d(parent), one number per parent, in the order of ``parents``.
    - op: a label for drawing ("+", "*", "tanh", ...; "" for inputs).
    """

    def __init__(self, data: float, parents: tuple = (), local_grads: tuple = (), op: str = "",
                 label: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.local_grads = tuple(local_grads)
        self.op = op
        self.label = label

    def __repr__(self) -> str:
        return f"Value({self.label or self.op or 'input'}: data={self.data:.4g}, grad={self.grad:.4g})"

    def __add__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, exponent: float) -> Value:
        return Value(self.data**exponent, (self,), (exponent * self.data ** (exponent - 1),), f"**{exponent:g}")

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value(t, (self,), (1 - t * t,), "tanh")

    def exp(self) -> Value:
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Any) -> Value:
        return self + (-other if isinstance(other, Value) else Value(-other))

    def __radd__(self, other: Any) -> Value:
        return self + other

    def __rmul__(self, other: Any) -> Value:
        return self * other


class Node:
    """A bare graph node for the topological-order checks: a name and the nodes it depends on."""

    def __init__(self, name: str, parents: Sequence[Node] = ()) -> None:
        self.name = name
        self.parents = tuple(parents)

    def __repr__(self) -> str:
        return f"Node({self.name!r})"


# ----------------------------------------------------------------------------- reference solutions
def reference_unbroadcast(grad: numpy.ndarray, shape: tuple[int, ...]) -> numpy.ndarray:
    """Sum ``grad`` down to ``shape``, the shape of an input before broadcasting.

    Inputs: grad of the broadcast shape, e.g. (N, M); shape, e.g. (M,), (N, 1), (1, M) or ().
    Returns: an array of shape ``shape``.
    """
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra)))  # axes that broadcasting added in front
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True)  # axes of size 1 that were stretched


def reference_add_backward(grad: numpy.ndarray, a_shape: tuple[int, ...], b_shape: tuple[int, ...]
                           ) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Backward of out = a + b with broadcasting: (da, db) of shapes a_shape and b_shape."""
    return reference_unbroadcast(grad, a_shape), reference_unbroadcast(grad, b_shape)


def reference_mul_backward(grad: numpy.ndarray, a: numpy.ndarray, b: numpy.ndarray
                           ) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Backward of out = a * b (elementwise, broadcasting): (da, db) with the shapes of a and b."""
    return reference_unbroadcast(grad * b, numpy.shape(a)), reference_unbroadcast(grad * a, numpy.shape(b))


def reference_matmul_backward(grad: numpy.ndarray, a: numpy.ndarray, b: numpy.ndarray
                              ) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Backward of out = a @ b for a (..., N, K) and b (..., K, M): (da, db) with their shapes."""
    da = grad @ numpy.swapaxes(b, -1, -2)
    db = numpy.swapaxes(a, -1, -2) @ grad
    return reference_unbroadcast(da, a.shape), reference_unbroadcast(db, b.shape)


def reference_sum_backward(grad: numpy.ndarray, input_shape: tuple[int, ...], axis: Any, keepdims: bool
                           ) -> numpy.ndarray:
    """Backward of out = x.sum(axis=axis, keepdims=keepdims): every summed element gets the gradient.

    Inputs: grad of out's shape; the input's shape; axis (None, an int or a tuple, maybe negative);
    keepdims. Returns: an array of shape input_shape.
    """
    if not keepdims:
        axes = range(len(input_shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
        grad = numpy.expand_dims(grad, tuple(a % len(input_shape) for a in axes))
    return numpy.broadcast_to(grad, input_shape).copy()


def reference_topological_order(root: Any) -> list:
    """Every node ``root`` depends on (``root`` included), once each, every node after its parents."""
    order, visited = [], set()

    def visit(node: Any) -> None:
        if id(node) in visited:
            return
        visited.add(id(node))
        for parent in node.parents:
            visit(parent)
        order.append(node)

    visit(root)
    return order


def reference_backward(root: Value) -> None:
    """Fill ``grad`` of every Value ``root`` depends on with d(root)/d(value), adding into it."""
    root.grad = 1.0
    for node in reversed(reference_topological_order(root)):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += local * node.grad


# ----------------------------------------------------------------------------- planted wrong answers
def _unbroadcast_leading_only(grad, shape):
    return grad.sum(axis=tuple(range(grad.ndim - len(shape))))


def _unbroadcast_no_keepdims(grad, shape):
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched)


def _unbroadcast_from_the_left(grad, shape):
    grad = grad.sum(axis=tuple(range(len(shape), grad.ndim)))  # sums trailing axes: aligned on the wrong side
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True)


def _unbroadcast_mean(grad, shape):
    return reference_unbroadcast(grad, shape) * math.prod(shape) / grad.size


def _add_no_unbroadcast(grad, a_shape, b_shape):
    return grad, grad


def _add_sum_everything(grad, a_shape, b_shape):
    return grad.sum(), grad.sum()


def _add_keepdims_forgotten(grad, a_shape, b_shape):
    return _unbroadcast_no_keepdims(grad, a_shape), _unbroadcast_no_keepdims(grad, b_shape)


def _mul_no_swap(grad, a, b):
    return reference_unbroadcast(grad * a, numpy.shape(a)), reference_unbroadcast(grad * b, numpy.shape(b))


def _mul_no_unbroadcast(grad, a, b):
    return grad * b, grad * a


def _mul_ignores_grad(grad, a, b):
    return reference_mul_backward(numpy.ones_like(grad), a, b)


def _matmul_no_transpose(grad, a, b):
    return grad @ b, reference_matmul_backward(grad, a, b)[1]


def _matmul_db_transposed(grad, a, b):
    da, db = reference_matmul_backward(grad, a, b)
    return da, numpy.swapaxes(db, -1, -2)


def _matmul_dot_t(grad, a, b):
    return grad @ b.T, a.T @ grad  # .T reverses ALL axes: wrong for stacks of matrices


def _matmul_no_unbroadcast(grad, a, b):
    return grad @ numpy.swapaxes(b, -1, -2), numpy.swapaxes(a, -1, -2) @ grad


def _matmul_swapped(grad, a, b):
    da, db = reference_matmul_backward(grad, a, b)
    return db, da


def _sum_keepdims_forgotten(grad, input_shape, axis, keepdims):
    return numpy.broadcast_to(grad, input_shape).copy()


def _sum_mean_rule(grad, input_shape, axis, keepdims):
    out = reference_sum_backward(grad, input_shape, axis, keepdims)
    return out * math.prod(numpy.shape(grad)) / math.prod(input_shape)


def _sum_always_expands(grad, input_shape, axis, keepdims):
    axes = range(len(input_shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    grad = numpy.expand_dims(grad, tuple(a % len(input_shape) for a in axes))
    return numpy.broadcast_to(grad, input_shape).copy()


def _sum_returns_grad(grad, input_shape, axis, keepdims):
    return grad


def _topo_reversed(root):
    return reference_topological_order(root)[::-1]


def _topo_duplicates(root):
    order = []

    def visit(node):
        for parent in node.parents:
            visit(parent)
        order.append(node)

    visit(root)
    return order


def _topo_reversed_bfs(root):
    seen, queue, order = {id(root)}, [root], []
    while queue:
        node = queue.pop(0)
        order.append(node)
        for parent in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    return order[::-1]


def _topo_forgets_inputs(root):
    return [node for node in reference_topological_order(root) if node.parents]


def _backward_overwrites(root):
    root.grad = 1.0
    for node in reversed(reference_topological_order(root)):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad = local * node.grad


def _backward_wrong_order(root):
    root.grad = 1.0
    for node in reference_topological_order(root):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += local * node.grad


def _backward_no_seed(root):
    for node in reversed(reference_topological_order(root)):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += local * node.grad


def _backward_parent_grad(root):
    root.grad = 1.0
    for node in reversed(reference_topological_order(root)):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += local * parent.grad


# ----------------------------------------------------------------------------- helpers
def _call(function: Callable, what: str, *args: Any) -> Any:
    """Call the learner's function; an error it raises becomes feedback that names the call."""
    try:
        return function(*args)
    except (NotImplementedError, CheckFailure):
        raise
    except RecursionError:
        raise
    except Exception as error:  # noqa: BLE001  (a learner's bug is feedback, not a crash)
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None


def _expect_gradient(got: Any, expected: numpy.ndarray, what: str, hint: str = "") -> None:
    """Shape first (the most common mistake with broadcasting), then values."""
    expect(got is not None, f"{what} is None; did you forget `return`?")
    try:
        shape = tuple(as_host(got).shape)
    except Exception:  # noqa: BLE001
        raise CheckFailure(f"{what} is {type(got).__name__}, not an array.") from None
    if shape != expected.shape:
        raise CheckFailure(f"{what}: expected shape {expected.shape} (the shape of the input), got {shape}."
                           + (f" Hint: {hint}" if hint else ""))
    expect_close(got, expected, what=what + " (checked against central differences)", rtol=NUMERIC_RTOL,
                 atol=NUMERIC_ATOL, hint=hint)


def _pair(result: Any, what: str) -> tuple[Any, Any]:
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"{what} should return a tuple (da, db); got {type(result).__name__}"
           + (f" of length {len(result)}." if isinstance(result, (tuple, list)) else "."))
    return result[0], result[1]


def _numeric(forward: Callable[[], Any], x: numpy.ndarray, grad: numpy.ndarray) -> numpy.ndarray:
    """Central differences of sum(forward() * grad) with respect to x (changed in place, restored)."""
    return numerical_gradient(lambda: numpy.sum(forward() * grad), x)


UNBROADCAST_HINT = ("Sum over the leading axes that broadcasting added, then over every axis where shape has a 1 "
                    "but grad does not, with keepdims=True.")
BROADCAST_SHAPES = [  # (shape of a, shape of b): out has the broadcast shape
    ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (2, 3)), ((4, 4), (4,)),
    ((1,), (5,)), ((2, 3), (2, 3)), ((1, 1), (3,)), ((2, 1, 3), (4, 1)),
]


# ----------------------------------------------------------------------------- backward rules
@register(
    id="04.unbroadcast", lesson="04", points=2, names=("unbroadcast",),
    reference=(reference_unbroadcast,),
    mutants={
        "sums the added leading axes only, not the stretched size-1 axes": (_unbroadcast_leading_only,),
        "sums the stretched size-1 axes without keepdims": (_unbroadcast_no_keepdims,),
        "aligns the shapes on the left: sums trailing axes": (_unbroadcast_from_the_left,),
        "averages instead of summing": (_unbroadcast_mean,),
    },
    hint=UNBROADCAST_HINT,
)
def check_unbroadcast(unbroadcast: Callable, rng: numpy.random.Generator) -> None:
    """Sum a gradient back down to the shape of an input that was broadcast."""
    for a_shape, b_shape in BROADCAST_SHAPES:
        out_shape = numpy.broadcast_shapes(a_shape, b_shape)
        for shape in (a_shape, b_shape):
            grad = rng.standard_normal(out_shape)
            x = rng.standard_normal(shape)
            what = f"unbroadcast(grad, shape={shape}) with {describe_inputs(grad=grad)}"
            got = _call(unbroadcast, what, grad.copy(), shape)
            expected = _numeric(lambda x=x, out_shape=out_shape: numpy.broadcast_to(x, out_shape), x, grad)
            _expect_gradient(got, expected, what, hint=UNBROADCAST_HINT)


@register(
    id="04.add_backward", lesson="04", points=1, names=("add_backward",),
    reference=(reference_add_backward,),
    mutants={
        "no un-broadcasting: returns grad for both": (_add_no_unbroadcast,),
        "sums over every axis: one number each": (_add_sum_everything,),
        "sums the stretched axes without keepdims": (_add_keepdims_forgotten,),
    },
    hint="Addition passes the gradient on unchanged, then each input sums it down to its own shape: "
         "(unbroadcast(grad, a_shape), unbroadcast(grad, b_shape)).",
)
def check_add_backward(add_backward: Callable, rng: numpy.random.Generator) -> None:
    """Backward of a + b with broadcasting."""
    for a_shape, b_shape in BROADCAST_SHAPES:
        a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
        grad = rng.standard_normal(numpy.broadcast_shapes(a_shape, b_shape))
        what = f"add_backward(grad, a_shape={a_shape}, b_shape={b_shape}) with {describe_inputs(grad=grad)}"
        da, db = _pair(_call(add_backward, what, grad.copy(), a_shape, b_shape), what)
        _expect_gradient(da, _numeric(lambda a=a, b=b: a + b, a, grad), what + ": da")
        _expect_gradient(db, _numeric(lambda a=a, b=b: a + b, b, grad), what + ": db")


@register(
    id="04.mul_backward", lesson="04", points=1, names=("mul_backward",),
    reference=(reference_mul_backward,),
    mutants={
        "no swap: da = grad * a": (_mul_no_swap,),
        "no un-broadcasting": (_mul_no_unbroadcast,),
        "ignores grad": (_mul_ignores_grad,),
    },
    hint="Multiplication swaps its inputs: da = unbroadcast(grad * b, a.shape), db = unbroadcast(grad * a, b.shape).",
)
def check_mul_backward(mul_backward: Callable, rng: numpy.random.Generator) -> None:
    """Backward of a * b (elementwise) with broadcasting."""
    for a_shape, b_shape in BROADCAST_SHAPES:
        a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
        grad = rng.standard_normal(numpy.broadcast_shapes(a_shape, b_shape))
        what = f"mul_backward(grad, a, b) with {describe_inputs(grad=grad, a=a, b=b)}"
        da, db = _pair(_call(mul_backward, what, grad.copy(), a.copy(), b.copy()), what)
        _expect_gradient(da, _numeric(lambda a=a, b=b: a * b, a, grad), what + ": da")
        _expect_gradient(db, _numeric(lambda a=a, b=b: a * b, b, grad), what + ": db")


@register(
    id="04.matmul_backward", lesson="04", points=2, names=("matmul_backward",),
    reference=(reference_matmul_backward,),
    mutants={
        "da = grad @ b (missing transpose)": (_matmul_no_transpose,),
        "db transposed: (a^T grad)^T = grad^T a": (_matmul_db_transposed,),
        "a.T and b.T reverse all axes of a stack of matrices": (_matmul_dot_t,),
        "no un-broadcasting: a weight shared by the batch keeps the batch axis": (_matmul_no_unbroadcast,),
        "da and db returned in swapped order": (_matmul_swapped,),
    },
    hint="da = grad @ swapaxes(b, -1, -2), db = swapaxes(a, -1, -2) @ grad, then un-broadcast each to its input's "
         "shape (a b of shape (K, M) shared by a stack a of shape (B, N, K) sums over B).",
)
def check_matmul_backward(matmul_backward: Callable, rng: numpy.random.Generator) -> None:
    """Backward of a @ b, including a stack of matrices times one shared matrix."""
    for a_shape, b_shape in [((3, 4), (4, 2)), ((1, 3), (3, 1)), ((3, 3), (3, 3)), ((2, 3, 4), (4, 5)),
                             ((2, 3, 4), (2, 4, 5)), ((5, 2), (2, 2))]:
        a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
        grad = rng.standard_normal((a @ b).shape)
        what = f"matmul_backward(grad, a, b) with {describe_inputs(grad=grad, a=a, b=b)}"
        da, db = _pair(_call(matmul_backward, what, grad.copy(), a.copy(), b.copy()), what)
        _expect_gradient(da, _numeric(lambda a=a, b=b: a @ b, a, grad), what + ": da")
        _expect_gradient(db, _numeric(lambda a=a, b=b: a @ b, b, grad), what + ": db")


@register(
    id="04.sum_backward", lesson="04", points=2, names=("sum_backward",),
    reference=(reference_sum_backward,),
    mutants={
        "keepdims forgotten: broadcasts grad without re-inserting the summed axes": (_sum_keepdims_forgotten,),
        "divides by the number of summed elements (the rule of mean)": (_sum_mean_rule,),
        "re-inserts the summed axes even when keepdims=True": (_sum_always_expands,),
        "returns grad unchanged": (_sum_returns_grad,),
    },
    hint="When keepdims is False, put the summed axes back as size 1 (np.expand_dims), then np.broadcast_to the "
         "input's shape: every element that was summed receives the same gradient.",
)
def check_sum_backward(sum_backward: Callable, rng: numpy.random.Generator) -> None:
    """Backward of x.sum(axis, keepdims)."""
    for shape, axis, keepdims in [((3, 4), 0, False), ((3, 4), 1, False), ((4, 4), 1, False), ((3, 4), 1, True),
                                  ((2, 3, 4), (0, 2), False), ((2, 3, 4), None, False), ((2, 3), -1, True),
                                  ((5,), None, True), ((2, 3, 4), -2, False), ((1, 3), 0, False)]:
        x = rng.standard_normal(shape)
        grad = numpy.asarray(rng.standard_normal(numpy.sum(x, axis=axis, keepdims=keepdims).shape))
        what = (f"sum_backward(grad, input_shape={shape}, axis={axis}, keepdims={keepdims}) with "
                f"{describe_inputs(grad=grad)}")
        got = _call(sum_backward, what, grad.copy(), shape, axis, keepdims)
        expected = _numeric(lambda x=x, axis=axis, keepdims=keepdims: numpy.sum(x, axis=axis, keepdims=keepdims),
                            x, grad)
        _expect_gradient(got, expected, what)


# ----------------------------------------------------------------------------- the engine
def _random_dag(rng: numpy.random.Generator, n_inputs: int, n_ops: int) -> Node:
    """A random graph: every op uses the newest node and one or two earlier ones (so nodes are shared)."""
    nodes = [Node(f"x{i}") for i in range(n_inputs)]
    for k in range(n_ops):
        others = [nodes[int(i)] for i in rng.integers(len(nodes), size=int(rng.integers(1, 3)))]
        nodes.append(Node(f"n{k}", [nodes[-1], *others]))
    return nodes[-1]


def _describe_graph(root: Node) -> str:
    edges = [f"{p.name}->{n.name}" for n in reference_topological_order(root) for p in n.parents]
    text = ", ".join(edges)
    if not edges:
        return f"a graph of one node {root.name!r} with no inputs"
    return f"the graph {{{text if len(text) <= 160 else text[:157] + '...'}}} (root {root.name})"


def _graphs(rng: numpy.random.Generator) -> list[Node]:
    x = Node("x")
    single = Node("root")
    chain = Node("c", [Node("b", [Node("a")])])
    square = Node("y", [x, x])  # y = x * x: x is a parent twice
    a, b = Node("a"), Node("b")
    u = Node("u", [a, b])
    diamond = Node("out", [Node("v", [u]), Node("w", [u, b])])
    x2 = Node("x")  # reached by a short path (x -> out) and a long one (x -> p -> q -> out)
    shortcut = Node("out", [Node("q", [Node("p", [x2])]), x2])
    deep = Node("n0")
    for k in range(1, 200):
        deep = Node(f"n{k}", [deep])
    return [single, chain, square, diamond, shortcut, deep,
            _random_dag(rng, 3, 8), _random_dag(rng, 2, 15), _random_dag(rng, 4, 30)]


@register(
    id="04.topological_order", lesson="04", points=2, names=("topological_order",),
    reference=(reference_topological_order,),
    mutants={
        "reversed: the root first": (_topo_reversed,),
        "no visited set: shared nodes appear several times": (_topo_duplicates,),
        "reversed breadth-first search": (_topo_reversed_bfs,),
        "leaves out the inputs (nodes without parents)": (_topo_forgets_inputs,),
    },
    hint="Depth-first search: visit(node) returns at once if node was visited; otherwise marks it, visits each "
         "parent, then appends node. The list ends with the root.",
)
def check_topological_order(topological_order: Callable, rng: numpy.random.Generator) -> None:
    """Every node of a graph, once, each after the nodes it depends on."""
    for root in _graphs(rng):
        what = f"topological_order(root) on {_describe_graph(root)}"
        got = _call(topological_order, what, root)
        expect(isinstance(got, (list, tuple)), f"{what} returned {type(got).__name__}; return a list of nodes.")
        expect(all(isinstance(node, Node) for node in got),
               f"{what}: the list holds {sorted({type(node).__name__ for node in got})}; return the nodes themselves.")
        expected = reference_topological_order(root)
        names = [node.name for node in got]
        position = {}
        for index, node in enumerate(got):
            expect(id(node) not in position, f"{what}: node {node.name!r} appears more than once (first at "
                                             f"position {position.get(id(node))}, again at {index}); a node used by "
                                             "several others must be listed once. Keep a set of visited nodes.")
            position[id(node)] = index
        missing = [node.name for node in expected if id(node) not in position]
        expect(not missing, f"{what}: the nodes {missing} are missing (got {names[:20]}).")
        expect(len(got) == len(expected), f"{what}: {len(got) - len(expected)} node(s) that are not in the graph.")
        for node in got:
            for parent in node.parents:
                expect(position[id(parent)] < position[id(node)],
                       f"{what}: node {node.name!r} (position {position[id(node)]}) comes before its input "
                       f"{parent.name!r} (position {position[id(parent)]}); every node must come after the nodes "
                       f"it depends on, so the root is last. Got the order {names[:20]}.")


def _leaf_values(rng: numpy.random.Generator, n: int) -> list[float]:
    return [float(v) for v in rng.uniform(-1.5, 1.5, size=n)]


def _random_expression(rng: numpy.random.Generator, n_inputs: int, n_ops: int) -> Callable[[list], Value]:
    """A random program over ``n_inputs`` inputs; every op uses the newest value, so all of it matters.

    The ops keep values of moderate size (factors go through tanh), so central differences stay accurate.
    """
    program = []
    for k in range(n_ops):
        op = str(rng.choice(["+", "*", "tanh", "square", "exp"]))
        program.append((op, int(rng.integers(n_inputs + k))))  # the other operand may be the newest value too

    def build(inputs: list) -> Value:
        values = list(inputs)
        for op, other in program:
            last, other_value = values[-1], values[other]
            if op == "+":
                values.append(last + other_value)
            elif op == "*":
                values.append(last * other_value.tanh())
            elif op == "tanh":
                values.append((last + other_value).tanh())
            elif op == "square":
                t = last.tanh()
                values.append(t * t + other_value)  # t is used twice by one op
            else:
                values.append(last.tanh().exp() * other_value.tanh())
        return values[-1]

    return build


def _expressions(rng: numpy.random.Generator) -> list[tuple[str, int, Callable[[list], Value]]]:
    def square(v):  # one node used twice by a single op
        return v[0] * v[0]

    def neuron(v):  # the notebook's neuron: w used in two places
        x, w, b = v
        return (w * x + b).tanh() ** 2 + 0.1 * w * w

    def reuse(v):  # an intermediate node feeds three later nodes
        a, b = v
        c = a * b + a
        return c * c + c.tanh() + (c * -2.0).exp()

    return [("a * a", 1, square), ("tanh(w x + b)**2 + 0.1 w w", 3, neuron),
            ("c = a b + a; c c + tanh(c) + exp(-2 c)", 2, reuse),
            ("a random expression", 3, _random_expression(rng, 3, 12)),
            ("a random expression", 4, _random_expression(rng, 4, 25))]


@register(
    id="04.backward", lesson="04", points=3, names=("backward",),
    reference=(reference_backward,),
    mutants={
        "overwrites gradients instead of adding them up": (_backward_overwrites,),
        "walks the order forwards, not in reverse": (_backward_wrong_order,),
        "forgets to seed root.grad = 1": (_backward_no_seed,),
        "multiplies by the parent's gradient instead of the node's": (_backward_parent_grad,),
    },
    hint="root.grad = 1.0; then for node in reversed(topological_order(root)): for each (parent, local) in "
         "zip(node.parents, node.local_grads): parent.grad += local * node.grad.",
)
def check_backward(backward: Callable, rng: numpy.random.Generator) -> None:
    """Reverse-mode differentiation over a graph of Values."""
    h = 1e-6
    for name, n_inputs, build in _expressions(rng):
        values = _leaf_values(rng, n_inputs)
        inputs = [Value(v, label=f"x{i}") for i, v in enumerate(values)]
        root = build(inputs)
        what = f"backward(root) for {name} at inputs {[round(v, 3) for v in values]}"
        _call(backward, what, root)
        for i in range(n_inputs):
            plus, minus = list(values), list(values)
            plus[i] += h
            minus[i] -= h
            numeric = (build([Value(v) for v in plus]).data - build([Value(v) for v in minus]).data) / (2 * h)
            got = inputs[i].grad
            expect(isinstance(got, (int, float)) or numpy.ndim(got) == 0,
                   f"{what}: x{i}.grad is {type(got).__name__}; it should be a number.")
            expect_close(float(got), numeric, what=f"{what}: x{i}.grad (checked against central differences)",
                         rtol=1e-5, atol=1e-7,
                         hint="Seed root.grad = 1.0, walk reversed(topological_order(root)), and ADD "
                              "local * node.grad into each parent's grad (+=): a value used in several places "
                              "receives the sum of the gradients from each use.")
