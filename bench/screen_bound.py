"""The most of a screen each page's figure could cover: its panels arranged as the app arranges them
(`convviz.figures.arrange`), in the whole viewport, with no title, player or caption beside or above them.

bench/screen.py measures what the page really gives; this is the ceiling the panels' own shapes set (square cells,
every panel whole). Where it is under the issue's 40 %, no placement of the page's title and player reaches 40 %.

Usage (from the repository root):
    python bench/screen_bound.py
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from convviz.figures.arrange import covered_px  # noqa: E402
from convviz.stages import PAGES, stages_of  # noqa: E402
from convviz.ui.context import build_arrays  # noqa: E402
from convviz.ui.room import FigureBox  # noqa: E402
from convviz.ui.settings import Settings  # noqa: E402
from convviz.ui.trace_view import grid_of  # noqa: E402

SCREENS = {"present 1920x1080": (1920, 1080, 18), "present 1280x720": (1280, 720, 15)}  # (width, height, font)
PAGE_SIDES_PX = 32  # presenter mode's page margins (1rem each side)


def bound(stage, vw: int, vh: int, font_size: int) -> float:
    """The share (%) of a vw x vh screen the stage's cells cover laid out in all of it, at the page's defaults."""
    trace = stage.trace_for(stage.shown_settings(Settings()), build_arrays)
    box = FigureBox(vw - PAGE_SIDES_PX, vh, 180.0, font_size, True)
    return 100 * covered_px(grid_of(trace, stage.rows_of(trace), box)) / (vw * vh)


def main() -> None:
    for name, (vw, vh, font_size) in SCREENS.items():
        print(f"\n### {name}: the share of the screen with the figure alone on it\n")
        print("| page | ceiling |\n|---|---|")
        shares = []
        for page in PAGES:
            stages = stages_of(page.url_path)
            if stages:
                shares.append(bound(stages[0], vw, vh, font_size))
                print(f"| {page.url_path} | {shares[-1]:.0f} % |")
        print(f"\nmedian {statistics.median(shares):.0f} %; under 40 %: {sum(s < 40 for s in shares)} of {len(shares)}")


if __name__ == "__main__":
    main()
