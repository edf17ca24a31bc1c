"""One benchmark measurement in a fresh process: ``python benchmarks/workers.py CASE LIBRARY BATCH``.

Each library runs in its own process because BLAS thread pools keep spinning after each call
and slow whichever library runs next in the same process. The worker prints one JSON line:
``{"samples_per_s": ..., "step_us": ..., "peak_rss_mb": ..., "epoch_extra_mb": ...}``.

Cases (the models of the course, and one bigger MLP):

- ``tiny``: MLP 64-64-10, batch 8: per-op overhead, nothing else.
- ``digits``: the lesson 06 MLP 64-128-10 on 1,437 rows of 64 features (the digits training set).
- ``mlp``: MLP 784-256-256-10 on 60,000 random rows (MNIST-sized).
- ``cnn``: the lesson 12 MNIST-1D network, Conv1d(1,24,5,pad 2)-ReLU-MaxPool(2)-Conv1d(24,24,3,pad 1)-
  ReLU-MaxPool(2)-Conv1d(24,24,3,pad 1)-ReLU-MaxPool(2)-Flatten-Linear(120,10), on make_mnist1d(5000).
- ``transformer``: the lesson 13 TinyTransformer (vocabulary 10, 8 positions, width 32, embedding and
  positional embedding, one pre-norm TransformerBlock with 2 heads and MLP ratio 2, LayerNorm, Linear
  head), on 4,096 random sequences (its reversal task).
- ``matmul``: GFLOP/s of a float32 matrix product (the roofline); BATCH is ignored.

Libraries: ``coursepkg`` (NumPy backend), ``numpy`` (forward, backward and Adam written by hand,
``handwritten.py``), ``torch``, ``torch_fused`` (PyTorch with ``Adam(fused=True)``), and for the GPU
variant ``coursepkg_cupy`` and ``torch_cuda``.

Options: ``--threads N`` sets the BLAS / OpenMP thread count of the process (the same variables and
``torch.set_num_threads`` for every library); ``--quick`` measures fewer steps.

Memory: ``peak_rss_mb`` is the process's peak resident size (imports, data and all); ``epoch_extra_mb``
is how far the peak rose above the resident size just before training started (model built, data in
memory, optimizer state not yet allocated): the memory that training itself needs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

CASES = ("tiny", "digits", "mlp", "cnn", "transformer")
MLP_SIZES = {"mlp": (784, 256, 256, 10), "digits": (64, 128, 10), "tiny": (64, 64, 10)}
ROWS = {"mlp": 60_000, "digits": 1_437, "tiny": 4_096, "transformer": 4_096}
LR = 1e-3
VOCAB, LENGTH, DIM, HEADS, MLP_RATIO = 10, 8, 32, 2, 2  # lesson 13


def _set_threads(threads: int | None) -> None:
    """Same thread settings for every library; must run before NumPy or PyTorch is imported."""
    if threads:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(threads)


# ---------------------------------------------------------------------- data
def _data(case: str, rows: int | None = None):
    """(X, y) as NumPy arrays: float32 inputs and int64 labels (or token ids for the transformer);
    ``rows`` examples (default: the case's full data set)."""
    import numpy as np

    rng = np.random.default_rng(0)
    if case == "cnn":
        from coursepkg.data import make_mnist1d

        X, y, _, _ = make_mnist1d(rows or 5000, seed=0)
        return np.ascontiguousarray(X[:, None, :], dtype=np.float32), y.astype(np.int64)
    rows = rows or ROWS[case]
    if case == "transformer":
        tokens = rng.integers(0, VOCAB, (rows, LENGTH))
        return tokens, np.ascontiguousarray(tokens[:, ::-1])  # the reversal task of lesson 13
    sizes = MLP_SIZES[case]
    return rng.standard_normal((rows, sizes[0]), dtype=np.float32), rng.integers(0, sizes[-1], rows)


# ---------------------------------------------------------------------- memory
def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) of this process, where Linux allows it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------- timing
def _run_epochs(step, X, y, batch: int, epochs: int = 3, min_steps: int = 200, synchronize=None) -> float:
    """Median over epochs of samples per second; each epoch walks the data once in order
    (repeated until it holds at least ``min_steps`` steps). The first epoch warms up."""
    import numpy as np

    n = (X.shape[0] // batch) * batch
    reps = max(1, -(-min_steps * batch // n))
    rates = []
    for epoch in range(epochs + 1):
        start = time.perf_counter()
        for _ in range(reps):
            for i in range(0, n, batch):
                step(X[i:i + batch], y[i:i + batch])
        if synchronize is not None:
            synchronize()
        elapsed = time.perf_counter() - start
        if epoch:
            rates.append(reps * n / elapsed)
        time.sleep(0.3)  # let BLAS threads go idle between epochs
    return float(np.median(rates))


# ---------------------------------------------------------------------- coursepkg
def sequential_model(case: str, nn):
    """The MLP and CNN cases, built from either library's ``nn`` (their layer names agree)."""
    if case in MLP_SIZES:
        sizes = MLP_SIZES[case]
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)
    return nn.Sequential(  # "cnn": lesson 12's network
        nn.Conv1d(1, 24, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(24, 24, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(24, 24, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Flatten(), nn.Linear(24 * 5, 10))


def coursepkg_model(case: str):
    from coursepkg import nn

    if case != "transformer":
        return sequential_model(case, nn)

    class TinyTransformer(nn.Module):  # lesson 13
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, DIM, init_std=0.5)
            self.position = nn.PositionalEmbedding(LENGTH, DIM, init_std=0.5)
            self.block = nn.TransformerBlock(DIM, num_heads=HEADS, mlp_ratio=MLP_RATIO)
            self.norm = nn.LayerNorm(DIM)
            self.head = nn.Linear(DIM, VOCAB)

        def forward(self, tokens):
            return self.head(self.norm(self.block(self.position(self.embed(tokens)))))

    return TinyTransformer()


def coursepkg_step(case: str, backend: str = "numpy", weights: list | None = None):
    """(step(xb, yb) -> loss Tensor, synchronize) for coursepkg; ``weights``: initial parameters as
    NumPy arrays in the order of ``model.parameters()`` (default: the model's own initialization)."""
    import coursepkg as cp
    from coursepkg import ops, optim

    cp.set_backend(backend, seed=0)
    model = coursepkg_model(case)
    if weights is not None:
        model.load_state_dict(dict(zip((name for name, _ in model.named_parameters()), weights)))
    opt = optim.Adam(model.parameters(), lr=LR)
    xp_asarray = cp.get_backend().asarray

    def step(xb, yb):
        opt.zero_grad()
        if case == "transformer":
            scores = model(xp_asarray(xb))
            loss = ops.cross_entropy(scores.reshape(-1, VOCAB), xp_asarray(yb.reshape(-1)))
        else:
            loss = ops.cross_entropy(model(cp.Tensor(xp_asarray(xb))), xp_asarray(yb))
        loss.backward()
        opt.step()
        return loss

    step.model = model  # for the tests
    return step, cp.get_backend().synchronize


# ---------------------------------------------------------------------- hand-written NumPy
def numpy_step(case: str, weights: list | None = None):
    """(step(xb, yb) -> loss, None) written by hand in NumPy (``handwritten.py``).

    The process gets the malloc settings that ``import coursepkg`` applies (``coursepkg.memory``:
    freed blocks kept for reuse instead of fresh pages from the system), so that the two steps run
    under the same allocator and the comparison is of the code alone."""
    import handwritten

    from coursepkg.memory import keep_freed_memory

    keep_freed_memory()

    if case in MLP_SIZES:
        return handwritten.mlp_step(MLP_SIZES[case], weights), None
    if case == "cnn":
        return handwritten.cnn_step(weights), None
    return handwritten.transformer_step(weights, VOCAB, LENGTH, DIM, HEADS, MLP_RATIO), None


# ---------------------------------------------------------------------- PyTorch (optional)
def torch_model(case: str):
    import torch
    from torch import nn

    if case != "transformer":
        return sequential_model(case, nn)

    class Block(nn.Module):  # coursepkg's pre-norm TransformerBlock, written the usual PyTorch way
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(DIM), nn.LayerNorm(DIM)
            self.qkv, self.proj = nn.Linear(DIM, 3 * DIM), nn.Linear(DIM, DIM)
            self.mlp = nn.Sequential(nn.Linear(DIM, MLP_RATIO * DIM), nn.GELU(approximate="tanh"),
                                     nn.Linear(MLP_RATIO * DIM, DIM))

        def forward(self, x):
            B, T, D = x.shape
            q, k, v = self.qkv(self.ln1(x)).reshape(B, T, 3, HEADS, D // HEADS).permute(2, 0, 3, 1, 4)
            heads = nn.functional.scaled_dot_product_attention(q, k, v)
            x = x + self.proj(heads.transpose(1, 2).reshape(B, T, D))
            return x + self.mlp(self.ln2(x))

    class TinyTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, DIM)
            self.position = nn.Parameter(torch.randn(LENGTH, DIM) * 0.5)
            self.block, self.norm, self.head = Block(), nn.LayerNorm(DIM), nn.Linear(DIM, VOCAB)

        def forward(self, tokens):
            return self.head(self.norm(self.block(self.embed(tokens) + self.position)))

    return TinyTransformer()


def _torch_parameter_name(case: str, name: str) -> str:
    """The PyTorch model's name for a coursepkg parameter of the same case (see ``torch_model``)."""
    if case != "transformer":
        return name.removeprefix("layers.")  # Sequential: "layers.0.weight" -> "0.weight"
    for ours, theirs in (("gamma", "weight"), ("beta", "bias"), ("attn.", ""), ("position.weight", "position"),
                         ("mlp.layers.", "mlp.")):
        name = name.replace(ours, theirs)
    return name


def torch_parameters(case: str, model) -> list[tuple[str, object, bool]]:
    """PyTorch's parameters in the order of the coursepkg model's ``parameters()``, as (coursepkg name,
    PyTorch parameter, transposed): a Linear weight is (out, in) in PyTorch and (in, out) in coursepkg."""
    import torch

    by_name = dict(model.named_parameters())
    linear_weights = {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    parameters = []
    for name, _ in coursepkg_model(case).named_parameters():
        theirs = _torch_parameter_name(case, name)
        parameters.append((name, by_name[theirs], theirs in linear_weights))
    return parameters


def torch_step(case: str, fused: bool = False, device: str = "cpu", weights: list | None = None):
    """(step(xb, yb) -> loss tensor, synchronize or None) for PyTorch; ``weights`` as for coursepkg_step,
    in coursepkg's order and layouts (Linear weights are transposed to PyTorch's (out, in))."""
    import torch

    torch.manual_seed(0)
    model = torch_model(case).to(device)
    if weights is not None:
        import numpy as np

        with torch.no_grad():
            for (_, parameter, transposed), array in zip(torch_parameters(case, model), weights):
                value = torch.from_numpy(np.array(array, dtype=np.float32))
                parameter.copy_(value.T if transposed else value)
    opt = torch.optim.Adam(model.parameters(), lr=LR, fused=fused or None)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(xb, yb):
        xb, yb = torch.from_numpy(xb).to(device), torch.from_numpy(yb).to(device)
        opt.zero_grad()
        out = model(xb)
        loss = loss_fn(out.reshape(-1, VOCAB) if case == "transformer" else out, yb.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    step.model = model  # for the tests
    return step, (torch.cuda.synchronize if device == "cuda" else None)


def matmul_gflops() -> float:
    """Best-of GFLOP/s of a float32 (512, 784) @ (784, 256) product: the roofline's ceiling."""
    import numpy as np

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


def gpu_available(library: str) -> str | None:
    """None when the GPU library and a device are present, else the reason why not."""
    try:
        if library == "torch_cuda":
            import torch

            return None if torch.cuda.is_available() else "PyTorch sees no CUDA device"
        import cupy

        return None if cupy.cuda.runtime.getDeviceCount() > 0 else "CuPy sees no CUDA device"
    except Exception as error:  # ImportError, or a CUDA driver/runtime error
        return f"{type(error).__name__}: {error}"


# library -> function(case) returning (step(xb, yb) -> loss, synchronize or None)
BUILDERS = {"coursepkg": lambda c: coursepkg_step(c), "numpy": numpy_step,
            "torch": lambda c: torch_step(c), "torch_fused": lambda c: torch_step(c, fused=True),
            "coursepkg_cupy": lambda c: coursepkg_step(c, "cupy"),
            "torch_cuda": lambda c: torch_step(c, fused=True, device="cuda")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=CASES + ("matmul",))
    parser.add_argument("library", choices=tuple(BUILDERS))
    parser.add_argument("batch", type=int)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int, default=None, help="measured epochs (after one warm-up)")
    args = parser.parse_args()
    _set_threads(args.threads)
    if args.library.startswith("torch"):
        import torch

        torch.set_num_threads(args.threads or torch.get_num_threads())
    if args.case == "matmul":
        print(json.dumps({"gflops": matmul_gflops()}))
        return
    if args.library in ("coursepkg_cupy", "torch_cuda"):
        reason = gpu_available(args.library)
        if reason:
            print(json.dumps({"skipped": reason}))
            return
    step, synchronize = BUILDERS[args.library](args.case)
    X, y = _data(args.case)
    baseline = _current_rss_mb()
    reset = _reset_peak()
    epochs, min_steps = (1, 50) if args.quick else (3, 200)
    epochs = args.epochs or epochs
    rate = _run_epochs(step, X, y, args.batch, epochs=epochs, min_steps=min_steps, synchronize=synchronize)
    peak = _peak_rss_mb()
    print(json.dumps({"samples_per_s": rate, "step_us": args.batch / rate * 1e6,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "epoch_extra_mb": peak - baseline if reset else None}))


if __name__ == "__main__":
    main()
