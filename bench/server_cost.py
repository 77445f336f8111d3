"""What one script run costs the app server, per page, without any browser: CPU seconds of app.py + the page.

Run: python bench/server_cost.py [--sessions 3]

Uses Streamlit's AppTest (the script runs in this process, so time.process_time() counts its CPU), at the settings
bench/load.py gives its sessions 0..--sessions-1 (each new settings: the trace cache misses, as it does for a
session's own settings in the load test), then once more at the same settings (cache hit: what a rerun costs).
Separates the server's share of bench/load.py's latency from the browser's.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=3, help="how many of load.py's session settings to try per page")
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("convviz_bench_load", REPO / "bench" / "load.py")
    load = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = load  # its dataclasses look their module up
    spec.loader.exec_module(load)
    pages = load.app_pages()
    load.PAGE_LIST = pages
    from streamlit.testing.v1 import AppTest

    def run_once(path: str, query: dict[str, str]) -> tuple[float, float]:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
        at.query_params.update(query)
        at.switch_page(f"pages/{path}.py")
        c, t = time.process_time(), time.perf_counter()
        at.run()
        cpu, wall = time.process_time() - c, time.perf_counter() - t
        if at.exception:
            raise SystemExit(f"{path} {query}: {[e.value for e in at.exception]}")
        return cpu, wall

    run_once(pages[0][1], {})  # imports
    print(f"{'page':<18}{'miss cpu s':>12}{'miss wall s':>13}{'hit cpu s':>11}   (median over {args.sessions} session settings)")
    totals = []
    for _title, path in pages:
        miss, wall, hit = [], [], []
        for i in range(args.sessions):
            q = load.session_settings(i).query()
            c, w = run_once(path, q)
            miss.append(c)
            wall.append(w)
            hit.append(run_once(path, q)[0])
        totals.append(statistics.median(miss))
        print(f"{path:<18}{statistics.median(miss):>12.3f}{statistics.median(wall):>13.3f}{statistics.median(hit):>11.3f}")
    print(f"mean over pages (cache miss): {statistics.mean(totals):.3f} CPU s per run")


if __name__ == "__main__":
    main()
