"""Browser latency benchmark (issue 6): change -> chart, load -> chart, payload and animation fps of every page.

Control change -> redrawn chart, page load -> chart, chart payload and animation frame rate of every convviz page,
against a bare Streamlit number input->heatmap app (the floor) in the same run, and with --old against a checkout of
the previous code, interleaved page by page.

Run:  python bench/latency.py [--reps 10] [--reloads 3] [--pages forward im2col ...] [--old PATH] [--no-largest]
          [--no-anim] [--figure-floor] [--json out.json]

What it does (everything it starts it stops; loopback only, offline):
1. starts `streamlit run bench/floor_app.py` and `streamlit run app.py` (headless, free ports, no file watcher) from
   the repository root, and with --old `streamlit run app.py` from PATH (e.g. `git worktree add /tmp/old <commit>`),
   each reading its own .streamlit/config.toml (the floor the app's: the same server set up the same way);
2. drives Debian chromium (Playwright sync API, /usr/bin/chromium, the browser tests' CHROMIUM_ARGS and viewport),
   one browser context per app and one tab per (app, page, settings), for every page of the catalog (convviz/stages.py PAGES)
   (read at run time; an old checkout without a page skips it) at the default settings and at the LARGEST settings
   (printed; the caps of convviz/ui/settings.py). With --old, each page and settings is measured on both apps back
   to back, the order swapped every page, so the machine's load falls on both alike. The floor is measured before
   each page and after the last; a page is compared with the floor runs just before and after it;
3. load -> chart, in ms since the navigation start (performance.now()), from plotly_afterplot events (every chart is
   hooked as it appears, AFTERPLOT_INIT): "first" is the first chart drawn; "final" is the last plotly_afterplot
   before the page settles (app idle and no chart drawn for QUIET_MS), i.e. the chart at its final size: the new page
   draws its figure again once the player has reported the screen. Once per tab on the first visit of the settings
   (the server's caches cold for that page), then --reloads reloads (warm);
4. change -> chart: moves the sidebar's H (convviz: H-1 / H alternately; a slider takes one arrow key, a number input
   is typed + Enter) or the floor's seed, and samples every animation frame in the page: "chart" is when the first
   chart's data object was replaced and plotly.js finished drawing it (plotly_afterplot), "idle" when the app is also
   idle (script notRunning, nothing stale), "final" the last plotly_afterplot before the page settles; "draws" counts
   the plotly_afterplot events until then (and of them those after a Plotly.animate: the player's). The clock starts
   in the page just before Playwright presses the key. The first two changes visit new settings (cold caches); p50 is
   over all --reps;
5. payload: websocket frames the browser received (Playwright's framereceived, after permessage-deflate is undone):
   per change the biggest frame (the chart's delta) and the total, per first visit the biggest and the total;
6. animation, at the largest settings in presenter mode (?present=1) in a 1920 x 1080 context of its own, on a tab
   left to settle: a page with the step player (convviz/ui/player.js) gets speed "fast" in .cv-speed and a click on
   .cv-play; a page with Plotly's own buttons (the old code) a click on its "Fast" updatemenu button. Frames drawn per
   second = plotly_afterplot events on the page's chart (for the player: the chart in its chart key's element), one
   per frame, taken within each play; also counted: plotly_animatingframe, and changes of the step shown (.cv-player
   data-step, or the play slider's active step) sampled every animation frame. A play that ends before ANIM_SECONDS
   of playing is replayed from the first step (.cv-first then .cv-play; or Plotly.animate to the first frame, then
   the Fast button's own arguments) until ANIM_SECONDS were measured; nothing is recorded while it is taken back, nor
   while the app handles the step the player reports when it stops. When the player drives a chart div other than the
   page's (its steps then draw nothing), that is reported and the probe tried again in a fresh context, up to
   ANIM_TRIES tabs;
7. --figure-floor: each page's own figure (the chart spec it sends, from an AppTest run) in a bare app of its own
   (bench/figure_floor_app.py: that figure and one number input), changed and loaded like the page. It splits a page's
   ratio to the floor into what its figure costs (figure / floor) and what the rest of the page adds (page - figure).

Goals judged: change -> chart and load -> first chart no slower than the old code and at most 1.5x the floor, >= 10
fps (animation), payload <= 300 KB at the defaults and <= 2 MB at the largest. "ok" meets a goal; "noise" misses it by
less than the measurement's own spread (half the interquartile range of the reps after the first two, relative to
their median, the larger of the two sides'); a first visit (one sample) takes the spread of the reloads. The machine
is shared (2 cores, other jobs running): compare ratios taken in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))
sys.path.insert(0, str(REPO))
# the browser tests' harness: chromium set-up and app server (start_server, stop_server)
from browser_support import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, start_server, stop_server  # noqa: E402

from convviz.ui.settings import LARGEST_QUERY  # noqa: E402  (numpy only: the app's caps)

LARGEST = LARGEST_QUERY  # convviz/ui/settings.py
# Pages whose first chart does not follow the sidebar (Methods & speed times layers of its own sizes): load only.
NO_SIDEBAR_CHART = {"methods"}
H_LABEL = "H (height)"  # convviz's sidebar control for H (convviz/ui/settings.py INT_FIELDS)
FLOOR_LABEL = "seed"
TIMEOUT_MS = 20_000  # per load or change; a page that misses it is reported and its remaining reps skipped
QUIET_MS = 800  # settled: app idle and no chart drawn for this long (covers the player's screen report and its rerun)
ANIM_VIEWPORT = {"width": 1920, "height": 1080}  # the target: presenter mode at 1920 x 1080
ANIM_SECONDS = 4.0  # of playing measured (replays until then)
ANIM_WALL_S = 25.0  # at most, rewinds and waits included
ANIM_TRIES = 3  # tabs, while the player drives a chart div that is not the page's
PLAYER_REPORT_MS = 350  # player.js REPORT_MS: it tells the server the step shown once it has rested this long

# Installed before any page script. Every plotly chart is hooked as it appears (a MutationObserver sees the div get its
# js-plotly-plot class before plotly.js has finished drawing it): each plotly_afterplot is logged in window.__cvDraws
# as [time, layout width, layout height, animation frame?], and the chart keeps the data object it last drew.
AFTERPLOT_INIT = """(() => {
  window.__cvDraws = [];
  const hook = gd => {
    if (gd.__cvHooked || typeof gd.on !== 'function') return;
    gd.__cvHooked = true;
    gd.on('plotly_animatingframe', () => { gd.__cvAnimating = true; });
    gd.on('plotly_afterplot', () => {
      const t = performance.now(), l = gd._fullLayout || {};
      gd.__cvAfterAt = t; gd.__cvAfterData = gd.data;
      if (gd.data && gd.data.length) window.__cvDraws.push([t, l.width, l.height, !!gd.__cvAnimating]);
      gd.__cvAnimating = false;
    });
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

IDLE_JS = """const cvIdle = () => { const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'
    && !document.querySelector('[data-stale="true"]') && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]'); };"""

# Waits in the page, one check per animation frame, for the first chart to carry a data object other than the one
# saved in window.__cvOld and to have finished drawing it, and for the app to be idle; ms since window.__cvT0.
WAIT_CHANGE_JS = """async (timeoutMs) => {
  """ + IDLE_JS + """
  const t0 = window.__cvT0, old = window.__cvOld;
  let chart = null;
  while (performance.now() - t0 < timeoutMs) {
    await new Promise(r => requestAnimationFrame(r));
    const gd = document.querySelector('.js-plotly-plot');
    if (chart === null && gd && gd.data && gd.data !== old && gd.__cvAfterData === gd.data) chart = gd.__cvAfterAt - t0;
    if (chart !== null && cvIdle()) return {chart, idle: performance.now() - t0};
  }
  return {chart, idle: null};
}"""

# Waits for the first chart drawn on the page; returns its plotly_afterplot time (ms since the navigation start).
WAIT_LOAD_JS = """async (timeoutMs) => {
  while (performance.now() < timeoutMs) {
    const d = (window.__cvDraws || [])[0];
    if (d) return {at: d[0], size: `${d[1]}x${d[2]}`};
    await new Promise(r => requestAnimationFrame(r));
  }
  return null;
}"""

# Waits until the app is idle and no chart has been drawn for quietMs; returns the last plotly_afterplot before that
# (time since the navigation start, size) and how many draws there were since `since` (null: timed out).
SETTLE_JS = """async ([quietMs, timeoutMs, since]) => {
  """ + IDLE_JS + """
  const t0 = performance.now();
  let busyAt = t0;
  while (performance.now() - t0 < timeoutMs) {
    await new Promise(r => requestAnimationFrame(r));
    const now = performance.now(), draws = window.__cvDraws || [], last = draws[draws.length - 1];
    if (!cvIdle()) busyAt = now;
    if (now - Math.max(busyAt, last ? last[0] : 0) >= quietMs) {
      const mine = draws.filter(d => d[0] >= since);
      return {at: last ? last[0] : null, size: last ? `${last[1]}x${last[2]}` : null, draws: mine.length,
              animated: mine.filter(d => d[3]).length};
    }
  }
  return null;
}"""

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
  window.__cvT0 = performance.now(); return window.__cvT0; }"""

# Animation probe, mode "player" (convviz/ui/player.js, in a shadow root) or "plotly" (the figure's own buttons and
# slider). Logs [play, time] of every plotly_afterplot and plotly_animatingframe on the graph div and, sampled every
# animation frame, of every change of the step shown. Play 0 is the first; replays count up; nothing is logged while
# `paused` (a rewind, or the rerun that follows the player's step report).
ANIM_FIND_JS = """const cvFindPlayer = (root) => {
  const el = root.querySelector('.cv-player');
  if (el) return el;
  for (const e of root.querySelectorAll('*')) if (e.shadowRoot) { const f = cvFindPlayer(e.shadowRoot); if (f) return f; }
  return null;
};"""
ARM_ANIM_JS = """(mode) => {
  """ + ANIM_FIND_JS + """
  const pl = mode === 'player' ? cvFindPlayer(document) : null;
  // the chart on the page (the one in the player's chart key's element), not the div the player holds
  const gd = (pl && pl.__cv && document.querySelector(`.st-key-${CSS.escape(pl.__cv.data.chart)} .js-plotly-plot`))
    || document.querySelector('.js-plotly-plot');
  const slider = () => gd._fullLayout && gd._fullLayout.sliders && gd._fullLayout.sliders[0];
  const stepOf = pl ? () => pl.dataset.step : () => (slider() ? slider().active : null);
  const a = window.__cvAnim = {gd, pl, stepOf, events: [], drawn: [], changes: [], last: stepOf(), lastAt: performance.now(),
                               runStart: performance.now(), stop: false, run: 0, paused: false};
  const log = (list) => () => { if (!a.paused && !a.stop) list.push([a.run, performance.now()]); };
  gd.on('plotly_animatingframe', log(a.events));
  gd.on('plotly_afterplot', log(a.drawn));
  const tick = () => {
    if (a.stop) return;
    const s = stepOf();
    if (!a.paused && s !== a.last) { const t = performance.now(); a.changes.push([a.run, t]); a.last = s; a.lastAt = t; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  let meta = {};
  try { meta = typeof gd.layout.meta === 'string' ? JSON.parse(gd.layout.meta) : (gd.layout.meta || {}); } catch (e) {}
  const fast = (gd.layout.updatemenus || []).flatMap(m => m.buttons || []).find(b => (b.label || '').includes('Fast'));
  return {steps: pl ? pl.__cv.data.frames.length : (slider() ? slider().steps.length : 0),
          frame_steps: (meta.frame_steps || []).length || null, total_steps: meta.total_steps ?? null,
          fast_ms: fast ? fast.args[1].frame.duration : null, size: `${gd._fullLayout.width}x${gd._fullLayout.height}`,
          stale: pl ? pl.__cv.gd !== gd : null};
}"""
# Whether the play is over (player: not playing; plotly: on the last step, unchanged for 300 ms), where it stopped, and
# how much playing has been measured so far (ms, the sum over plays of first to last frame drawn).
ANIM_STATE_JS = """() => {
  const a = window.__cvAnim, now = performance.now();
  let ended, step = a.stepOf(), last;
  if (a.pl) { const d = a.pl.__cv.data; last = String(d.steps[d.steps.length - 1]);
              ended = a.pl.dataset.playing === 'false' && now - a.runStart > 300; }
  else { const s = a.gd._fullLayout.sliders[0]; last = s.steps.length - 1; ended = s.active === last && now - a.lastAt > 300; }
  const spans = {};
  for (const [run, t] of a.drawn) { spans[run] = spans[run] || [t, t]; spans[run][1] = t; }
  const played = Object.values(spans).reduce((s, [x, y]) => s + y - x, 0);
  return {ended, step: String(step), last: String(last), played, drawn: a.drawn.length};
}"""
PAUSE_ANIM_JS = "() => { window.__cvAnim.paused = true; }"
# Back to the first step (not logged), then play again: the player's own buttons, or the Fast button's arguments.
REPLAY_JS = """async () => {
  const a = window.__cvAnim, gd = a.gd;
  a.paused = true;
  const drawn = new Promise(r => {
    const done = () => { gd.removeListener('plotly_afterplot', done); r(); };
    gd.on('plotly_afterplot', done); setTimeout(done, 2000);
  });
  let go;
  if (a.pl) {
    a.pl.querySelector('.cv-first').click();
    go = () => a.pl.querySelector('.cv-play').click();
  } else {
    const fast = gd.layout.updatemenus.flatMap(m => m.buttons || []).find(b => (b.label || '').includes('Fast'));
    Plotly.animate(gd, gd.layout.sliders[0].steps[0].args[0], {frame: {duration: 0, redraw: true}, transition: {duration: 0},
                                                             mode: 'immediate'});
    go = () => Plotly.animate(gd, fast.args[0], fast.args[1]);
  }
  await drawn;
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)));
  a.run += 1; a.last = a.stepOf(); a.lastAt = a.runStart = performance.now(); a.paused = false;
  go();
}"""
READ_ANIM_JS = """() => { const a = window.__cvAnim; a.stop = true;
  return {events: a.events, drawn: a.drawn, changes: a.changes, playing: a.pl ? a.pl.dataset.playing : null}; }"""


# --------------------------------------------------------------------------------------------- the checkouts compared


PAGE_LIST = ("try:\n    from convviz.stages import PAGES\n"  # the catalog; older checkouts kept PAGES in the shell
             "except ImportError:\n    from convviz.ui.shell import PAGES\n"
             "print(' '.join(p.url_path for p in PAGES))")


def checkout_pages(root: Path = REPO) -> list[str]:
    """url_path of every page of the checkout at <root>, from its own catalog (imported there, in a subprocess: the
    checkouts compared may list different pages); the first is the default page, which st.navigation serves at "/"
    only ("/shapes" answers "Page not found")."""
    out = subprocess.run([sys.executable, "-c", PAGE_LIST], cwd=root, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(root)})
    return out.stdout.split()


def player_fast_ms(root: Path) -> int | None:
    """The player's "fast" frame time (ms, a minimum) from <root>/convviz/ui/player.js SPEEDS; None without a player."""
    js = root / "convviz" / "ui" / "player.js"
    m = re.search(r"\bfast:\s*(\d+)", js.read_text()) if js.is_file() else None
    return int(m.group(1)) if m else None


@dataclass
class App:
    """One Streamlit app under test: its checkout, server, pages and browser contexts."""

    name: str  # "new", "old", "floor", "figure"
    root: Path
    script: str
    base: str = ""
    pages: list[str] = field(default_factory=list)
    context: Any = None  # the browser context of the measurements (VIEWPORT)
    anim_context: Any = None  # presenter-mode animation: ANIM_VIEWPORT

    def url(self, page: str, query: dict) -> str:
        path = "" if self.pages and page == self.pages[0] else page  # the default page is served at the root only
        return f"{self.base}/{path}" + (f"?{urlencode(query)}" if query else "")


# --------------------------------------------------------------------------------------------- measurements


def pct(xs: list[float], q: float) -> float | None:
    xs = sorted(x for x in xs if x is not None)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else None


def spread(xs: list[float]) -> float | None:
    """Half the interquartile range relative to the median: the noise of a p50 taken over these reps."""
    xs = [x for x in xs if x is not None]
    if len(xs) < 2 or not pct(xs, 0.5):
        return None
    return (pct(xs, 0.75) - pct(xs, 0.25)) / (2 * pct(xs, 0.5))


@dataclass
class Result:
    """Everything measured for one (app, page, settings); times in ms, sizes in bytes."""

    app: str
    page: str
    settings: str
    url: str
    load_cold: float | None = None  # first visit: navigation start -> first chart drawn
    load_cold_final: float | None = None  # first visit: navigation start -> last draw before the page settled
    load_sizes: str = ""  # first visit: first chart's size -> final size (layout px)
    load_draws: int | None = None  # first visit: plotly_afterplot events until settled (of them by Plotly.animate)
    load_animated: int | None = None
    load_warm: list[float] = field(default_factory=list)  # reloads, as load_cold
    load_warm_final: list[float] = field(default_factory=list)
    load_bytes: int = 0  # first visit: all websocket frames
    load_max_frame: int = 0  # first visit: the biggest websocket frame
    load_split: dict | None = None  # first visit: first websocket message / the chart's message arrived (ms)
    chart: list[float] = field(default_factory=list)  # change -> new chart drawn
    idle: list[float] = field(default_factory=list)  # change -> new chart drawn and app idle
    final: list[float] = field(default_factory=list)  # change -> last chart draw before the page settled
    draws: list[int] = field(default_factory=list)  # plotly_afterplot events per change
    animated: list[int] = field(default_factory=list)  # of them, draws by Plotly.animate (the player's)
    chart_msg: list[float] = field(default_factory=list)  # change -> the chart's (biggest) message arrived in the page
    max_frame: list[int] = field(default_factory=list)  # biggest websocket frame per change (the chart's delta)
    total_bytes: list[int] = field(default_factory=list)
    anim: dict | None = None
    errors: list[str] = field(default_factory=list)

    def p(self, q: float, what: str = "idle") -> float | None:
        return pct(getattr(self, what), q)


class Tab:
    """One browser tab with a websocket frame log."""

    def __init__(self, context) -> None:
        self.page = context.new_page()
        self.frames: list[int] = []
        self.errors: list[str] = []
        self.split: dict | None = None
        self.page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: self.frames.append(len(payload))))
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))

    def load(self, url: str) -> dict:
        """Navigate and time it: first chart drawn, last draw before the page settled (ms since navigation start)."""
        self.frames.clear()
        self.page.goto(url, wait_until="commit")
        first = self.page.evaluate(WAIT_LOAD_JS, TIMEOUT_MS)
        if first is None:
            return {"first": None}
        self.split = self.page.evaluate(WS_LOAD_JS, first["at"])
        final = self.page.evaluate(SETTLE_JS, [QUIET_MS, TIMEOUT_MS, 0]) or {}
        self.settle()
        return {"first": first["at"], "final": final.get("at"), "sizes": f"{first['size']} -> {final.get('size')}",
                "draws": final.get("draws"), "animated": final.get("animated"), "bytes": sum(self.frames),
                "max_frame": max(self.frames, default=0)}

    def settle(self) -> None:
        """Wait (untimed) until the app is idle, so the next measurement starts from rest."""
        self.page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=TIMEOUT_MS)
        self.page.wait_for_timeout(300)

    def change(self, label: str, value: int) -> tuple[dict, list[int]]:
        """Set a sidebar control to `value` and time it: a number input (the floor apps) is typed + Enter; a slider
        (convviz) takes arrow keys, one per step (the values here are one step apart: one key, one rerun)."""
        box = self.page.locator(f'[data-testid="stSidebar"] input[aria-label="{label}"]').first
        slider = box.get_attribute("type") == "range"
        if slider:
            box.focus()
        else:
            box.click()
        steps = int(value) - int(box.input_value()) if slider else 0
        self.frames.clear()
        t0 = self.page.evaluate(ARM_CHANGE_JS)
        if slider:
            for _ in range(abs(steps)):
                box.press("ArrowRight" if steps > 0 else "ArrowLeft")
        else:
            box.fill(str(value))
            box.press("Enter")
        out = self.page.evaluate(WAIT_CHANGE_JS, TIMEOUT_MS)
        if out["idle"] is not None:
            out.update(self.page.evaluate(WS_SPLIT_JS, out["idle"]))
            final = self.page.evaluate(SETTLE_JS, [QUIET_MS, TIMEOUT_MS, t0]) or {}
            out["final"] = None if final.get("at") is None else final["at"] - t0
            out["draws"], out["animated"] = final.get("draws"), final.get("animated")
        self.page.wait_for_timeout(100)  # let the last frame events reach Python (they are not timed)
        frames = list(self.frames)
        self.settle()
        return out, frames

    def animate(self, fast_ms: int | None) -> dict:
        """Play the page's first animated figure at its fastest and count the frames drawn (see the docstring, 6)."""
        p = self.page
        if p.locator(".cv-play").count():
            mode = "player"
            if not p.locator(".cv-play").first.is_visible():
                return {"mode": mode, "error": "the player shows no Play button (one frame)"}
        elif p.locator(".js-plotly-plot .updatemenu-button", has_text="Fast").count():
            mode = "plotly"
        else:
            return {"mode": None, "error": "no player and no Fast button"}
        info = p.evaluate(ARM_ANIM_JS, mode)
        if mode == "player":
            p.locator(".cv-speed").first.select_option("fast")
            p.locator(".cv-play").first.click()
        else:
            p.locator(".js-plotly-plot .updatemenu-button", has_text="Fast").first.click()
        start, replays, early = time.monotonic(), 0, []
        wall = 2.0 if info["stale"] else ANIM_WALL_S  # a stale chart div: long enough to show that nothing is drawn
        while time.monotonic() - start < wall:
            p.wait_for_timeout(100)
            state = p.evaluate(ANIM_STATE_JS)
            if state["played"] >= ANIM_SECONDS * 1000:
                break
            if state["ended"]:
                if not state["drawn"]:  # a play that drew nothing on the page's chart: replaying would not either
                    break
                if state["step"] != state["last"]:
                    early.append(f"play {replays} stopped at step {state['step']} (last {state['last']})")
                p.evaluate(PAUSE_ANIM_JS)
                if mode == "player":  # it reports the step it stopped on: let that rerun and redraw pass unlogged
                    p.wait_for_timeout(PLAYER_REPORT_MS + 100)
                    p.evaluate(SETTLE_JS, [300, TIMEOUT_MS, 0])
                p.evaluate(REPLAY_JS)
                replays += 1
        got = p.evaluate(READ_ANIM_JS)
        if mode == "player" and got["playing"] == "true":
            p.locator(".cv-play").first.click()
        elif mode == "plotly":
            pause = p.locator(".js-plotly-plot .updatemenu-button", has_text="Pause").first
            if pause.count():
                pause.click()

        def gaps(rows: list) -> list[float]:
            """Time between consecutive entries within each play (never across a rewind)."""
            runs: dict[int, list[float]] = {}
            for run, t in rows:
                runs.setdefault(int(run), []).append(t)
            return [b - a for ts in runs.values() for a, b in zip(ts, ts[1:])]

        def fps(g: list[float]) -> float | None:
            return len(g) / (sum(g) / 1000) if len(g) >= 2 else None

        drawn = gaps(got["drawn"])
        stale = bool(info.pop("stale"))
        if stale:
            early.append(f"{len(got['changes'])} steps shown, {len(got['drawn'])} frames drawn on the page's chart")
        return {"stale": stale, "mode": mode, **info, "fast_ms": info["fast_ms"] if mode == "plotly" else fast_ms,
                "plays": 1 + replays, "frames": len(got["drawn"]), "fps": fps(drawn),
                "fps_events": fps(gaps(got["events"])), "fps_steps": fps(gaps(got["changes"])),
                "gap_p50": statistics.median(drawn) if drawn else None, "gap_max": max(drawn) if drawn else None,
                "gap_spread": spread(drawn),
                "early": early}


def measure(app: App, page: str, settings_name: str, query: dict, label: str, values: list[int], reps: int,
            reloads: int) -> Result:
    url = app.url(page, query)
    res = Result(app.name, page, settings_name, url)
    tab = Tab(app.context)
    try:
        first = tab.load(url)
        res.load_cold = first["first"]
        if res.load_cold is None:
            raise TimeoutError(f"no chart within {TIMEOUT_MS} ms of loading the page")
        res.load_cold_final, res.load_sizes = first["final"], first["sizes"]
        res.load_draws, res.load_animated = first["draws"], first["animated"]
        res.load_bytes, res.load_max_frame, res.load_split = first["bytes"], first["max_frame"], tab.split
        for _ in range(reloads):
            again = tab.load(url)
            res.load_warm.append(again["first"])
            res.load_warm_final.append(again.get("final"))
        for i in range(0 if page in NO_SIDEBAR_CHART else reps):
            out, frames = tab.change(label, values[i % len(values)])
            if out["idle"] is None:
                res.errors.append(f"change {i}: no new chart + idle app within {TIMEOUT_MS} ms (chart={fmt(out['chart'])})")
                break
            res.chart.append(out["chart"])
            if out.get("big_at") is not None:
                res.chart_msg.append(out["big_at"])
            res.idle.append(out["idle"])
            res.final.append(out.get("final"))
            res.draws.append(out.get("draws"))
            res.animated.append(out.get("animated"))
            res.max_frame.append(max(frames, default=0))
            res.total_bytes.append(sum(frames))
    except Exception as err:  # a page that breaks is reported (with a screenshot), the run goes on
        res.errors.append(f"{type(err).__name__}: {str(err).splitlines()[0][:200]}")
        screenshot(tab, res)
    res.errors += [f"page error: {e}" for e in tab.errors if e != "undefined"]  # 'undefined': the stopped animation
    tab.page.close()
    return res


def measure_anim(app: App, page: str, fresh_context) -> dict:
    """The animation probe on a tab of its own: largest settings, presenter mode, ANIM_VIEWPORT; the page settled.
    The first tab is in the app's presenter context (its screen cookie set by earlier pages); while the player drives
    a chart div that is not the page's, the probe is tried again in a fresh context, up to ANIM_TRIES tabs."""
    stale: list[str] = []
    for k in range(ANIM_TRIES):
        ctx = app.anim_context if k == 0 else fresh_context()
        out = anim_once(ctx, app, page)
        if k:
            ctx.close()
        if not out.get("stale"):
            break
        stale.append(f"tab {k + 1}: " + "; ".join(out.get("early", [])))
    out["tries"], out["stale_tabs"] = k + 1, len(stale)
    if stale:
        out["early"] = [f"the player drove a stale chart div in {len(stale)} of {k + 1} tabs ({stale[0]})"] \
            + ([] if out.get("stale") else out.get("early", []))
    return out


def anim_once(context, app: App, page: str) -> dict:
    tab = Tab(context)
    out: dict = {}
    try:
        if tab.load(app.url(page, {**LARGEST, "present": "1"}))["first"] is None:
            raise TimeoutError(f"no chart within {TIMEOUT_MS} ms of loading the page")
        out = tab.animate(player_fast_ms(app.root))
    except Exception as err:
        shot = Result(app.name, page, "anim", "")
        screenshot(tab, shot)
        out["error"] = "; ".join([f"{type(err).__name__}: {str(err).splitlines()[0][:200]}", *shot.errors])
    out["errors"] = [e for e in tab.errors if e != "undefined"]
    tab.page.close()
    return out


def screenshot(tab: Tab, res: Result) -> None:
    shot = REPO / "artifacts" / "screenshots" / f"latency_error_{res.app}_{res.page or 'floor'}_{res.settings}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    try:
        tab.page.screenshot(path=str(shot))
        res.errors.append(f"see {shot.relative_to(REPO)}")
    except Exception:  # the tab itself may be gone
        pass


# --------------------------------------------------------------------------------------------- report


def fmt(v, unit: str = "") -> str:
    if v is None:
        return "-"
    return f"{v:.0f}{unit}" if isinstance(v, float) else f"{v}{unit}"


def f2(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def f1(v) -> str:
    return "-" if v is None else f"{v:.1f}"


def kb(v) -> str:
    return "-" if v is None else f"{v / 1024:.0f}"


def ratio(a, b) -> float | None:
    return a / b if a is not None and b else None


def judge(value, limit, band=None, miss: str = "MISS") -> str:
    """'ok' within the goal, 'noise' beyond it by less than the relative spread `band`, else `miss`; '-' unmeasured."""
    if value is None:
        return "-"
    if value <= limit:
        return "ok"
    return "noise" if band is not None and value <= limit * (1 + band) else miss


def band_of(*lists) -> float | None:
    """The larger spread of the lists, each taken without its first two reps (cold caches) when 2 or more remain."""
    bands = [b for b in (spread(xs[2:] if len(xs) >= 4 else xs) for xs in lists) if b is not None]
    return max(bands) if bands else None


def table(cols: list[tuple[str, int]], rows: list[list[str]]) -> None:
    """Rows under a header; the first two columns (page, settings) left-aligned, the others right-aligned."""
    hdr = "".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(cols))
    print(hdr + "\n" + "-" * len(hdr))
    for row in rows:
        print("".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, (_, w)) in enumerate(zip(row, cols))))


class Report:
    """The run's tables; `apps` is ["new"] or ["new", "old"]."""

    def __init__(self, floors: list[Result], results: dict[tuple[str, str, str], Result], apps: list[str],
                 pages: list[str], plans: list[str]) -> None:
        self.floors, self.results, self.apps = floors, results, apps
        self.rows = [(p, n) for p in pages for n in plans]
        self.near = {p: floors[i:i + 2] for i, p in enumerate(pages)}  # the floor runs just before and after the page
        self.old = "old" in apps
        self.misses: dict[str, list[str]] = {}

    def floor(self, page: str | None, what: str) -> list[float]:
        """The floor's samples of `what` (chart, load_cold, load_warm) around `page`, or of the whole run."""
        out = []
        for f in self.floors if page is None else self.near[page]:
            v = getattr(f, what)
            out += v if isinstance(v, list) else ([] if v is None else [v])
        return out

    def get(self, app: str, page: str, settings: str) -> Result | None:
        return self.results.get((app, page, settings))

    def note(self, goal: str, verdict: str, what: str) -> None:
        if "than old" in goal and not self.old:
            return
        self.misses.setdefault(goal, [])
        if verdict not in ("ok", "-"):
            self.misses[goal].append(f"{what} {verdict}")

    def both(self, page: str, settings: str, get) -> tuple[Any, Any]:
        n, o = self.get("new", page, settings), self.get("old", page, settings)
        return (get(n) if n else None), (get(o) if o else None)

    def floor_line(self) -> None:
        runs = " ".join(fmt(f.p(0.5, "chart")) for f in self.floors)
        print(f"\nfloor (bench/floor_app.py, number input -> 6x6 heatmap; run before each page and at the end, a page is"
              f" compared with the runs just before and after it): change->chart p50 {fmt(pct(self.floor(None, 'chart'), 0.5))} ms"
              f" (per run: {runs}), change->idle p50 {fmt(pct(self.floor(None, 'idle'), 0.5))} ms;"
              f" load->chart first visit p50 {fmt(pct(self.floor(None, 'load_cold'), 0.5))} ms,"
              f" reload p50 {fmt(pct(self.floor(None, 'load_warm'), 0.5))} ms")

    def changes(self) -> None:
        print("\n1. change -> chart drawn, p50 of the changes (ms); new/old and x floor (p50 / the floor's p50) with"
              " verdicts: new no slower than old, new <= 1.5x the floor; idle: chart drawn and app idle; final: the last"
              " draw before the page settled; draws: plotly_afterplot events per change (p50)")
        cols = [("page", 16), ("settings", 9), ("new", 6)] + ([("old", 6), ("new/old", 8), ("", 7)] if self.old else []) \
            + [("new/fl", 8)] + ([("old/fl", 7)] if self.old else []) + [("<=1.5", 7), ("idle new", 9)] \
            + ([("old", 6)] if self.old else []) + [("final new", 10)] + ([("old", 6)] if self.old else []) \
            + [("draws new", 10)] + ([("old", 4)] if self.old else [])
        rows = []
        for page, st in self.rows:
            n, o = self.get("new", page, st), self.get("old", page, st)
            if page in NO_SIDEBAR_CHART or n is None:
                continue
            f_chart = self.floor(page, "chart")
            n50, o50, f50 = n.p(0.5, "chart"), (o.p(0.5, "chart") if o else None), pct(f_chart, 0.5)
            r_old, r_fl = ratio(n50, o50), ratio(n50, f50)
            v_old = judge(r_old, 1.0, band_of(n.chart, o.chart if o else []), "SLOWER")
            v_fl = judge(r_fl, 1.5, band_of(n.chart, f_chart))
            self.note("change->chart: new no slower than old", v_old, f"{page} {st} {f2(r_old)}")
            self.note("change->chart: new <= 1.5x the floor", v_fl, f"{page} {st} {f2(r_fl)}")
            row = [page, st, fmt(n50)]
            if self.old:
                row += [fmt(o50), f2(r_old), v_old]
            row += [f2(r_fl)] + ([f2(ratio(o50, f50))] if self.old else []) + [v_fl, fmt(n.p(0.5, "idle"))]
            row += [fmt(o.p(0.5, "idle") if o else None)] if self.old else []
            row += [fmt(n.p(0.5, "final"))] + ([fmt(o.p(0.5, "final") if o else None)] if self.old else [])
            row += [f"{fmt(n.p(0.5, 'draws'))} ({fmt(n.p(0.5, 'animated'))})"]
            row += [fmt(o.p(0.5, "draws") if o else None)] if self.old else []
            rows.append(row)
        table(cols, rows)

    def loads(self, warm: bool) -> None:
        if warm:
            print("\n3. load -> chart on a reload (warm caches), p50 of the reloads (ms since navigation start); first: the"
                  " first chart drawn, final: the last draw before the page settled")
        else:
            print("\n2. load -> chart on the first visit of the settings (cold caches; ms since navigation start); first:"
                  " the first chart drawn, final: the last draw before the page settled (the chart at its final size);"
                  " x floor: / the floor's first visit; sizes: the new chart's first -> final layout px; draws: of the"
                  " new page until it settled (by Plotly.animate)")
        cols = [("page", 16), ("settings", 9), ("first new", 10)] + ([("old", 6), ("new/old", 8), ("", 7)] if self.old else []) \
            + [("new/fl", 8)] + ([("old/fl", 7)] if self.old else []) + [("<=1.5", 7), ("final new", 10)] \
            + ([("old", 6)] if self.old else []) + [("<2s", 5)]
        if not warm:
            cols += [("  sizes (new)", 26), ("draws", 8)]
        rows = []
        for page, st in self.rows:
            n, o = self.get("new", page, st), self.get("old", page, st)
            if n is None:
                continue

            def first(r):
                return None if r is None else (pct(r.load_warm, 0.5) if warm else r.load_cold)

            def final(r):
                return None if r is None else (pct(r.load_warm_final, 0.5) if warm else r.load_cold_final)

            f_warm = self.floor(page, "load_warm")
            f0 = pct(f_warm if warm else self.floor(page, "load_cold"), 0.5)
            nf, of = first(n), first(o)
            b_old = band_of(n.load_warm, o.load_warm if o else [])
            r_old, r_fl = ratio(nf, of), ratio(nf, f0)
            v_old = judge(r_old, 1.0, b_old, "SLOWER")
            v_fl = judge(r_fl, 1.5, band_of(n.load_warm, f_warm))
            what = "reload" if warm else "first visit"
            self.note(f"load -> first chart ({what}): new no slower than old", v_old, f"{page} {st} {f2(r_old)}")
            self.note(f"load -> first chart ({what}): new <= 1.5x the floor", v_fl, f"{page} {st} {f2(r_fl)}")
            row = [page, st, fmt(nf)] + ([fmt(of), f2(r_old), v_old] if self.old else [])
            row += [f2(r_fl)] + ([f2(ratio(of, f0))] if self.old else []) + [v_fl, fmt(final(n))]
            row += [fmt(final(o))] if self.old else []
            row += ["-" if final(n) is None else ("ok" if final(n) <= 2000 else "MISS")]
            if not warm:
                row += [n.load_sizes, f"{fmt(n.load_draws)} ({fmt(n.load_animated)})"]
            rows.append(row)
        table(cols, rows)

    def payload(self) -> None:
        print("\n4. payload (KB, websocket frames as received): change: the biggest frame (the chart's delta), max over the"
              " changes, and the total of a change (p50); first visit: the biggest frame and the total; goal for the new"
              " app's biggest frame: 300 KB at the defaults, 2 MB at the largest")
        cols = [("page", 16), ("settings", 9), ("chg max new", 12)] + ([("old", 6)] if self.old else []) \
            + [("chg total new", 14)] + ([("old", 6)] if self.old else []) + [("load max new", 13)] \
            + ([("old", 6)] if self.old else []) + [("load total new", 15)] + ([("old", 6)] if self.old else []) + [("goal", 6)]
        rows = []
        for page, st in self.rows:
            n, o = self.get("new", page, st), self.get("old", page, st)
            if n is None:
                continue
            big = max(n.max_frame + [n.load_max_frame]) or None
            v = judge(big, (300 if st == "default" else 2048) * 1024)
            self.note("payload: <= 300 KB default, <= 2 MB largest", v, f"{page} {st} {kb(big)} KB")
            row = [page, st, kb(max(n.max_frame, default=None))] + ([kb(max(o.max_frame, default=None) if o else None)] if self.old else [])
            row += [kb(pct(n.total_bytes, 0.5))] + ([kb(pct(o.total_bytes, 0.5) if o else None)] if self.old else [])
            row += [kb(n.load_max_frame)] + ([kb(o.load_max_frame if o else None)] if self.old else [])
            row += [kb(n.load_bytes)] + ([kb(o.load_bytes if o else None)] if self.old else []) + [v]
            rows.append(row)
        table(cols, rows)

    def animation(self) -> None:
        anims = [(page, app, r.anim) for page, st in self.rows if st == "largest" for app in self.apps
                 if (r := self.get(app, page, st)) and r.anim]
        if not anims:
            return
        print(f"\n5. animation at the largest settings, presenter mode (?present=1), {ANIM_VIEWPORT['width']} x"
              f" {ANIM_VIEWPORT['height']}: frames drawn per second within each play (plotly_afterplot on the page's chart);"
              " new: the player at speed 'fast', old: Plotly's 'Fast' button; events: plotly_animatingframe per second;"
              " steps: changes of the step shown per second; goal for the new app >= 10 fps")
        cols = [("page", 16), ("app", 5), ("control", 8), ("size", 10), ("steps", 6), ("plays", 6), ("drawn", 6), ("fps", 6),
                ("events", 7), ("steps", 6), ("gap p50", 8), ("max", 5), ("frame ms", 9), ("cap fps", 8), ("goal", 6),
                ("  notes", 40)]
        rows = []
        for page, app, a in anims:
            cap = a.get("fast_ms")
            v = ""
            old = (self.get("old", page, "largest") or Result("", "", "", "")).anim or {}
            if app == "new" and not a.get("mode") and not old.get("mode"):
                v = "-"  # a page without an animated figure, in the old code too
            elif app == "new":  # 10 / fps <= 1, with the spread of the frame gaps as the noise
                v = judge(ratio(10.0, a.get("fps")), 1.0, a.get("gap_spread")) if a.get("fps") else "MISS"
                self.note("animation: new >= 10 fps (largest, presenter, 1920x1080)", v, f"{page} {f1(a.get('fps'))} fps")
            notes = "; ".join([a.get("error", "")] + a.get("early", []) + [f"page error: {e}" for e in a.get("errors", [])])
            rows.append([page, app, a.get("mode") or "-", a.get("size", "-"), fmt(a.get("steps")), fmt(a.get("plays")),
                         fmt(a.get("frames")), f1(a.get("fps")), f1(a.get("fps_events")), f1(a.get("fps_steps")), fmt(a.get("gap_p50")),
                         fmt(a.get("gap_max")), fmt(cap), f1(1000 / cap if cap else None), v, "  " + notes.strip("; ")[:120]])
        table(cols, rows)

    def verdicts(self) -> None:
        print("\nverdicts ('noise': beyond the goal by less than the spread of the reps; see the docstring)")
        for goal, misses in self.misses.items():
            print(f"  {goal}: " + ("all ok" if not misses else f"{len(misses)} not ok: " + ", ".join(misses)))

    def errors(self) -> None:
        bad = [r for r in [*self.floors, *self.results.values()] if r.errors]
        if bad:
            print("\nerrors")
            for r in bad:
                print(f"  {r.app} {r.page or 'floor'} {r.settings}: {'; '.join(r.errors)[:400]}")

    def splits(self) -> None:
        print("\nfirst visit split (ms since navigation start): websocket's first message / the biggest message arrived /"
              " first chart drawn")
        for r in [*self.floors[:1], *self.results.values()]:
            if r.load_split:
                print(f"  {r.app:<6}{r.page or 'floor':<16}{r.settings:<9}{fmt(r.load_split['first_at']):>6} /"
                      f"{fmt(r.load_split['big_at']):>6} /{fmt(r.load_cold):>6}")

    def print(self) -> None:
        self.floor_line()
        self.changes()
        self.loads(warm=False)
        self.loads(warm=True)
        self.payload()
        self.animation()
        self.splits()
        self.errors()
        self.verdicts()


def print_figure_split(floors: list[Result], results: dict, figures: dict[tuple[str, str], Result]) -> None:
    """--figure-floor: each page against its own figure alone in a bare app, and that against the floor."""
    f50 = pct([x for f in floors for x in f.idle], 0.5)  # the whole run's floor
    print("\nthe page's own figure alone in a bare app (bench/figure_floor_app.py; change -> chart drawn and idle, p50 ms;"
          " load: first visit -> first chart, ms)")
    cols = [("page", 16), ("settings", 9), ("page", 6), ("figure", 8), ("floor", 7), ("figure/floor", 14),
            ("page-figure", 13), ("page load", 11), ("figure load", 13), ("  errors", 40)]
    rows = []
    for (page, st), fig in figures.items():
        r = results.get(("new", page, st))
        p50, g50 = (r.p(0.5) if r else None), fig.p(0.5)
        rows.append([page, st, fmt(p50), fmt(g50), fmt(f50), f2(ratio(g50, f50)),
                     fmt(p50 - g50 if p50 is not None and g50 is not None else None), fmt(r.load_cold if r else None),
                     fmt(fig.load_cold), "  " + "; ".join(fig.errors)[:120]])
    table(cols, rows)


def write_figure_specs(pages: list[str], plans: list, folder: Path) -> list[tuple[str, str]]:
    """The chart spec each page sends at each settings, as <page>-<settings>.json in `folder` (AppTest runs)."""
    from draw_cost import chart_specs  # AppTest: imports streamlit only when asked for

    from convviz.stages import PAGES

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


def progress(r: Result) -> None:
    print(f"  {r.app} {r.page} {r.settings}: change->chart p50 {fmt(r.p(0.5, 'chart'))} ms, load first {fmt(r.load_cold)}"
          f" / final {fmt(r.load_cold_final)} ms" + (f"  [{'; '.join(r.errors)[:160]}]" if r.errors else ""), flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10, help="control changes per page and settings (default 10)")
    ap.add_argument("--reloads", type=int, default=3, help="reloads per page and settings after the first visit (default 3)")
    ap.add_argument("--pages", nargs="*", help="url paths (default: every page of the catalog, convviz/stages.py)")
    ap.add_argument("--old", type=Path, metavar="PATH",
                    help="a checkout of the previous code (e.g. git worktree add /tmp/old <commit>), measured alongside")
    ap.add_argument("--no-largest", action="store_true", help="only the default settings (no animation either)")
    ap.add_argument("--no-anim", action="store_true", help="skip the animation frame-rate probe")
    ap.add_argument("--figure-floor", action="store_true",
                    help="also time each page's own figure alone in a bare app (bench/figure_floor_app.py)")
    ap.add_argument("--json", type=Path, help="write every measurement here")
    args = ap.parse_args(argv)
    new = App("new", REPO, "app.py", pages=checkout_pages(REPO))
    apps = [new]
    if args.old:
        root = args.old.resolve()
        if not (root / "app.py").is_file():
            ap.error(f"--old {args.old}: no app.py there")
        apps.append(App("old", root, "app.py", pages=checkout_pages(root)))
    pages = args.pages or new.pages
    unknown = [p for p in pages if p not in new.pages]
    if unknown:
        ap.error(f"unknown pages {unknown}; the app has {new.pages}")
    print(f"pages: {' '.join(pages)}\nlargest settings: ?{urlencode(LARGEST)}\nmachine at the start: {_machine()}")
    for app in apps:
        print(f"{app.name}: {app.root} at {_commit(app.root)}")
    logs = Path(tempfile.mkdtemp(prefix="convviz-latency-"))
    from playwright.sync_api import sync_playwright

    plans = [("default", {}, [5, 6])] + ([] if args.no_largest else [("largest", LARGEST, [31, 32])])
    anim = not args.no_anim and not args.no_largest
    fig_pairs = write_figure_specs(pages, plans, logs / "figures") if args.figure_floor else []
    floor = App("floor", REPO, "bench/floor_app.py")
    fig_app = App("figure", REPO, "bench/figure_floor_app.py")
    results: dict[tuple[str, str, str], Result] = {}
    figures: dict[tuple[str, str], Result] = {}
    procs = []
    try:
        for app in [floor, *([fig_app] if fig_pairs else []), *apps]:
            env = {"CONVVIZ_FIGURE_FLOOR_DIR": str(logs / "figures")} if app is fig_app else None
            proc, app.base = start_server(app.script, cwd=app.root, env=env, log=logs / f"{app.name}.log")
            procs.append(proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

            def context(viewport: dict):
                ctx = browser.new_context(viewport=viewport)
                ctx.add_init_script(WS_LOG_INIT)
                ctx.add_init_script(AFTERPLOT_INIT)
                return ctx

            for app in apps:  # a context each: the new app's screen cookie is per host, not per port
                app.context = context(VIEWPORT)
                app.anim_context = context(ANIM_VIEWPORT) if anim else None
            floor.context = fig_app.context = new.context
            for app in [floor, *apps]:  # untimed: the browser's first load compiles Streamlit's JS; the server's first run imports
                warm = Tab(app.context)
                warm.load(app.base + "/")
                warm.page.close()
            t_start = time.monotonic()
            floors = []
            for i, page in enumerate(pages):
                floors.append(measure(floor, "", "floor", {}, FLOOR_LABEL, [1, 0], args.reps, args.reloads))
                progress(floors[-1])
                order = apps if i % 2 == 0 else apps[::-1]  # the app measured first alternates page by page
                for name, query, values in plans:
                    for app in order:
                        if page not in app.pages:
                            print(f"  {app.name} {page}: no such page in {app.root}", flush=True)
                            continue
                        r = results[(app.name, page, name)] = measure(app, page, name, query, H_LABEL, values, args.reps,
                                                                      args.reloads)
                        progress(r)
                    if (page, name) in fig_pairs:  # right after the page: the same moment of the machine's load
                        g = measure(fig_app, "", name, {"fig": f"{page}-{name}"}, H_LABEL, [1, 2], args.reps, args.reloads)
                        g.page = page
                        figures[(page, name)] = g
                        progress(g)
                if anim and page not in NO_SIDEBAR_CHART:
                    for app in order:
                        r = results.get((app.name, page, "largest"))
                        if r is not None:
                            r.anim = measure_anim(app, page, lambda: context(ANIM_VIEWPORT))
                            print(f"  {app.name} {page} animation: {r.anim.get('mode')}, {f1(r.anim.get('fps'))} fps"
                                  f" over {r.anim.get('plays')} plays {r.anim.get('error', '')}", flush=True)
            floors.append(measure(floor, "", "floor", {}, FLOOR_LABEL, [1, 0], args.reps, args.reloads))
            progress(floors[-1])
            browser.close()
        print(f"\nrun time {time.monotonic() - t_start:.0f} s; reps {args.reps}, reloads {args.reloads}; machine: {_machine()}")
        Report(floors, results, [a.name for a in apps], pages, [n for n, _, _ in plans]).print()
        if figures:
            print_figure_split(floors, results, figures)
        if args.json:
            args.json.write_text(json.dumps({"floor": [asdict(f) for f in floors], "results": [asdict(r) for r in results.values()],
                                             "figures": [asdict(g) for g in figures.values()], "largest": LARGEST}, indent=1))
            print(f"\nwrote {args.json}")
    finally:
        stop_server(*procs)
    return 0


def _commit(root: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %s"], capture_output=True, text=True, timeout=10)
    except OSError:
        return "?"
    head = out.stdout.strip()[:70] or "?"
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True, timeout=10).stdout.strip()
    return head + (" + uncommitted changes" if dirty else "")


def _machine() -> str:
    try:
        load = os.getloadavg()
    except OSError:
        load = (0, 0, 0)
    return f"{os.cpu_count()} cores, load average {load[0]:.1f}"


if __name__ == "__main__":
    sys.exit(main())
