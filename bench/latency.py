"""Browser latency benchmark (issue 6): control change -> redrawn chart, page load -> first chart, chart payload,
animation frame rate; every convviz page against a bare Streamlit slider->heatmap app (the floor) in the same run.

Run:  python bench/latency.py [--reps 10] [--pages forward im2col ...] [--no-largest] [--no-anim] [--figure-floor]
          [--json out.json]

What it does (everything it starts it stops; loopback only, offline):
1. starts `streamlit run bench/floor_app.py` and `streamlit run app.py` (headless, free ports, no file watcher), both
   from the repository root, so both read .streamlit/config.toml (e.g. runner.postScriptGC = false: the floor is the
   same server set up the same way; with Streamlit's defaults its p50 was ~140 ms a change here, with ours ~90 ms);
2. drives Debian chromium (Playwright sync API, /usr/bin/chromium, the browser tests' CHROMIUM_ARGS), one tab per
   (app, page, settings), for every page of convviz/ui/shell.py PAGES (read at run time) at the default settings and
   at the LARGEST settings (printed; the caps of convviz/ui/settings.py);
3. load -> chart: `performance.now()` (whose origin is the navigation start) when plotly.js finished drawing the
   page's first chart (its plotly_afterplot event; every chart is hooked as it appears, AFTERPLOT_INIT). Measured
   twice per tab: the first visit of those settings (the server's caches cold for that page) and a reload (warm);
4. change -> chart: types a new value into a sidebar number input + Enter (convviz: H, alternating H-1 / H; the
   floor: its seed, alternating) and, sampling every animation frame in the page, records when the first chart's
   data object was replaced and plotly.js finished drawing it (its plotly_afterplot event: "chart") and when the
   app is also idle (script state notRunning, nothing stale: "idle"). The clock starts in the page just before
   Playwright types; the typing round trips (a few ms) are in both the app's and the floor's numbers. The first two
   changes hit cold caches (new settings), the rest revisit settings the server has cached: p50/p95 are over all
   reps, "cold" is the slower of the first two;
5. payload: sizes of the websocket frames the browser received during each change (Playwright's framereceived,
   after permessage-deflate is undone): the biggest frame (the chart's delta message) and the total;
6. animation (largest settings): clicks the figure's "Fast" button, listens to plotly_animatingframe on the graph
   div and samples the play slider's active step every animation frame for a few seconds; reports frames drawn per
   second and the configured frame duration. An animation shorter than that (a few frames) is played again from its
   first step, with the Fast button's own arguments, until the time is up, and the rates are taken within each play:
   two gaps of one 5-frame play were too few to measure (Shapes read 11.5 fps in one run, 19.3 in the next).

7. --figure-floor: each page's own figure (the chart spec it sends, from an AppTest run) in a bare app of its own
   (bench/figure_floor_app.py: that figure and one number input), changed and loaded like the page. It splits a page's
   ratio to the floor into what its figure costs (figure / floor) and what the rest of the page adds (page - figure).

The machine is shared (2 cores, other jobs running): numbers are noisy; compare ratios taken in the same run.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))
sys.path.insert(0, str(REPO))
from browser_support import CHROMIUM, CHROMIUM_ARGS, VIEWPORT  # noqa: E402  (shared with the browser tests)

from convviz.ui.settings import LARGEST_QUERY  # noqa: E402  (numpy only: the app's caps)

LARGEST = LARGEST_QUERY  # convviz/ui/settings.py
# Pages whose first chart does not follow the sidebar (Methods & speed times layers of its own sizes): load only.
NO_SIDEBAR_CHART = {"methods"}
DEFAULT_PAGE = [""]  # url_path of PAGES[0], filled by app_pages()
H_LABEL = "H (height)"  # convviz's sidebar input for H (convviz/ui/settings.py INT_FIELDS)
FLOOR_LABEL = "seed"
TIMEOUT_MS = 20_000  # per load or change; a page that misses it is reported and its remaining reps skipped
ANIM_SECONDS = 4.0

# Waits in the page, one check per animation frame, for the first chart to carry a data object other than the one
# saved in window.__cvOld and to have finished drawing it, and for the app to be idle; returns ms since window.__cvT0
# for both moments. "Finished drawing": plotly.js fired plotly_afterplot for that data object (AFTERPLOT_INIT). Streamlit
# remounts the chart on every change (the element's id hashes the figure), so this is a Plotly.newPlot, whose SVG
# shows traces ~100 ms before the plot is done on a multi-panel figure.
WAIT_CHANGE_JS = """async (timeoutMs) => {
  const t0 = window.__cvT0, old = window.__cvOld;
  let chart = null;
  while (performance.now() - t0 < timeoutMs) {
    await new Promise(r => requestAnimationFrame(r));
    const gd = document.querySelector('.js-plotly-plot');
    if (chart === null && gd && gd.data && gd.data !== old && gd.__cvAfterData === gd.data) chart = gd.__cvAfterAt - t0;
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'
      && !document.querySelector('[data-stale="true"]') && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
    if (chart !== null && idle) return {chart, idle: performance.now() - t0};
  }
  return {chart, idle: null};
}"""

# performance.now() counts from the navigation start: its value when the first chart is drawn is load -> chart.
WAIT_LOAD_JS = """async (timeoutMs) => {
  while (performance.now() < timeoutMs) {
    await new Promise(r => requestAnimationFrame(r));
    const gd = document.querySelector('.js-plotly-plot');
    if (gd && gd.data && gd.data.length && gd.__cvAfterData === gd.data) return gd.__cvAfterAt;
  }
  return null;
}"""

# Installed before any page script: every plotly chart that appears is hooked at once (a MutationObserver sees the div
# get its js-plotly-plot class, before plotly.js has finished drawing it) so that the end of each of its draws,
# plotly_afterplot, is recorded on the element with the data object it drew.
AFTERPLOT_INIT = """(() => {
  const hook = gd => {
    if (gd.__cvHooked || typeof gd.on !== 'function') return;
    gd.__cvHooked = true;
    gd.on('plotly_afterplot', () => { gd.__cvAfterAt = performance.now(); gd.__cvAfterData = gd.data; });
  };
  const scan = () => document.querySelectorAll('.js-plotly-plot').forEach(hook);
  new MutationObserver(scan).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['class']});
})();"""

# Installed before any page script: logs every websocket message's arrival time and size in the page, so a change can
# be split into "server + network" (until the chart's message arrived) and "browser" (until the chart was drawn).
WS_LOG_INIT = """(() => {
  window.__cvWs = [];
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', e => {
      const d = e.data;
      window.__cvWs.push([performance.now(), d.byteLength ?? d.size ?? d.length ?? 0]);
    });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();"""

# After a change: when the biggest message (the chart's) and the last message arrived, ms since window.__cvT0.
WS_SPLIT_JS = """(idleMs) => {
  const t0 = window.__cvT0, msgs = (window.__cvWs || []).filter(m => m[0] >= t0 && m[0] <= t0 + idleMs);
  if (!msgs.length) return {big_at: null, last_at: null, big: 0};
  const big = msgs.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {big_at: big[0] - t0, last_at: msgs[msgs.length - 1][0] - t0, big: big[1]};
}"""

# After a load: when the first websocket message and the biggest one (the chart's) arrived, ms since navigation start.
WS_LOAD_JS = """(untilMs) => {
  const msgs = (window.__cvWs || []).filter(m => m[0] <= untilMs);
  if (!msgs.length) return {first_at: null, big_at: null};
  const big = msgs.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {first_at: msgs[0][0], big_at: big[0]};
}"""

ARM_CHANGE_JS = """() => { const gd = document.querySelector('.js-plotly-plot'); window.__cvOld = gd ? gd.data : undefined;
  window.__cvT0 = performance.now(); return !!gd; }"""

# Animation probe: listen to plotly_animatingframe and sample the slider's active step every animation frame. Both are
# recorded as [run, time]: run 0 is the play started by clicking Fast; a short animation that ends before ANIM_SECONDS is
# played again (REPLAY_JS: runs 1, 2, ...), and nothing is recorded while it is taken back to its first step.
ARM_ANIM_JS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  window.__cvAnim = {events: [], changes: [], last: null, lastAt: 0, stop: false, run: 0, paused: false};
  gd.on('plotly_animatingframe', () => { const a = window.__cvAnim; if (!a.paused) a.events.push([a.run, performance.now()]); });
  const tick = () => {
    const a = window.__cvAnim; if (a.stop) return;
    const s = gd._fullLayout && gd._fullLayout.sliders && gd._fullLayout.sliders[0];
    const active = s ? s.active : null;
    if (!a.paused && active !== a.last) { const t = performance.now(); a.changes.push([a.run, t]); a.last = active; a.lastAt = t; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  const s = gd._fullLayout.sliders && gd._fullLayout.sliders[0];
  return {steps: s ? s.steps.length : 0,
          fast_ms: (gd.layout.updatemenus || []).flatMap(m => m.buttons || []).filter(b => (b.label || '').includes('Fast'))
                    .map(b => b.args[1].frame.duration)[0] ?? null};
}"""
# Whether the play has reached the last step and no step has changed for 300 ms.
ANIM_ENDED_JS = """() => { const s = document.querySelector('.js-plotly-plot')._fullLayout.sliders[0];
  return s.active === s.steps.length - 1 && performance.now() - window.__cvAnim.lastAt > 300; }"""
# Back to the first step (not recorded), then Fast again with the Fast button's own arguments.
REPLAY_JS = """async () => {
  const gd = document.querySelector('.js-plotly-plot'), a = window.__cvAnim;
  const fast = gd.layout.updatemenus.flatMap(m => m.buttons || []).find(b => (b.label || '').includes('Fast'));
  a.paused = true;
  await Plotly.animate(gd, gd.layout.sliders[0].steps[0].args[0],
                       {frame: {duration: 0, redraw: true}, transition: {duration: 0}, mode: 'immediate'});
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)));
  a.run += 1; a.last = gd._fullLayout.sliders[0].active; a.paused = false;
  Plotly.animate(gd, fast.args[0], fast.args[1]);
}"""
READ_ANIM_JS = "() => { const a = window.__cvAnim; a.stop = true; return {events: a.events, changes: a.changes}; }"


# --------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(script: str, log: Path, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=None if env is None else {**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{script} exited early:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc, base
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError(f"{script} did not answer within 60 s")
        time.sleep(0.25)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def app_pages() -> list[str]:
    """url_path of every page in convviz/ui/shell.py PAGES, read now (others may have added pages). Also notes the
    first one, the default page, which st.navigation serves at "/" ("/shapes" answers "Page not found")."""
    tree = ast.parse((REPO / "convviz" / "ui" / "shell.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "PageDef"]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    pages = [ast.literal_eval(n.args[2]) for n in calls]
    DEFAULT_PAGE[0] = pages[0] if pages else ""
    return pages


# --------------------------------------------------------------------------------------------- measurements


@dataclass
class Result:
    """Everything measured for one (page, settings) pair; times in ms, sizes in bytes."""

    page: str
    settings: str
    url: str
    load_cold: float | None = None
    load_warm: float | None = None
    load_bytes: int = 0
    load_split: dict | None = None  # first visit: first websocket message / the chart's message arrived (ms)
    chart: list[float] = field(default_factory=list)  # change -> new chart drawn
    idle: list[float] = field(default_factory=list)  # change -> new chart drawn and app idle
    chart_msg: list[float] = field(default_factory=list)  # change -> the chart's (biggest) message arrived in the page
    max_frame: list[int] = field(default_factory=list)  # biggest websocket frame per change (the chart's delta)
    total_bytes: list[int] = field(default_factory=list)
    anim: dict | None = None
    errors: list[str] = field(default_factory=list)

    def p(self, q: float, what: str = "idle") -> float | None:
        xs = sorted(getattr(self, what))
        if not xs:
            return None
        return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


class Tab:
    """One browser tab with a websocket frame log."""

    def __init__(self, context) -> None:
        self.page = context.new_page()
        self.frames: list[int] = []
        self.errors: list[str] = []
        self.page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: self.frames.append(len(payload))))
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))

    def load(self, url: str) -> tuple[float | None, int]:
        self.frames.clear()
        self.page.goto(url, wait_until="commit")
        t = self.page.evaluate(WAIT_LOAD_JS, TIMEOUT_MS)
        self.split = self.page.evaluate(WS_LOAD_JS, t) if t is not None else None
        self.settle()
        return t, sum(self.frames)

    def settle(self) -> None:
        """Wait (untimed) until the app is idle, so the next measurement starts from rest."""
        self.page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=TIMEOUT_MS)
        self.page.wait_for_timeout(300)

    def change(self, label: str, value: int) -> tuple[dict, list[int]]:
        box = self.page.locator(f'[data-testid="stSidebar"] input[aria-label="{label}"]').first
        box.click()
        self.frames.clear()
        self.page.evaluate(ARM_CHANGE_JS)
        box.fill(str(value))
        box.press("Enter")
        out = self.page.evaluate(WAIT_CHANGE_JS, TIMEOUT_MS)
        if out["idle"] is not None:
            out.update(self.page.evaluate(WS_SPLIT_JS, out["idle"]))
        self.page.wait_for_timeout(100)  # let the last frame events reach Python (they are not timed)
        frames = list(self.frames)
        self.settle()
        return out, frames

    def animate(self) -> dict:
        p = self.page
        info = p.evaluate(ARM_ANIM_JS)
        fast = p.locator(".js-plotly-plot .updatemenu-button", has_text="Fast").first
        if not fast.count():
            return {"steps": info["steps"], "error": "no Fast button"}
        fast.click()
        end = time.monotonic() + ANIM_SECONDS
        replays = 0
        while time.monotonic() < end:
            p.wait_for_timeout(100)
            if time.monotonic() < end - 0.5 and p.evaluate(ANIM_ENDED_JS):
                p.evaluate(REPLAY_JS)
                replays += 1
        got = p.evaluate(READ_ANIM_JS)
        pause = p.locator(".js-plotly-plot .updatemenu-button", has_text="Pause").first
        if pause.count():
            pause.click()

        def runs(rows: list) -> list[list[float]]:
            out: dict[int, list[float]] = {}
            for run, t in rows:
                out.setdefault(int(run), []).append(t)
            return list(out.values())

        def gaps_of(rows: list, skip_first: bool) -> list[float]:
            """Time between consecutive entries within each play (never across a replay's rewind)."""
            out = []
            for k, ts in enumerate(runs(rows)):
                ts = ts[1:] if (skip_first and k == 0) else ts  # run 0's first change is the step shown before Play
                out += [b - a for a, b in zip(ts, ts[1:])]
            return out

        def fps(gaps: list[float]) -> float | None:
            return len(gaps) / (sum(gaps) / 1000) if len(gaps) >= 2 else None

        gaps = gaps_of(got["changes"], True)
        return {"steps": info["steps"], "fast_ms": info["fast_ms"], "events": len(got["events"]), "replays": replays,
                "fps_events": fps(gaps_of(got["events"], False)),
                "fps_drawn": fps(gaps), "gap_p50": statistics.median(gaps) if gaps else None, "gap_max": max(gaps) if gaps else None}


def measure(context, base: str, page: str, settings_name: str, query: dict, label: str, values: list[int], reps: int,
            anim: bool) -> Result:
    from urllib.parse import urlencode

    path = "" if page == DEFAULT_PAGE[0] else page  # st.navigation serves the default page at the root only
    url = f"{base}/{path}" + (f"?{urlencode(query)}" if query else "")
    res = Result(page, settings_name, url)
    tab = Tab(context)
    try:
        res.load_cold, res.load_bytes = tab.load(url)
        res.load_split = tab.split
        if res.load_cold is None:
            raise TimeoutError(f"no chart within {TIMEOUT_MS} ms of loading the page")
        res.load_warm, _ = tab.load(url)
        for i in range(0 if page in NO_SIDEBAR_CHART else reps):
            out, frames = tab.change(label, values[i % len(values)])
            if out["idle"] is None:
                res.errors.append(f"change {i}: no new chart + idle app within {TIMEOUT_MS} ms (chart={fmt(out['chart'])})")
                break
            res.chart.append(out["chart"])
            if out.get("big_at") is not None:
                res.chart_msg.append(out["big_at"])
            res.idle.append(out["idle"])
            res.max_frame.append(max(frames, default=0))
            res.total_bytes.append(sum(frames))
        if anim and not res.errors:
            res.anim = tab.animate()
    except Exception as err:  # a page that breaks is reported (with a screenshot), the run goes on
        res.errors.append(f"{type(err).__name__}: {str(err).splitlines()[0][:200]}")
        shot = REPO / "artifacts" / "screenshots" / f"latency_error_{page or 'floor'}_{settings_name}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        try:
            tab.page.screenshot(path=str(shot))
            res.errors.append(f"see {shot.relative_to(REPO)}")
        except Exception:  # the tab itself may be gone
            pass
    res.errors += [f"page error: {e}" for e in tab.errors if e != "undefined"]  # 'undefined': the stopped animation
    tab.page.close()
    return res


# --------------------------------------------------------------------------------------------- report


def fmt(v, unit: str = "") -> str:
    if v is None:
        return "-"
    return f"{v:.0f}{unit}" if isinstance(v, float) else f"{v}{unit}"


def verdict(value, limit) -> str:
    """'ok' / 'MISS' against a goal; '-' when there is nothing measured to judge."""
    return "-" if value is None else ("ok" if value <= limit else "MISS")


def kb(v) -> str:
    return "-" if v is None else f"{v / 1024:.0f}"


def print_report(floor: Result, results: list[Result], figures: dict[tuple[str, str], Result] | None = None) -> None:
    f50 = floor.p(0.5)
    print(f"\nfloor (bench/floor_app.py, number input -> 6x6 heatmap): change->idle p50 {fmt(f50)} ms, p95 {fmt(floor.p(0.95))} ms,"
          f" change->chart p50 {fmt(floor.p(0.5, 'chart'))} ms (its message arrived at {fmt(floor.p(0.5, 'chart_msg'))} ms);"
          f" load->chart {fmt(floor.load_cold)} ms cold /"
          f" {fmt(floor.load_warm)} ms warm; chart frame {kb(max(floor.max_frame, default=None))} KB")
    hdr = (f"{'page':<16}{'settings':<9}{'chg p50':>8}{'p95':>7}{'cold':>7}{'x floor':>8}{'goal':>6}  {'chart p50':>9}{'msg p50':>8}"
           f"{'load cold':>10}{'warm':>6}{'<2s':>5}  {'chart KB':>8}{'goal':>6}{'fps':>6}  errors")
    print("\nchg: change -> new chart drawn and app idle (ms; p50, p95, the slower of the first two = cold caches); x floor:"
          " chg p50 / floor p50 (goal 1.5 default, 3 largest); chart/msg p50: change -> chart drawn / its message arrived;"
          "\nload: navigation start -> first chart drawn (first visit of the settings / reload; goal 2 s); chart KB: the"
          " biggest websocket message of a change (goal 300 KB default, 2 MB largest); fps: Fast animation, largest")
    print("\n" + hdr + "\n" + "-" * len(hdr))
    for r in results:
        p50 = r.p(0.5)
        ratio = p50 / f50 if p50 is not None and f50 else None
        limit = 1.5 if r.settings == "default" else 3.0
        kb_limit = 300 if r.settings == "default" else 2048
        big = max(r.max_frame, default=None)
        cold = max(r.idle[:2]) if r.idle else None
        fps = r.anim.get("fps_drawn") if r.anim else None
        print(f"{r.page:<16}{r.settings:<9}{fmt(p50):>8}{fmt(r.p(0.95)):>7}{fmt(cold):>7}"
              f"{('-' if ratio is None else f'{ratio:.2f}'):>8}{verdict(ratio, limit):>6}"
              f"  {fmt(r.p(0.5, 'chart')):>9}{fmt(r.p(0.5, 'chart_msg')):>8}{fmt(r.load_cold):>10}{fmt(r.load_warm):>6}"
              f"{('ok' if r.load_cold is not None and r.load_cold <= 2000 else 'MISS'):>5}"
              f"  {kb(big):>8}{verdict(big, kb_limit * 1024):>6}"
              f"{('-' if fps is None else f'{fps:.1f}'):>6}  {'; '.join(r.errors)[:160]}")
    if figures:
        print_figure_split(floor, results, figures)
    splits = [r for r in [floor, *results] if r.load_split]
    if splits:
        print("\nfirst visit split (ms since navigation start): websocket's first message / chart message arrived / chart drawn")
        for r in splits:
            print(f"  {r.page or 'floor':<16}{r.settings:<9}{fmt(r.load_split['first_at']):>6} /{fmt(r.load_split['big_at']):>6} /"
                  f"{fmt(r.load_cold):>6}")
    anims = [r for r in results if r.anim]
    if anims:
        print("\nanimation at the largest settings ('Fast' button; fps_drawn = changes of the play slider's step seen per"
              " animation frame; goal >= 10 fps)")
        for r in anims:
            a = r.anim
            if not a.get("fast_ms"):
                print(f"  {r.page:<16} {a}")
                continue

            def one(v) -> str:
                return "-" if v is None else f"{v:.1f}"

            print(f"  {r.page:<16} steps {a['steps']}, played {1 + a.get('replays', 0)}x, Fast frame duration {a['fast_ms']} ms"
                  f" (caps at {1000 / a['fast_ms']:.1f} fps),"
                  f" drawn {one(a['fps_drawn'])} fps, plotly_animatingframe {one(a['fps_events'])} fps,"
                  f" gap p50 {fmt(a['gap_p50'])} ms, max {fmt(a['gap_max'])} ms")


def print_figure_split(floor: Result, results: list[Result], figures: dict[tuple[str, str], Result]) -> None:
    """--figure-floor: each page against its own figure alone in a bare app, and that against the floor."""
    f50 = floor.p(0.5)
    print("\nthe page's own figure alone in a bare app (bench/figure_floor_app.py; change -> chart drawn and idle, p50 ms;"
          " load: first visit -> first chart, ms)")
    hdr = (f"{'page':<16}{'settings':<9}{'page':>6}{'figure':>8}{'floor':>7}{'figure/floor':>14}{'page-figure':>13}"
           f"{'page load':>11}{'figure load':>13}  errors")
    print(hdr + "\n" + "-" * len(hdr))
    for r in results:
        fig = figures.get((r.page, r.settings))
        if fig is None:
            continue
        p50, g50 = r.p(0.5), fig.p(0.5)
        ratio = g50 / f50 if g50 is not None and f50 else None
        rest = p50 - g50 if p50 is not None and g50 is not None else None
        print(f"{r.page:<16}{r.settings:<9}{fmt(p50):>6}{fmt(g50):>8}{fmt(f50):>7}{('-' if ratio is None else f'{ratio:.2f}'):>14}"
              f"{fmt(rest):>13}{fmt(r.load_cold):>11}{fmt(fig.load_cold):>13}  {'; '.join(fig.errors)[:120]}")


def write_figure_specs(pages: list[str], plans: list, folder: Path) -> list[tuple[str, str]]:
    """The chart spec each page sends at each settings, as <page>-<settings>.json in `folder` (AppTest runs)."""
    from draw_cost import chart_specs  # AppTest: imports streamlit only when asked for

    from convviz.ui.shell import PAGES

    paths = {p.url_path: p.path for p in PAGES}
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for page in pages:
        if page in NO_SIDEBAR_CHART:
            continue
        for name, query, _ in plans:
            specs = chart_specs(paths[page], query)
            if specs:
                (folder / f"{page}-{name}.json").write_text(specs[0])
                done.append((page, name))
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10, help="control changes per page and settings (default 10)")
    ap.add_argument("--pages", nargs="*", help="url paths (default: every page in convviz/ui/shell.py PAGES)")
    ap.add_argument("--no-largest", action="store_true", help="only the default settings")
    ap.add_argument("--no-anim", action="store_true", help="skip the animation frame-rate probe")
    ap.add_argument("--figure-floor", action="store_true",
                    help="also time each page's own figure alone in a bare app (bench/figure_floor_app.py)")
    ap.add_argument("--json", type=Path, help="write every measurement here")
    args = ap.parse_args(argv)
    all_pages = app_pages()
    pages = args.pages or all_pages
    from urllib.parse import urlencode

    print(f"pages: {' '.join(pages)}\nlargest settings: ?{urlencode(LARGEST)}")
    logs = Path(tempfile.mkdtemp(prefix="convviz-latency-"))
    procs = []
    from playwright.sync_api import sync_playwright

    plans = [("default", {}, [5, 6])] + ([] if args.no_largest else [("largest", LARGEST, [31, 32])])
    fig_pairs = write_figure_specs(pages, plans, logs / "figures") if args.figure_floor else []
    figures: dict[tuple[str, str], Result] = {}
    try:
        floor_proc, floor_base = start_streamlit("bench/floor_app.py", logs / "floor.log")
        procs.append(floor_proc)
        if fig_pairs:
            fig_proc, fig_base = start_streamlit("bench/figure_floor_app.py", logs / "figure.log",
                                                 env={"CONVVIZ_FIGURE_FLOOR_DIR": str(logs / "figures")})
            procs.append(fig_proc)
        app_proc, app_base = start_streamlit("app.py", logs / "app.log")
        procs.append(app_proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(viewport=VIEWPORT)
            context.add_init_script(WS_LOG_INIT)
            context.add_init_script(AFTERPLOT_INIT)
            warm = Tab(context)  # untimed: the browser's first load compiles Streamlit's JS; the server's first run imports
            for base in (floor_base, app_base):
                warm.load(base + "/")
            warm.page.close()
            t_start = time.monotonic()
            floor = measure(context, floor_base, "", "floor", {}, FLOOR_LABEL, [1, 0], args.reps, anim=False)
            results = []
            for page in pages:
                for name, query, values in plans:
                    r = measure(context, app_base, page, name, query, H_LABEL, values, args.reps,
                                anim=(name == "largest" and not args.no_anim))
                    results.append(r)
                    print(f"  {page} {name}: change p50 {fmt(r.p(0.5))} ms, load {fmt(r.load_cold)} ms"
                          + (f"  [{'; '.join(r.errors)[:120]}]" if r.errors else ""), flush=True)
                    if (page, name) in fig_pairs:  # right after the page: the same moment of the machine's load
                        g = measure(context, fig_base, "", name, {"fig": f"{page}-{name}"}, H_LABEL, [1, 2], args.reps,
                                    anim=False)
                        g.page = page
                        figures[(page, name)] = g
                        print(f"  {page} {name} figure alone: change p50 {fmt(g.p(0.5))} ms, load {fmt(g.load_cold)} ms"
                              + (f"  [{'; '.join(g.errors)[:120]}]" if g.errors else ""), flush=True)
            # the floor again at the end: the machine's load drifts during a run; report the mean of both floors' p50
            floor2 = measure(context, floor_base, "", "floor", {}, FLOOR_LABEL, [1, 0], args.reps, anim=False)
            floor.idle += floor2.idle
            floor.chart += floor2.chart
            floor.chart_msg += floor2.chart_msg
            floor.max_frame += floor2.max_frame
            browser.close()
        print(f"\nrun time {time.monotonic() - t_start:.0f} s; reps {args.reps}; machine: {_machine()}")
        print_report(floor, results, figures)
        if args.json:
            args.json.write_text(json.dumps({"floor": asdict(floor), "results": [asdict(r) for r in results],
                                             "figures": [asdict(g) for g in figures.values()], "largest": LARGEST}, indent=1))
            print(f"\nwrote {args.json}")
    finally:
        for proc in procs:
            stop(proc)
    return 0


def _machine() -> str:
    import os

    try:
        load = os.getloadavg()
    except OSError:
        load = (0, 0, 0)
    return f"{os.cpu_count()} cores, load average {load[0]:.1f}"


if __name__ == "__main__":
    sys.exit(main())
