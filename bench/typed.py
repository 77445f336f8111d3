"""The longest typed texts the app reads: time and memory of parsing them (issue 'Your own numbers', part 7).

Run: python bench/typed.py

Each text is at the cap (convviz.typed.MAX_CHARS characters): a plain grid, a pasted NumPy repr, kernels for every
(f, c) pair, and hostile ones that fail late (a ragged last row, a bad last token). Prints the best of 5 times and
the tracemalloc peak of one parse; the app parses a text once per change (its caches key on the settings).
"""
from __future__ import annotations

import contextlib
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from convviz.typed import MAX_CHARS, TypedError, parse_grid, parse_kernels  # noqa: E402


def at_cap(unit: str, sep: str) -> str:
    """unit repeated with sep up to MAX_CHARS characters."""
    n = (MAX_CHARS + len(sep)) // (len(unit) + len(sep))
    return sep.join([unit] * n)[:MAX_CHARS]


def cases() -> dict[str, tuple]:
    rows = 32
    per_row = MAX_CHARS // rows // 5  # "-1.5," is 5 characters: 32 rows of 25 numbers, 4,000 characters
    grid = ";".join(",".join(["-1.5"] * per_row) for _ in range(rows))
    pasted = repr(np.random.default_rng(0).integers(-9, 10, (24, 24)).astype(float))  # whole (under 1,000 values)
    kernels = " | ".join(["1,0,-1;2,0,-2;1,0,-1"] * 64)
    ragged = grid[: grid.rfind(",")]  # the last row one number short
    bad_last = grid[:-4] + "abcd"
    return {
        "plain grid": (parse_grid, (grid,)),
        "pasted repr (24 x 24)": (parse_grid, (pasted,)),
        "64 kernels 3x3": (parse_kernels, (kernels, 8, 8, 3, 3)),
        "ragged last row": (parse_grid, (ragged,)),
        "bad last token": (parse_grid, (bad_last,)),
        "4000 separators": (parse_grid, (at_cap(";", ""),)),
    }


def main() -> None:
    print(f"convviz typed text at the cap ({MAX_CHARS} characters): best of 5, and the tracemalloc peak of one parse")
    print(f"{'case':24s} {'chars':>6s} {'time ms':>8s} {'peak KB':>8s}  outcome")
    for name, (fn, args) in cases().items():
        best, outcome = float("inf"), ""
        for _ in range(5):
            t = time.perf_counter()
            try:
                out = fn(*args)
                outcome = f"read {out.shape}"
            except TypedError as err:
                outcome = "refused: " + str(err)[:60]
            best = min(best, time.perf_counter() - t)
        tracemalloc.start()
        with contextlib.suppress(TypedError):
            fn(*args)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{name:24s} {len(args[0]):6d} {best * 1e3:8.2f} {peak / 1e3:8.0f}  {outcome}")


if __name__ == "__main__":
    main()
