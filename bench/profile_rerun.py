"""Where a rerun's time goes: one page through app.py under Streamlit's AppTest, timed and profiled with cProfile.

Run:  python bench/profile_rerun.py [--pages forward im2col] [--top 25] [--largest-only|--default-only]
          [--state bug_lab_bug=height_for_width]   (session state set before the first run, e.g. a page's widget)

For each page and each of the default and the LARGEST settings (bench/latency.py's) it reports:
- cold: st.cache_resource / st.cache_data cleared, then a first run in a new session (trace, figure and arrays
  built; the modules are already imported by an untimed run before, as on a server that has served a page);
- warm: the same session run again (what a rerun costs when the caches hold this view, e.g. after a click that
  changes nothing the page computes from, or on going back to settings seen before).
Times are of AppTest's script thread (where the page runs), median of 3 unprofiled runs; then one profiled run
each prints the top functions by cumulative time (the profiler inflates Python-heavy parts: read it for shares).
Only the script thread is timed and profiled, so AppTest's own set-up (it scans installed packages for components
on every new session, ~0.3 s) is left out. What the browser waits for (network, React, plotly.js) is not in these
numbers: bench/latency.py measures that.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from latency import LARGEST  # noqa: E402  (the same "largest" settings as the browser benchmark)

STATE: dict[str, str] = {}  # --state KEY=VALUE: session state every new session starts with


def new_run(page: str, query: dict):
    """A new AppTest session on `page` with URL `query` (not yet run)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in STATE.items():
        at.session_state[key] = value
    at.query_params.update(query)
    at.switch_page(page)
    return at


def clear_caches() -> None:
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()


def cold(page: str, query: dict):
    clear_caches()
    at = new_run(page, query)
    at.run()
    if at.exception:
        raise RuntimeError(f"{page}: {[e.value for e in at.exception]}")
    return at


class ScriptThread:
    """Times (and optionally profiles) AppTest's script thread: the page runs there, not in the caller's thread,
    and cProfile only sees the thread that enabled it. Wraps LocalScriptRunner._run_script_thread once."""

    profiler: cProfile.Profile | None = None
    last_ms: float = 0.0

    @classmethod
    def install(cls) -> None:
        from streamlit.testing.v1.local_script_runner import LocalScriptRunner

        original = LocalScriptRunner._run_script_thread

        def wrapped(self) -> None:
            prof = cls.profiler
            t = time.perf_counter()
            if prof is not None:
                prof.enable()
            try:
                original(self)
            finally:
                if prof is not None:
                    prof.disable()
                cls.last_ms = (time.perf_counter() - t) * 1000

        LocalScriptRunner._run_script_thread = wrapped


def script_ms(fn) -> float:
    """Run `fn` (which runs the app once) and return the time its script thread took, in ms."""
    fn()
    return ScriptThread.last_ms


def profile(fn, top: int) -> str:
    prof = cProfile.Profile()
    ScriptThread.profiler = prof
    try:
        fn()
    finally:
        ScriptThread.profiler = None
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    text = out.getvalue()
    lines = text.splitlines()
    keep = [ln.replace(str(REPO) + "/", "") for ln in lines if ln.strip()]
    # drop the banner lines pstats prints before the table; keep the header and rows, paths shortened
    start = next((i for i, ln in enumerate(keep) if ln.lstrip().startswith("ncalls")), 0)
    return "\n".join(_shorten(ln) for ln in keep[start:])


def _shorten(line: str) -> str:
    for marker in ("site-packages/", "lib/python3.11/"):
        if marker in line:
            head, _, tail = line.partition(marker)
            line = head[: head.rfind(" ") + 1] + tail
    return line


def census(pages: list[str], plans: list[tuple[str, dict]]) -> None:
    """What each page sends the browser: the first chart's JSON size, traces, frames and heatmap cells (read from the
    chart message AppTest received, i.e. the spec string the browser parses; nothing recomputed here)."""
    import json

    print(f"\n{'page':<16}{'settings':<9}{'spec KB':>8}{'traces':>7}{'frames':>7}{'cells':>8}{'frame cells':>12}{'text':>6}{'run ms':>8}")
    for name in pages:
        for label, query in plans:
            clear_caches()
            at = new_run(f"pages/{name}.py", query)
            at.run()
            ms = ScriptThread.last_ms
            charts = at.get("plotly_chart")
            if at.exception or not charts:
                print(f"{name:<16}{label:<9}  (no chart{': ' + str(at.exception[0].value)[:80] if at.exception else ''})")
                continue
            spec_text = charts[0].proto.spec
            spec = json.loads(spec_text)
            data, frames = spec.get("data", []), spec.get("frames", [])

            def cells(trs: list) -> int:
                return sum(_cell_count(t.get("z")) for t in trs if t.get("type", "heatmap") == "heatmap")

            text = any("texttemplate" in t for t in data)
            print(f"{name:<16}{label:<9}{len(spec_text) / 1024:>8.0f}{len(data):>7}{len(frames):>7}{cells(data):>8}"
                  f"{sum(cells(f.get('data', [])) for f in frames):>12}{('yes' if text else 'no'):>6}{ms:>8.0f}")


def _cell_count(z) -> int:
    """Cells of a heatmap z: a Plotly typed array {"bdata", "shape"} or nested lists."""
    if isinstance(z, dict):
        shape = [int(v) for v in str(z.get("shape", "0")).split(",")]
        out = 1
        for v in shape:
            out *= v
        return out
    if isinstance(z, list):
        return sum(len(r) if isinstance(r, list) else 1 for r in z)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", nargs="*", default=["forward"], help="page scripts by url path (default: forward)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--largest-only", action="store_true")
    ap.add_argument("--default-only", action="store_true")
    ap.add_argument("--census", action="store_true", help="only the figure census (size, traces, frames) of the pages")
    ap.add_argument("--state", nargs="*", default=[], metavar="KEY=VALUE",
                    help="session state of every timed session, e.g. a page's widget: bug_lab_bug=height_for_width")
    args = ap.parse_args(argv)
    STATE.update(kv.split("=", 1) for kv in args.state)
    plans = [("default", {}), ("largest", LARGEST)]
    if args.largest_only:
        plans = plans[1:]
    if args.default_only:
        plans = plans[:1]
    ScriptThread.install()
    new_run("pages/shapes.py", {}).run()  # untimed: imports streamlit, plotly, numpy and the app once
    if args.census:
        census(args.pages, plans)
        return 0
    for name in args.pages:
        page = f"pages/{name}.py"
        for label, query in plans:
            at = cold(page, query)  # also imports this page's own modules, untimed
            cold_ms = statistics.median(script_ms(lambda: cold(page, query)) for _ in range(3))
            warm_ms = statistics.median(script_ms(at.run) for _ in range(3))
            state = "".join(f", {k}={v}" for k, v in STATE.items())
            print(f"\n=== {name} at {label} settings{state}: script thread: cold run {cold_ms:.0f} ms, warm rerun {warm_ms:.0f} ms"
                  " (median of 3, no profiler)")
            print(f"--- cold, top {args.top} by cumulative time")
            print(profile(lambda: cold(page, query), args.top))
            print(f"--- warm, top {args.top} by cumulative time")
            print(profile(at.run, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
