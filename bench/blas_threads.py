"""Why the app server runs NumPy's BLAS on one thread: im2col forward passes with 1 and 2 BLAS threads, with the
machine idle and with the other core kept busy (as a browser, or other sessions, keep it on a 2-core server).

Run:  python bench/blas_threads.py [--passes 200]

Each case runs in a fresh process (OPENBLAS_NUM_THREADS is read when OpenBLAS loads), at the app's largest settings
(convviz/ui/settings.py LARGEST_QUERY), after 5 untimed passes; "busy" starts one pure-Python spinning process for the
duration. Prints seconds for --passes passes (best of 3) and the ratio of 2 threads to 1.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

TIMED = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
from convviz.conv import conv2d_spec
from convviz.ui.page import build_arrays
from convviz.ui.settings import LARGEST_QUERY, parse_query
settings, _ = parse_query(LARGEST_QUERY)
a, spec = build_arrays(settings), settings.spec()
for _ in range(5):
    conv2d_spec(a.x, a.w, a.b, spec, "im2col")
best = float("inf")
for _ in range(3):
    t = time.perf_counter()
    for _ in range(int(sys.argv[1])):
        conv2d_spec(a.x, a.w, a.b, spec, "im2col")
    best = min(best, time.perf_counter() - t)
print(best)
"""


def spin(stop) -> None:
    while not stop.is_set():
        pass


def timed(threads: int, passes: int) -> float:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", TIMED, str(passes), str(REPO)], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=200)
    args = ap.parse_args(argv)
    print(f"{args.passes} im2col forward passes at the largest settings, seconds (best of 3); {os.cpu_count()} cores")
    print(f"{'machine':<10}{'1 thread':>10}{'2 threads':>11}{'2 / 1':>8}")
    for label in ("idle", "busy"):
        stop = mp.Event()
        spinner = mp.Process(target=spin, args=(stop,), daemon=True) if label == "busy" else None
        if spinner:
            spinner.start()
            time.sleep(0.2)
        try:
            one, two = timed(1, args.passes), timed(2, args.passes)
        finally:
            if spinner:
                stop.set()
                spinner.join(5)
        print(f"{label:<10}{one:>10.3f}{two:>11.3f}{two / one:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
