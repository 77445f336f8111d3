"""Export times and sizes: offline HTML, a PNG of one step, the animated GIF, and the "Code for this view" script.

Run: python bench/export.py [--pages forward transposed] [--max-frames 24]

For a few pages at the default settings and at the largest the app allows (the caps in convviz/ui/settings.py),
it builds the page's figure as the app does, then times each export once (the browser is started once, first,
and its start-up time printed on its own: the app pays it once per server process). Goal: seconds.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from PIL import Image  # noqa: E402

from convviz.figures import export as ex  # noqa: E402
from convviz.figures import trace_figure  # noqa: E402
from convviz.stages import STAGES  # noqa: E402
from convviz.ui.export import view_script  # noqa: E402
from convviz.ui.settings import INT_BY_KEY, Settings  # noqa: E402


def largest() -> Settings:
    """Every size at its cap, stride 1 and 'same' padding (the most windows, so the most steps)."""
    cap = {k: INT_BY_KEY[k].high for k in ("h", "w", "cin", "cout", "n", "kh", "kw")}
    return Settings(**cap, pad="same", data="random")


def build(stage: str, s: Settings):
    from convviz.ui.context import build_arrays  # the app's data for these settings

    spec, a = s.spec(), build_arrays(s)
    trace = STAGES[stage].trace_for(s, build_arrays)
    return spec, a, trace, trace_figure(trace, rows=[list(r) for r in STAGES[stage].rows_of(trace)])


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", nargs="*", default=["forward", "transposed", "col2im"], choices=sorted(STAGES))
    ap.add_argument("--max-frames", type=int, default=ex.GIF_MAX_FRAMES)
    args = ap.parse_args()
    problem = ex.image_export_problem()
    if problem:
        print(f"PNG/GIF skipped: {problem}")
    else:
        _, start = timed(lambda: ex.frame_png(build("shapes", Settings())[3]))
        print(f"browser start-up + first PNG: {start:.2f} s (once per server process); {ex.RENDER_TABS} tabs, "
              f"GIF <= {args.max_frames} frames at scale {ex.GIF_SCALE}")
    print(f"{'page':<15} {'settings':<8} {'steps':>5} {'frames':>6} | {'HTML s':>6} {'MB':>5} | {'PNG s':>5} {'px':>9} | "
          f"{'GIF s':>5} {'frames':>6} {'MB':>5} | {'code s':>6} {'KB':>5}")
    for name, s in (("default", Settings()), ("largest", largest())):
        for stage in args.pages:
            spec, a, trace, fig = build(stage, s)
            frames = len(fig.layout.meta["frame_steps"])
            html, t_html = timed(lambda: ex.figure_html(fig))
            row = f"{stage:<15} {name:<8} {len(trace.steps):>5} {frames:>6} | {t_html:>6.2f} {len(html) / 1e6:>5.1f} | "
            if problem:
                row += f"{'-':>5} {'-':>9} | {'-':>5} {'-':>6} {'-':>5} | "
            else:
                png, t_png = timed(lambda: ex.frame_png(fig, fig.layout.meta["frame_steps"][-1]))
                size = Image.open(io.BytesIO(png)).size
                gif, t_gif = timed(lambda: ex.animation_gif(fig, max_frames=args.max_frames))
                n_gif = Image.open(io.BytesIO(gif)).n_frames
                row += (f"{t_png:>5.2f} {size[0]:>4}x{size[1]:<4} | {t_gif:>5.2f} {n_gif:>6} {len(gif) / 1e6:>5.2f} | ")
            code, t_code = timed(lambda: view_script.__wrapped__(stage, s))  # the app's script, uncached
            print(row + f"{t_code:>6.2f} {len(code) / 1e3:>5.0f}", flush=True)


if __name__ == "__main__":
    main()
