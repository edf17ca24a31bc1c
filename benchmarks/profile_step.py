"""Run training steps of one benchmark case, for a profiler: ``python benchmarks/profile_step.py CASE LIBRARY BATCH``.

    python benchmarks/profile_step.py tiny coursepkg 8 --cprofile          # where Python time goes
    valgrind --tool=callgrind --toggle-collect=functools_reduce \\
        python benchmarks/profile_step.py tiny coursepkg 8 --steps 300       # instructions per step

Wall-clock times on a shared 2-core machine move by 10-30% from one minute to the next; the
number of instructions a step executes does not. Callgrind counts them (about 50x slower than
normal), and ``--toggle-collect=functools_reduce`` limits the count to the timed steps, which run
inside ``functools.reduce`` for that reason: divide "Collected" by ``--steps``. Add
``--cache-sim=yes --branch-sim=yes`` to see cache misses and branch mispredictions, which is where
Python-heavy code loses time beyond its instruction count.

CASE, LIBRARY and BATCH are those of workers.py (numpy: the MLP cases only).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import pstats

import workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", choices=workers.CASES)
    parser.add_argument("library", choices=tuple(workers.BUILDERS))
    parser.add_argument("batch", type=int)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cprofile", action="store_true", help="print the 25 functions with the most own time")
    args = parser.parse_args()
    workers._set_threads(args.threads)
    X, y = workers._data(args.case)
    step, _ = workers.BUILDERS[args.library](args.case)
    last = X.shape[0] - args.batch
    for _ in range(20):  # warm up: first-call costs are not what we measure
        step(X[:args.batch], y[:args.batch])

    def one_step(done: int, i: int) -> int:
        start = (i * args.batch) % last
        step(X[start:start + args.batch], y[start:start + args.batch])
        return done + 1

    if args.cprofile:
        profile = cProfile.Profile()
        profile.runcall(functools.reduce, one_step, range(args.steps), 0)
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    else:
        functools.reduce(one_step, range(args.steps), 0)


if __name__ == "__main__":
    main()
