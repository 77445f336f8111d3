"""How long the browser takes to draw each page's figures: plotly.js newPlot + addFrames in Debian's chromium.

Run:  python bench/draw_cost.py [--pages forward im2col] [--largest-only|--default-only] [--reps 5] [--frames 15]

bench/latency.py measures a whole control change in the real app; this isolates one part of it. Each page runs
once under AppTest (at the default and the LARGEST settings of bench/latency.py), and every chart spec the page
sends (the exact JSON the browser receives) is drawn from scratch in a bare HTML page with plotly's bundled
plotly.min.js: Plotly.newPlot, Plotly.addFrames, then one animation frame. Printed per chart: median of --reps
draws, as sent and without the numbers printed in cells (texttemplate), the page's total, and the mean time of one
animation frame over the first --frames frames (median of --reps; every frame is a full redraw, so 1000 / frame ms
bounds the Fast button's frames per second). Streamlit bundles
its own plotly.js build, so the absolute figures may differ a little from the app's; the split is the point.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "browser"))

from latency import LARGEST  # noqa: E402
from profile_rerun import cold  # noqa: E402

DRAW_JS = """async ([spec, strip_text, reps]) => {
  const times = [];
  const gd = document.getElementById('g');
  for (let r = 0; r < reps; r++) {
    const s = JSON.parse(spec);
    if (strip_text) s.data.forEach(t => { delete t.texttemplate; delete t.text; });
    Plotly.purge(gd);
    const t0 = performance.now();
    await Plotly.newPlot(gd, s.data, s.layout, {displaylogo: false});
    if (s.frames && s.frames.length) await Plotly.addFrames(gd, s.frames);
    await new Promise(done => requestAnimationFrame(() => done()));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}"""
# One animation frame as the Play button draws it (redraw: true = a full plotly.js redraw), averaged over the first
# `n` frames, after the chart is drawn as sent. This is what bounds the Fast button's frames per second.
FRAME_JS = """async ([spec, n]) => {
  const gd = document.getElementById('g');
  const s = JSON.parse(spec);
  if (!s.frames || s.frames.length < 2) return null;
  Plotly.purge(gd);
  await Plotly.newPlot(gd, s.data, s.layout, {displaylogo: false});
  await Plotly.addFrames(gd, s.frames);
  const names = s.frames.map(f => f.name).slice(0, n);
  const t0 = performance.now();
  for (const nm of names) {
    await Plotly.animate(gd, [nm], {frame: {duration: 0, redraw: true}, transition: {duration: 0}, mode: 'immediate'});
  }
  await new Promise(done => requestAnimationFrame(() => done()));
  return (performance.now() - t0) / names.length;
}"""


def chart_specs(page: str, query: dict) -> list[str]:
    at = cold(page, query)
    return [c.proto.spec for c in at.get("plotly_chart")]


def main(argv: list[str] | None = None) -> int:
    import plotly
    from browser_support import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
    from playwright.sync_api import sync_playwright

    from convviz.stages import PAGES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", nargs="*", default=[p.url_path for p in PAGES if p.url_path not in ("methods",)])
    ap.add_argument("--largest-only", action="store_true")
    ap.add_argument("--default-only", action="store_true")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--frames", type=int, default=15, help="animation frames timed per chart (0: skip)")
    args = ap.parse_args(argv)
    plans = [("default", {}), ("largest", LARGEST)]
    if args.largest_only:
        plans = plans[1:]
    if args.default_only:
        plans = plans[:1]
    paths = {p.url_path: p.path for p in PAGES}

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    html = Path(tempfile.mkdtemp(prefix="convviz-draw-")) / "draw.html"
    html.write_text(f'<html><head><script src="file://{plotly_js}"></script></head><body><div id="g"></div></body></html>')
    head = plotly_js.read_text(errors="replace")[:300]
    js_version = head.split("plotly.js v", 1)[1].split()[0] if "plotly.js v" in head else "?"
    print(f"plotly.js {js_version} (plotly.py {plotly.__version__}'s bundle) in {CHROMIUM}; median of {args.reps} draws; "
          f"{os.cpu_count()} cores")
    print(f"{'page':<16}{'settings':<9}{'chart':>6}{'KB':>7}{'traces':>7}{'frames':>7}{'draw ms':>9}{'no text ms':>11}{'frame ms':>9}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"file://{html}")
        for name in args.pages:
            for label, query in plans:
                specs = chart_specs(paths[name], query)
                totals = [0.0, 0.0]
                for k, spec in enumerate(specs):
                    fig = json.loads(spec)
                    ms = [page.evaluate(DRAW_JS, [spec, strip, args.reps]) for strip in (False, True)]
                    totals = [a + b for a, b in zip(totals, ms)]
                    frame = None
                    if args.frames and len(fig.get("frames", [])) > 1:
                        runs = sorted(page.evaluate(FRAME_JS, [spec, args.frames]) for _ in range(args.reps))
                        frame = runs[len(runs) // 2]
                    print(f"{name:<16}{label:<9}{k + 1:>6}{len(spec) / 1024:>7.0f}{len(fig.get('data', [])):>7}"
                          f"{len(fig.get('frames', [])):>7}{ms[0]:>9.1f}{ms[1]:>11.1f}{'-' if frame is None else f'{frame:.1f}':>9}")
                if len(specs) > 1:
                    print(f"{name:<16}{label:<9}{'all':>6}{'':>7}{'':>7}{'':>7}{totals[0]:>9.1f}{totals[1]:>11.1f}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
