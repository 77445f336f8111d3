"""What the shared caches hold: bytes of each stage's trace and figure, at the default and the largest settings.

Run: python bench/memory.py

The pages cache traces (get_trace) and figures (figure_for) on the settings, CACHE_ENTRIES of each, shared by every
session. Counts entries, not bytes, so the worst case is CACHE_ENTRIES times the biggest entry: this prints it. Bytes are
what tracemalloc sees allocated while one entry is built (NumPy buffers and Python objects alike), the figure's
after its trace is cached. Also the time to build each, best of 3.
"""
from __future__ import annotations

import gc
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
warnings.filterwarnings("ignore")  # Streamlit's "no runtime" warnings: the caches are used outside an app here

from convviz.ui.settings import LARGEST_QUERY  # noqa: E402

LARGEST = LARGEST_QUERY  # convviz/ui/settings.py


def allocated_by(build) -> tuple[object, int]:
    gc.collect()
    tracemalloc.start()
    try:
        out = build()
        return out, tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def best_time(build, reps: int = 3) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        build()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    from convviz.stages import STAGES
    from convviz.ui import page
    from convviz.ui.room import FigureBox
    from convviz.ui.settings import parse_query

    BOX = FigureBox()  # the classic 980 px budget, as a first visit's first run lays figures out

    print(f"convviz memory: bytes of one cache entry per stage (the caches keep up to {page.CACHE_ENTRIES} of each)")
    warm = page.get_trace("forward", parse_query({})[0], ())  # first use imports plotly's validators: not an entry's bytes
    page.figure_for(warm, (("xpad",),), 0, None, BOX)
    for name, query in (("default", {}), ("largest", LARGEST)):
        settings, _ = parse_query(query)
        page.build_arrays(settings)
        print(f"\n{name} settings {query or '(none in the URL)'}")
        print(f"{'stage':16s} {'steps':>5s} {'trace MB':>9s} {'masks MB':>9s} {'values MB':>9s} {'figure MB':>9s}"
              f" {'trace s':>8s} {'figure s':>8s}")
        worst = 0.0
        for stage in STAGES:
            if stage == "gradcheck":  # cached by its own store, with a time budget (convviz/ui/gradcheck_view.py)
                continue
            page.get_trace.clear()
            trace, trace_b = allocated_by(lambda: page.get_trace(stage, settings, ()))
            rows = tuple((p.name,) for p in trace.panels)
            page.figure_store().clear()
            page.grid_store().clear()
            _, fig_b = allocated_by(lambda: page.figure_for(trace, rows, 0, None, BOX))
            masks = sum(h.nbytes for s in trace.steps for h in s.highlights)
            values = sum(v.nbytes for s in trace.steps for v in s.values.values())

            def rebuild_trace():
                page.get_trace.clear()
                page.get_trace(stage, settings, ())

            def rebuild_figure():
                page.figure_store().clear()
                page.grid_store().clear()
                page.figure_for(trace, rows, 0, None, BOX)

            t_trace, t_fig = best_time(rebuild_trace), best_time(rebuild_figure)
            worst = max(worst, (trace_b + fig_b) / 1e6)
            print(f"{stage:16s} {len(trace.steps):5d} {trace_b / 1e6:9.1f} {masks / 1e6:9.2f} {values / 1e6:9.1f} "
                  f"{fig_b / 1e6:9.1f} {t_trace:8.3f} {t_fig:8.3f}")
        print(f"biggest trace + figure: {worst:.1f} MB; {page.CACHE_ENTRIES} entries of it: "
              f"{page.CACHE_ENTRIES * worst / 1e3:.2f} GB (the caches' worst case at these settings)")


if __name__ == "__main__":
    main()
