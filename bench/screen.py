"""How much of the screen each page's figure gets: chromium at the sizes people use, old and new code side by side.

For every page with an animated figure and every screen (presenter mode on a projector, a laptop, a phone) it opens
the page at the defaults in a fresh browser context, waits for the figure, and prints:
  top     the figure's first row of cells, px from the top of the screen (on load, unscrolled)
  share   the part of the screen its cells cover (%)
  cell    the smallest cell size drawn (px)
  whole   every panel of the figure inside the first screen
  caption the current step's caption inside the first screen
  wide    the page scrolls sideways (it should not)

Usage (from the repository root):
    python bench/screen.py                         # this checkout
    python bench/screen.py --old ../old-checkout   # and another checkout, served side by side in the same run
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests" / "browser"), str(Path(__file__).resolve().parents[1])]
from browser_support import CHROMIUM, CHROMIUM_ARGS, REPO, AppPage, app_pages, figure_on_screen, serve  # noqa: E402

from convviz.stages import PAGES, stages_of  # noqa: E402

SCREENS = {  # name: (width, height, presenter mode, touch)
    "present 1920x1080": (1920, 1080, True, False),
    "present 1280x720": (1280, 720, True, False),
    "laptop 1440x900": (1440, 900, False, False),
    "laptop 1366x768": (1366, 768, False, False),
    "phone 390x844": (390, 844, False, True),
}
FIGURE_PAGES = tuple(p.url_path for p in PAGES if stages_of(p.url_path))  # every page that draws a stage




def measure(browser, base: str, page: str, screen: tuple, settle_ms: int = 1500) -> dict | None:
    w, h, present, touch = screen
    ctx = browser.new_context(viewport={"width": w, "height": h}, has_touch=touch, is_mobile=touch,
                              device_scale_factor=1)
    try:
        app = AppPage(ctx.new_page(), base)
        app.open(f"{page}{'?present=1' if present else ''}")
        app.page.wait_for_timeout(settle_ms)  # the figure is laid out again once the player has reported the screen
        app.wait_for_app()
        app.page.wait_for_timeout(300)
        return figure_on_screen(app.page)
    finally:
        ctx.close()


def table(results: dict[str, dict[str, dict]], screens: list[str], pages: list[str]) -> str:
    lines = []
    for s in screens:
        lines.append(f"\n### {s}\n")
        lines.append("| page | " + " | ".join(f"{label}: top / share / cell / whole / caption / wide" for label in results)
                     + " |")
        lines.append("|---" * (1 + len(results)) + "|")
        for p in pages:
            cells = []
            for label in results:
                m = results[label].get(s, {}).get(p)
                cells.append("–" if not m else f"{m['top']} / {m['share']:.0f} % / {m['cell']:.0f} / "
                             f"{'yes' if m['whole'] else 'no'} / {'yes' if m['caption'] else 'no'} / "
                             f"{'yes' if m['wide'] else 'no'}")
            lines.append(f"| {p} | " + " | ".join(cells) + " |")
        for label in results:
            shares = [m["share"] for m in results[label].get(s, {}).values() if m]
            if shares:
                lines.append(f"\n{label}: median share {statistics.median(shares):.0f} %, min {min(shares):.0f} %")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", type=Path, help="another checkout to measure in the same run (e.g. the previous commit)")
    ap.add_argument("--new", type=Path, default=REPO, help="the checkout measured as 'new' (default: this one)")
    ap.add_argument("--pages", nargs="*", default=None)
    ap.add_argument("--screens", nargs="*", default=None, help=f"any of {list(SCREENS)}")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    known = {p for p, _ in app_pages()}
    pages = [p for p in (args.pages or FIGURE_PAGES) if p in known]
    screens = args.screens or list(SCREENS)
    trees = {"new": args.new.resolve()} | ({"old": args.old.resolve()} if args.old else {})
    from playwright.sync_api import sync_playwright

    results: dict[str, dict[str, dict]] = {}
    with sync_playwright() as pw, contextlib.ExitStack() as stack:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        bases = {label: stack.enter_context(serve(tree)) for label, tree in trees.items()}
        for s in screens:
            for p in pages:
                for label, base in bases.items():  # old and new alternate, so load on the machine hits both alike
                    results.setdefault(label, {}).setdefault(s, {})[p] = measure(browser, base, p, SCREENS[s])
                    print(f"{s:18} {p:16} {label}: {results[label][s][p]}", flush=True)
        browser.close()
    print(table(results, screens, pages))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
