"""One benchmark measurement in a fresh process: ``python benchmarks/workers.py CASE LIBRARY BATCH``.

Each library runs in its own process because BLAS thread pools keep spinning after each call
and slow whichever library runs next in the same process. The worker prints one JSON line:
``{"samples_per_s": ..., "step_us": ..., "peak_rss_mb": ...}``.

Cases: ``mlp`` (784-256-256-10, 60,000 random rows, one epoch), ``digits`` (64-128-128-10, the
lesson 06 MLP), ``tiny`` (64-64-10, batch 8: per-op overhead), ``cnn`` (the MNIST-1D Conv1d net),
``transformer`` (the tiny transformer of lesson 13), ``matmul`` (GFLOP/s of a matrix product).
Libraries: ``coursepkg``, ``numpy`` (hand-written forward/backward/Adam), ``torch``,
``torch_fused`` (PyTorch with fused Adam).
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

MLP_SIZES = {"mlp": (784, 256, 256, 10), "digits": (64, 128, 128, 10), "tiny": (64, 64, 10)}
ROWS = {"mlp": 60_000, "digits": 1_437, "tiny": 4_096}
LR = 1e-3


def _data(case: str, rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    sizes = MLP_SIZES[case]
    return rng.standard_normal((rows, sizes[0]), dtype=np.float32), rng.integers(0, sizes[-1], rows)


def _run_epochs(step, X, y, batch: int, epochs: int = 3, min_steps: int = 200) -> float:
    """Median over epochs of samples per second; each epoch walks the data once in order."""
    n = (X.shape[0] // batch) * batch
    reps = max(1, -(-min_steps * batch // n))
    rates = []
    for epoch in range(epochs + 1):  # the first epoch warms up
        start = time.perf_counter()
        for _ in range(reps):
            for i in range(0, n, batch):
                step(X[i:i + batch], y[i:i + batch])
        elapsed = time.perf_counter() - start
        if epoch:
            rates.append(reps * n / elapsed)
        time.sleep(0.3)  # let BLAS threads go idle between epochs
    return float(np.median(rates))


# ---------------------------------------------------------------------- coursepkg
def coursepkg_mlp_step(sizes):
    import coursepkg as cp
    from coursepkg import nn, ops, optim

    cp.set_backend("numpy", seed=0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = optim.Adam(model.parameters(), lr=LR)

    def step(xb, yb):
        opt.zero_grad()
        loss = ops.cross_entropy(model(cp.Tensor(xb)), yb)
        loss.backward()
        opt.step()

    return step


# ---------------------------------------------------------------------- hand-written NumPy
def numpy_mlp_step(sizes):
    rng = np.random.default_rng(0)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(a)
        params += [rng.uniform(-bound, bound, (a, b)).astype(np.float32),
                   rng.uniform(-bound, bound, b).astype(np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = [0]
    b1, b2, eps = 0.9, 0.999, 1e-8

    def step(xb, yb):
        n = xb.shape[0]
        acts, h = [xb], xb
        for i in range(0, len(params), 2):
            h = h @ params[i]
            h += params[i + 1]
            if i < len(params) - 2:
                np.maximum(h, 0, out=h)
            acts.append(h)
        h = h - h.max(axis=1, keepdims=True)
        np.exp(h, out=h)
        h /= h.sum(axis=1, keepdims=True)
        h[np.arange(n), yb] -= 1
        d = h * (1.0 / n)
        grads = [None] * len(params)
        for i in range(len(params) - 2, -1, -2):
            a = acts[i // 2]
            grads[i] = a.T @ d
            grads[i + 1] = d.sum(axis=0)
            if i:
                d = d @ params[i].T
                d *= a > 0
        t[0] += 1
        c1, c2 = 1 - b1 ** t[0], 1 - b2 ** t[0]
        for p, g, mi, vi in zip(params, grads, m, v):
            mi *= b1
            mi += (1 - b1) * g
            vi *= b2
            vi += (1 - b2) * g * g
            p -= (LR / c1) * mi / (np.sqrt(vi / c2) + eps)

    return step


# ---------------------------------------------------------------------- PyTorch (optional)
def torch_mlp_step(sizes, fused: bool = False):
    import torch

    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=LR, fused=fused or None)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(torch.from_numpy(xb)), torch.from_numpy(yb))
        loss.backward()
        opt.step()

    return step


def matmul_gflops() -> float:
    """Best-of GFLOP/s of a float32 (512, 784) @ (784, 256) product: the roofline's ceiling."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((512, 784), dtype=np.float32)
    b = rng.standard_normal((784, 256), dtype=np.float32)
    best = 0.0
    for _ in range(20):
        start = time.perf_counter()
        for _ in range(20):
            a @ b
        best = max(best, 20 * 2 * 512 * 784 * 256 / (time.perf_counter() - start) / 1e9)
    return best


def main() -> None:
    case, library, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if case == "matmul":
        print(json.dumps({"gflops": matmul_gflops()}))
        return
    sizes = MLP_SIZES[case]
    builders = {"coursepkg": coursepkg_mlp_step, "numpy": numpy_mlp_step,
                "torch": torch_mlp_step, "torch_fused": lambda s: torch_mlp_step(s, fused=True)}
    step = builders[library](sizes)
    X, y = _data(case, ROWS[case])
    rate = _run_epochs(step, X, y, batch)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"samples_per_s": rate, "step_us": batch / rate * 1e6, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main()
