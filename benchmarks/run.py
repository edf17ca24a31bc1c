"""Run the performance benchmarks and print ratios against references measured in the same run.

    python benchmarks/run.py                      # every case, 3 interleaved rounds (about 15 minutes)
    python benchmarks/run.py --quick              # a smoke run: 1 round, short epochs (about 2 minutes)
    python benchmarks/run.py --cases tiny mlp --rounds 5 --threads 1
    python benchmarks/run.py --cases mlp --batches 512 --rounds 5

Each measurement runs in a fresh process (see workers.py); libraries alternate within each round
(A B C D, then D C B A, ...) and every ratio is the median over rounds of the ratio measured in that
round, so a noisy neighbour slows both sides of a pair alike. PyTorch is optional
(``pip install -e ".[bench]"``): without it the table compares coursepkg with hand-written NumPy
only and says so. The GPU rows (coursepkg on CuPy vs PyTorch CUDA) run only where a GPU is found.
Results are printed as a table and saved to benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = {  # case -> batch sizes
    "tiny": [8],
    "digits": [32],
    "cnn": [128],
    "transformer": [64],
    "mlp": [32, 128, 512],
}
COURSE_MODELS = ("digits", "cnn", "transformer")


def _mlp_flops(sizes: tuple[int, ...]) -> int:
    return 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _cnn_flops() -> int:  # conv layers as (out, in, kernel, output length), then the linear head
    convs = [(24, 1, 5, 40), (24, 24, 3, 20), (24, 24, 3, 10)]
    return 2 * sum(o * c * k * length for o, c, k, length in convs) + 2 * 120 * 10


def _transformer_flops(T: int = 8, D: int = 32, hidden: int = 64, vocab: int = 10) -> int:
    linear = T * (D * 3 * D + D * D + 2 * D * hidden + D * vocab)
    attention = 2 * T * T * D  # scores and weights @ values, all heads together
    return 2 * (linear + attention)


def _step_flops(forward: int, first_layer: int) -> int:
    """A training step's matrix products: forward, weight gradients (as many FLOPs again), and the
    input gradients of every layer but the first, whose input is data (no library computes it)."""
    return 3 * forward - first_layer


# Multiply-add FLOPs of the matrix products of one training step, per sample; elementwise work is
# not counted. The transformer's first layer is an embedding lookup (no product).
FLOPS_PER_SAMPLE = {
    "tiny": _step_flops(_mlp_flops((64, 64, 10)), 2 * 64 * 64),
    "digits": _step_flops(_mlp_flops((64, 128, 10)), 2 * 64 * 128),
    "mlp": _step_flops(_mlp_flops((784, 256, 256, 10)), 2 * 784 * 256),
    "cnn": _step_flops(_cnn_flops(), 2 * 24 * 1 * 5 * 40),
    "transformer": 3 * _transformer_flops(),
}


def measure(case: str, library: str, batch: int, extra: list[str]) -> dict:
    out = subprocess.run([sys.executable, str(HERE / "workers.py"), case, library, str(batch), *extra],
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"worker {case} {library} {batch} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} logical cores, Python {platform.python_version()}"


def _versions(has_torch: bool) -> dict:
    import numpy

    versions = {"numpy": numpy.__version__}
    if has_torch:
        import torch

        versions["torch"] = torch.__version__
    return versions


def run_case(case: str, batch: int, libraries: list[str], rounds: int, extra: list[str]) -> dict:
    runs: dict[str, list[dict]] = {lib: [] for lib in libraries}
    for r in range(rounds):
        for lib in libraries if r % 2 == 0 else reversed(libraries):
            runs[lib].append(measure(case, lib, batch, extra))
            time.sleep(0.5)
    row: dict = {"case": case, "batch": batch}
    for lib in libraries:
        if "skipped" in runs[lib][0]:
            row[f"{lib}_skipped"] = runs[lib][0]["skipped"]
            continue
        row[f"{lib}_samples_per_s"] = statistics.median(m["samples_per_s"] for m in runs[lib])
        row[f"{lib}_step_us"] = batch / row[f"{lib}_samples_per_s"] * 1e6
        row[f"{lib}_peak_rss_mb"] = statistics.median(m["peak_rss_mb"] for m in runs[lib])
        extras = [m["epoch_extra_mb"] for m in runs[lib] if m.get("epoch_extra_mb") is not None]
        row[f"{lib}_epoch_extra_mb"] = statistics.median(extras) if extras else None
    main, refs = libraries[0], [lib for lib in libraries[1:] if f"{lib}_samples_per_s" in row]
    if f"{main}_samples_per_s" in row:
        for ref in refs:
            paired = [a["samples_per_s"] / b["samples_per_s"] for a, b in zip(runs[main], runs[ref])]
            row[f"ratio_vs_{ref}"] = statistics.median(paired)
            row[f"ratios_vs_{ref}_by_round"] = paired
    return row


def check_targets(rows: list[dict]) -> list[tuple[str, float | None, bool | None, list[float]]]:
    """(target, measured value, met?, the value in each round) for every target of the performance
    issue. A target is met or missed by the median over rounds; the rounds show how far the noise of
    the machine reaches (a median just past the line, with rounds on both sides, may fall either way
    in the next run). Targets without rounds (memory, roofline) get an empty list."""
    found = {(r["case"], r["batch"]): r for r in rows}
    out = []

    def add(name: str, value: float | None, ok, rounds: list[float] | None = None) -> None:
        out.append((name, value, None if value is None else bool(ok(value)), list(rounds or [])))

    for case in COURSE_MODELS:
        for (c, b), r in found.items():
            if c == case:
                add(f"{case} b{b}: coursepkg/torch throughput >= 2.0", r.get("ratio_vs_torch"), lambda v: v >= 2.0,
                    r.get("ratios_vs_torch_by_round"))
    tiny = found.get(("tiny", 8))
    if tiny:
        add("tiny: coursepkg time <= 1.3x hand-written NumPy", 1 / tiny["ratio_vs_numpy"], lambda v: v <= 1.3,
            [1 / x for x in tiny.get("ratios_vs_numpy_by_round", [])])
        add("tiny: coursepkg >= 3x faster than torch", tiny.get("ratio_vs_torch"), lambda v: v >= 3.0,
            tiny.get("ratios_vs_torch_by_round"))
    for b in CASES["mlp"]:
        r = found.get(("mlp", b))
        if r:
            add(f"mlp b{b}: coursepkg/torch throughput >= 0.8", r.get("ratio_vs_torch"), lambda v: v >= 0.8,
                r.get("ratios_vs_torch_by_round"))
            extra, ref = r.get("coursepkg_epoch_extra_mb"), r.get("torch_epoch_extra_mb")
            add(f"mlp b{b}: training memory <= 1.2x torch", extra / ref if extra and ref else None,
                lambda v: v <= 1.2)
    r = found.get(("mlp", 512))
    if r:
        add("mlp b512: >= 50% of the matmul roofline", r["coursepkg_roofline"], lambda v: v >= 0.5)
    return out


def describe_target(name: str, value: float | None, ok: bool | None, rounds: list[float]) -> str:
    """One line of the printed target list, for example
    ``  MISSED  cnn b128: coursepkg/torch throughput >= 2.0: 1.98 (rounds 1.95 to 2.10)``."""
    status = "n/a" if ok is None else ("met" if ok else "MISSED")
    line = f"  {status:>6}  {name}: {'-' if value is None else format(value, '.2f')}"
    if value is not None and len(rounds) > 1:
        line += f" (rounds {min(rounds):.2f} to {max(rounds):.2f})"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", default=list(CASES) + ["gpu"], choices=list(CASES) + ["gpu"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", nargs="*", type=int, default=None,
                        help="only these batch sizes (of the cases that have them)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS/OpenMP threads of every worker (default: each library's own default)")
    parser.add_argument("--quick", action="store_true", help="1 round of short epochs, a smoke test")
    parser.add_argument("--epochs", type=int, default=None,
                        help="measured epochs per worker, after one warm-up (default 3; 1 with --quick)")
    parser.add_argument("--output", default=str(HERE / "results" / "latest.json"))
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    extra = (["--threads", str(args.threads)] if args.threads else []) + (["--quick"] if args.quick else []) \
        + (["--epochs", str(args.epochs)] if args.epochs else [])
    has_torch = importlib.util.find_spec("torch") is not None
    cpu_libraries = ["coursepkg", "numpy"] + (["torch", "torch_fused"] if has_torch else [])
    print(f"machine: {_machine()}; threads: {args.threads or 'library defaults'}; rounds: {rounds}")
    if not has_torch:
        print("PyTorch is not installed: comparing coursepkg with hand-written NumPy only "
              "(pip install -e '.[bench]' for the PyTorch columns).")
    gflops = max(measure("matmul", "numpy", 0, extra)["gflops"] for _ in range(3))
    print(f"matrix-product roofline (float32, 512x784 @ 784x256, NumPy): {gflops:.1f} GFLOP/s\n")
    header = f"{'case':>11} {'batch':>5} {'coursepkg':>12} {'us/step':>8}  ratios coursepkg/other (throughput)"
    print(header)
    rows = []
    for case in [c for c in args.cases if c != "gpu"]:
        for batch in [b for b in CASES[case] if not args.batches or b in args.batches]:
            row = run_case(case, batch, cpu_libraries, rounds, extra)
            row["coursepkg_roofline"] = row["coursepkg_samples_per_s"] * FLOPS_PER_SAMPLE[case] / (gflops * 1e9)
            if "torch_samples_per_s" in row:
                row["torch_roofline"] = row["torch_samples_per_s"] * FLOPS_PER_SAMPLE[case] / (gflops * 1e9)
            rows.append(row)
            ratios = "  ".join(f"{k[9:]}={v:.2f}x" for k, v in row.items() if k.startswith("ratio_vs_"))
            memory = "/".join(f"{row.get(f'{lib}_epoch_extra_mb') or 0:.0f}" for lib in cpu_libraries)
            print(f"{case:>11} {batch:>5} {row['coursepkg_samples_per_s']:>10,.0f}/s "
                  f"{row['coursepkg_step_us']:>8.1f}  {ratios}  roofline {row['coursepkg_roofline']:.1%}"
                  f"{' (torch ' + format(row['torch_roofline'], '.1%') + ')' if 'torch_roofline' in row else ''}"
                  f"  training MB {memory}")
    gpu_rows = []
    if "gpu" in args.cases:
        for batch in CASES["mlp"]:
            row = run_case("mlp", batch, ["coursepkg_cupy", "torch_cuda"], rounds, extra)
            gpu_rows.append(row)
            if "coursepkg_cupy_skipped" in row or "torch_cuda_skipped" in row:
                print(f"GPU variant skipped: {row.get('coursepkg_cupy_skipped') or row.get('torch_cuda_skipped')}")
                break
            print(f"{'mlp GPU':>11} {batch:>5} {row['coursepkg_cupy_samples_per_s']:>10,.0f}/s "
                  f"{row['coursepkg_cupy_step_us']:>8.1f}  torch_cuda={row['ratio_vs_torch_cuda']:.2f}x")
    # The ceiling is measured again at the end and the best kept: a ceiling measured while a
    # neighbour loaded the machine would make every fraction look too good.
    later = max(measure("matmul", "numpy", 0, extra)["gflops"] for _ in range(3))
    if later > gflops:
        print(f"matrix-product roofline measured again: {later:.1f} GFLOP/s (fractions recomputed)")
        for row in rows:
            for lib in ("coursepkg", "torch"):
                if f"{lib}_roofline" in row:
                    row[f"{lib}_roofline"] *= gflops / later
        gflops = later
    targets = check_targets(rows)
    print("\ntargets:")
    for target in targets:
        print(describe_target(*target))
    result = {"machine": _machine(), "versions": _versions(has_torch), "date": time.strftime("%Y-%m-%d %H:%M"),
              "threads": args.threads or "default", "quick": args.quick, "rounds": rounds,
              "epochs": args.epochs or (1 if args.quick else 3),
              "roofline_gflops": gflops, "flops_per_sample": FLOPS_PER_SAMPLE, "rows": rows, "gpu_rows": gpu_rows,
              "targets": [{"target": n, "value": v, "met": ok, "rounds": r} for n, v, ok, r in targets]}
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {output}")


if __name__ == "__main__":
    main()
