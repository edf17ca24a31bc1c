"""Run the performance benchmarks and print ratios against references measured in the same run.

    python benchmarks/run.py                 # every case, 3 interleaved rounds
    python benchmarks/run.py --cases tiny mlp --rounds 5

Each measurement runs in a fresh process (see workers.py); libraries alternate within each round
(A B A B ...) and every ratio is the median over rounds of the ratio measured in that round, so a
noisy neighbour slows both sides of a pair alike. PyTorch is optional (`pip install -e ".[bench]"`):
without it, the table compares coursepkg with hand-written NumPy only and says so.
Results are printed as a table and saved to benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
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
    "mlp": [32, 128, 512],
}
FLOPS_PER_SAMPLE = {  # forward + backward of the MLPs: 3 matmuls of 2*a*b flops per layer
    case: 6 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    for case, sizes in {"tiny": (64, 64, 10), "digits": (64, 128, 128, 10), "mlp": (784, 256, 256, 10)}.items()
}


def measure(case: str, library: str, batch: int) -> dict:
    out = subprocess.run([sys.executable, str(HERE / "workers.py"), case, library, str(batch)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    has_torch = importlib.util.find_spec("torch") is not None
    libraries = ["coursepkg", "numpy"] + (["torch", "torch_fused"] if has_torch else [])
    if not has_torch:
        print("PyTorch is not installed: comparing coursepkg with hand-written NumPy only "
              "(pip install -e '.[bench]' for the PyTorch columns).")
    gflops = max(measure("matmul", "numpy", 0)["gflops"] for _ in range(3))
    print(f"matrix-product roofline (float32, 512x784 @ 784x256): {gflops:.1f} GFLOP/s")
    rows = []
    for case in args.cases:
        for batch in CASES[case]:
            runs: dict[str, list[dict]] = {lib: [] for lib in libraries}
            for r in range(args.rounds):
                order = libraries if r % 2 == 0 else list(reversed(libraries))
                for lib in order:
                    runs[lib].append(measure(case, lib, batch))
                    time.sleep(0.5)
            row = {"case": case, "batch": batch}
            for lib in libraries:
                row[f"{lib}_samples_per_s"] = statistics.median(m["samples_per_s"] for m in runs[lib])
                row[f"{lib}_peak_rss_mb"] = statistics.median(m["peak_rss_mb"] for m in runs[lib])
            for ref in libraries[1:]:
                row[f"ratio_vs_{ref}"] = statistics.median(
                    a["samples_per_s"] / b["samples_per_s"] for a, b in zip(runs["coursepkg"], runs[ref]))
            row["roofline_fraction"] = row["coursepkg_samples_per_s"] * FLOPS_PER_SAMPLE[case] / (gflops * 1e9)
            rows.append(row)
            ratios = "  ".join(f"{k[9:]}={v:.2f}x" for k, v in row.items() if k.startswith("ratio_vs_"))
            print(f"{case:>8} batch {batch:>4}: coursepkg {row['coursepkg_samples_per_s']:>10,.0f} samples/s  "
                  f"({batch / row['coursepkg_samples_per_s'] * 1e6:7.1f} us/step)  {ratios}  "
                  f"roofline {row['roofline_fraction']:.0%}")
    result = {"machine": f"{platform.machine()} {platform.processor() or ''} {platform.python_version()}",
              "date": time.strftime("%Y-%m-%d"), "roofline_gflops": gflops, "rounds": args.rounds, "rows": rows}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {HERE / 'results' / 'latest.json'}")


if __name__ == "__main__":
    main()
