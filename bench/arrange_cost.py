"""How long the server takes to arrange each page's figure for a screen: `arrange` over the page's rows, their joins
and splits, sized for the room (the figure's grid, before any trace is drawn).

Every control change in a browser arranges the new trace for the screen the player reported. AppTest reports no
screen, so bench/profile_rerun.py never sees this cost; bench/latency.py sees it inside a whole change.

Usage (from the repository root):
    python bench/arrange_cost.py                        # this checkout
    python bench/arrange_cost.py --old ../old-checkout  # and another, in its own process, the rooms interleaved

Prints, per page at the defaults and per room (a laptop's, and presenter mode's at 1920x1080 and 1280x720), the
median of --reps layouts in ms, and new / old. Then, as the room "change 1280x720", what presenter mode does on a
1280 x 720 projector after a change: choose where the player goes (each placement's grid) and build the figure of the
one chosen, every store empty.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOMS = {"laptop 1334x520": (1334, 520, 72.0, 13), "present 1888x880": (1888, 880, 180.0, 18),
         "present 1248x500": (1248, 500, 180.0, 15)}  # (width, height, largest cell, font size)

# Run in the checkout measured, so that each side imports its own convviz.
TIMER = """
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from convviz.stages import PAGES, stages_of
from convviz.ui.context import build_arrays
from convviz.ui.settings import Settings
from convviz.ui import trace_view
from convviz.ui.trace_view import FigureBox, grid_of
from convviz.ui.player import Screen, caption_texts
forget = getattr(trace_view, "grid_store", lambda: {})  # where grid_of keeps its grids (older checkouts: nowhere)
PROJECTOR = Screen(1280, 720, 1248, top=60, bar=46, line=28.0, char=10.0, title=35)  # as a player reports it
rooms, reps = json.loads(sys.argv[2]), int(sys.argv[3])
out = {}
for page in PAGES:
    stages = stages_of(page.url_path)
    if not stages:
        continue
    stage = stages[0]
    trace = stage.trace_for(stage.shown_settings(Settings()), build_arrays)
    for name, (w, h, cell, font) in rooms.items():
        times = []
        for _ in range(reps):
            forget().clear()
            t0 = time.perf_counter()
            grid_of(trace, stage.rows_of(trace), FigureBox(w, h, cell, font, True))
            times.append(1000 * (time.perf_counter() - t0))
        out[f"{page.url_path} {name}"] = statistics.median(times)
    rows, captions = stage.rows_of(trace), caption_texts(trace, list(range(len(trace.steps))))
    times = []
    for _ in range(reps):
        trace_view.figure_store().clear()
        forget().clear()
        t0 = time.perf_counter()
        chosen = trace_view.placement(trace, rows, PROJECTOR, True, captions, page.title)
        trace_view.figure_for(trace, rows, 0, stage.clickable, chosen.box)
        times.append(1000 * (time.perf_counter() - t0))
    out[f"{page.url_path} change 1280x720"] = statistics.median(times)
print(json.dumps(out))
"""


def measure(checkout: Path, reps: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", TIMER, str(checkout), json.dumps(ROOMS), str(reps)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=Path, help="a checkout of the previous code (git worktree add /tmp/old <commit>)")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3, help="new and old alternate this many times; the best round counts")
    args = ap.parse_args()
    sides = {"new": REPO} | ({"old": args.old.resolve()} if args.old else {})
    best: dict[str, dict[str, float]] = {side: {} for side in sides}
    for _ in range(args.rounds):
        for side, checkout in sides.items():
            for key, ms in measure(checkout, args.reps).items():
                best[side][key] = min(ms, best[side].get(key, ms))
    print(f"ms to arrange each page's default trace (median of {args.reps}, best of {args.rounds} rounds)")
    print(f"{'page':<16}{'room':<18}{'new':>8}" + (f"{'old':>8}{'new/old':>9}" if args.old else ""))
    for key, ms in best["new"].items():
        page, room = key.split(" ", 1)
        line = f"{page:<16}{room:<18}{ms:>8.1f}"
        if args.old and key in best["old"]:
            line += f"{best['old'][key]:>8.1f}{ms / best['old'][key]:>9.2f}"
        print(line)


if __name__ == "__main__":
    main()
