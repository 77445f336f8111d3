"""Shared pieces of the browser tests and the benchmarks (bench/): paths, the chromium set-up, the page list, the app
server (start_server, stop_server, serve) and the AppPage helper."""
from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
SERVER_START_TIMEOUT = 60.0
RUN_TIMEOUT = 45.0  # seconds one script run may take (the first run of a page imports and caches)
FIRST_DEEP_LINK = "input_gradient?h=7&sh=2"  # a page in pages/, not the default page
SCREENSHOTS = REPO / "artifacts" / "screenshots"
PLOTLY_ANIMATION_INTERRUPT = "undefined"  # the page error of a stopped Plotly animation (see AppPage.assert_healthy)
STEP_TITLE = re.compile(r"^Step (\d+)/(\d+): ")  # AppPage.chart_title: "Step k/N: ..."


def app_pages() -> list[tuple[str, str]]:
    """(url_path, title) of every page of the app, from the catalog (convviz/stages.py's PAGES)."""
    from convviz.stages import PAGES

    return [(p.url_path, p.title) for p in PAGES]


# --------------------------------------------------------------------------------------------- helpers


class AppPage:
    """One browser page on the app, recording uncaught page errors and any JavaScript dialog."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda err: self.errors.append(str(err)))

        def on_dialog(dialog) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)

    # navigation and waiting -----------------------------------------------------------------------
    def open(self, path: str, chart: bool = True) -> AppPage:
        """Load a URL of the app in this tab and wait until the app has drawn it."""
        self.goto(path)
        self.wait_for_app(chart=chart, just_triggered=False)
        return self

    def goto(self, path: str) -> AppPage:
        """Load a URL of the app without waiting for the script run (to load several tabs at once)."""
        self.page.goto(f"{self.base_url}/{path.lstrip('/')}")
        return self

    def wait_for_app(self, chart: bool = True, timeout: float = RUN_TIMEOUT, just_triggered: bool = True) -> None:
        """Wait until the script run is over: connected, not running, nothing stale; and a chart if asked."""
        p = self.page
        if just_triggered:  # a run that was just triggered may not have started yet: give it a moment to show
            with contextlib.suppress(Exception):
                p.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=400)
        p.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
                            '[data-test-script-state="notRunning"]', timeout=timeout * 1000)
        deadline = time.monotonic() + timeout
        quiet_since = None
        while True:  # settled: no running indicator and no stale element for a little while
            busy = p.evaluate("""() => !!document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
                || !!document.querySelector('[data-stale="true"]')
                || document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState !== 'notRunning'""")
            now = time.monotonic()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= 0.25:
                break
            if now > deadline:
                raise AssertionError(f"the app did not finish running within {timeout:.0f} s at {p.url}")
            time.sleep(0.05)
        if chart:
            p.wait_for_selector(".js-plotly-plot .main-svg", timeout=timeout * 1000)
            # A figure's player reports the screen once the chart is drawn, and the figure is drawn again for it.
            p.wait_for_function("""() => [...document.querySelectorAll('*')].filter((h) => h.shadowRoot)
                .map((h) => h.shadowRoot.querySelector('.cv-player')).filter(Boolean)
                .every((pl) => pl.dataset.settled === 'true')""", timeout=timeout * 1000)
            if p.evaluate("() => !!document.querySelector('[data-testid=\"stApp\"][data-test-script-state=\"running\"]')"):
                self.wait_for_app(chart=True, timeout=timeout, just_triggered=False)

    # what the page shows ----------------------------------------------------------------------------
    def texts(self, selector: str) -> list[str]:
        return self.page.locator(selector).all_inner_texts()

    def title(self) -> str:
        return " ".join(self.texts("h1")).strip()

    def alerts(self, kind: str) -> list[str]:
        """Texts of the alerts of a kind: Warning, Error, Info, Success."""
        return self.texts(f'[data-testid="stAlertContent{kind}"]')

    def chart_title(self) -> str:
        """The step the first figure's player shows, as 'Step k/N: <the step's title> <its caption>' ('' without one
        after a few seconds: the player fills its count once the chart it steps has drawn, a moment after the run)."""
        deadline = time.monotonic() + 5.0
        state = player_state(self.page)
        while (not state or not state["count"]) and time.monotonic() < deadline:
            self.page.wait_for_timeout(100)
            state = player_state(self.page)
        if not state or not state["count"]:
            return ""
        k, n = state["count"].removeprefix("Step ").split(" / ")
        return f"Step {k}/{n}: {state['title']} {state['caption']}"

    def nav_label(self) -> str:
        """The label of the sidebar navigation's current page ('' without a navigation)."""
        link = self.page.locator('[data-testid="stSidebarNav"] a[aria-current="page"] [data-testid="stMarkdownContainer"]')
        return link.first.inner_text().strip() if link.count() else ""

    def query(self) -> dict[str, str]:
        """The page URL's query parameters now."""
        from urllib.parse import parse_qsl, urlsplit

        return dict(parse_qsl(urlsplit(self.page.url).query))

    # the sidebar's settings: sliders (H, W, seed) and segmented controls (the small ranges, padding mode) ------------
    def control(self, label: str):
        """A sidebar setting's control by its label: a slider's range input or a segmented control's radio group."""
        return self.page.locator(f'[data-testid="stSidebar"] :is(input[type="range"], [role="radiogroup"])'
                                 f'[aria-label="{label}"]')

    def setting(self, label: str) -> str:
        """A sidebar setting's value as shown: the slider's number or the selected segment's text ('' if none)."""
        box = self.control(label).first
        box.wait_for(state="attached")
        return box.evaluate("""e => e.tagName === 'INPUT' ? e.value
            : (e.querySelector('[role="radio"][aria-checked="true"]')?.textContent ?? '').trim()""")

    def expect_setting(self, label: str, value) -> None:
        """Wait until the sidebar shows this value for the setting (the sidebar is drawn after the page)."""
        from playwright.sync_api import expect

        box = self.control(label).first
        box.wait_for(state="attached")
        if box.evaluate("e => e.tagName") == "INPUT":
            expect(box).to_have_value(str(value))
        else:
            expect(box.locator('[role="radio"][aria-checked="true"]')).to_have_text(str(value))

    def segment(self, label: str, value):
        """One option of a sidebar segmented control."""
        text = re.compile(rf"^\s*{re.escape(str(value))}\s*$")
        return self.control(label).locator('[role="radio"]').filter(has_text=text)

    def slider_track(self, label: str):
        """The part of a sidebar slider that takes clicks, taps and drags (the track, 40 px tall)."""
        thumb = self.page.locator(f'input[type="range"][aria-label="{label}"]')  # `has` is relative to the slider
        return self.page.locator('[data-testid="stSidebar"] [data-testid="stSlider"]').filter(
            has=thumb).locator('[role="group"] > div').first

    def slider_point(self, label: str, value: int) -> tuple[float, float]:
        """Viewport coordinates of a value on a sidebar slider's track (the thumb's centre sits at its fraction)."""
        box = self.control(label).first
        low, high = (int(box.get_attribute(a)) for a in ("min", "max"))
        track = self.slider_track(label)
        track.scroll_into_view_if_needed()
        r = track.bounding_box()
        return r["x"] + r["width"] * (value - low) / (high - low), r["y"] + r["height"] / 2

    def set_setting(self, label: str, value) -> None:
        """Change a sidebar setting as a user does, with one click: on the slider's track, or on the segment.

        A click between two slider steps lands on the nearer; arrow keys then correct it (each one a rerun)."""
        box = self.control(label).first
        box.wait_for(state="attached")
        if box.evaluate("e => e.tagName") != "INPUT":
            self.segment(label, value).click()
            return
        if int(box.input_value()) != int(value):
            self.page.mouse.click(*self.slider_point(label, int(value)))
        off = int(value) - int(box.input_value())
        for _ in range(abs(off)):
            box.press("ArrowRight" if off > 0 else "ArrowLeft")

    def assert_healthy(self, animation_interrupts: int = 0) -> None:
        """No Streamlit exception box, no uncaught page error, no JavaScript dialog.

        `animation_interrupts`: how many times the test stopped a running animation. plotly.js's updatemenu
        buttons do not catch the promise of the Plotly.animate call they replace (Plots.executeAPICommand
        re-rejects it), so each interruption logs one unhandled rejection whose reason is `undefined`.
        """
        exceptions = self.texts('[data-testid="stException"]')
        assert not exceptions, f"Streamlit exception on {self.page.url}:\n" + "\n---\n".join(exceptions)
        errors = list(self.errors)
        for _ in range(animation_interrupts):
            if PLOTLY_ANIMATION_INTERRUPT in errors:
                errors.remove(PLOTLY_ANIMATION_INTERRUPT)
        assert not errors, f"uncaught page errors on {self.page.url}: {errors}"
        assert not self.dialogs, f"a JavaScript dialog opened on {self.page.url}: {self.dialogs}"

    def full_screenshot(self, path: Path) -> None:
        """The whole page: Streamlit scrolls its main area, not the document, so grow the viewport to fit it."""
        p = self.page
        height = p.evaluate("""() => Math.max(document.documentElement.scrollHeight,
            document.querySelector('[data-testid="stMain"]')?.scrollHeight ?? 0,
            document.querySelector('[data-testid="stSidebarContent"]')?.scrollHeight ?? 0)""")
        p.set_viewport_size({"width": VIEWPORT["width"], "height": int(min(max(height, VIEWPORT["height"]), 16000))})
        p.wait_for_timeout(400)
        path.parent.mkdir(parents=True, exist_ok=True)
        p.screenshot(path=str(path), full_page=True)
        p.set_viewport_size(VIEWPORT)


def step_of(app: AppPage) -> tuple[int, int]:
    """(k, N): the step the first figure's player shows, counted from 1, and the trace's steps."""
    m = STEP_TITLE.match(app.chart_title())
    assert m, f"the chart title does not start with 'Step k/N: ': {app.chart_title()!r}"
    return int(m.group(1)), int(m.group(2))


# --------------------------------------------------------------------------------------------- the app server


def free_port() -> int:
    """A TCP port on the loopback that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(log_path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log ("(no log)" if it cannot be read)."""
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def launch_server(log: Path, script: str = "app.py", cwd: Path = REPO, port: int | None = None,
                  env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run <script>` in `cwd` (headless, loopback only, no file watcher) with its output in `log`,
    and `env` added to this process's environment; does not wait for it: returns (process, base URL)."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=None if env is None else {**os.environ, **env})
    return proc, f"http://127.0.0.1:{port}"


def _answers(url: str) -> bool:
    """Whether `url` answers 200 "ok" (Streamlit's health check) now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return False


def wait_healthy(base: str, proc: subprocess.Popen, log: Path, timeout: float = SERVER_START_TIMEOUT) -> None:
    """Return once `base`/_stcore/health answers "ok" (a Streamlit server, or nginx in front of some).

    Raises RuntimeError with the tail of `log` if `proc` exits first or the check does not pass within `timeout` s."""
    url, deadline = f"{base}/_stcore/health", time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{' '.join(map(str, proc.args))} exited with code {proc.returncode} before {url} "
                               f"answered:\n{log_tail(log)}")
        if _answers(url):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s:\n{log_tail(log)}")
        time.sleep(0.25)


def start_server(script: str = "app.py", cwd: Path = REPO, port: int | None = None, env: dict | None = None,
                 log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """`streamlit run <script>` in `cwd` (see launch_server; `log` defaults to a fresh temporary file), once it answers
    its health check: returns (process, base URL). Stop it with stop_server.

    Raises RuntimeError with the log's tail (the process stopped) if it exits or does not answer in time."""
    log = log or Path(tempfile.mkdtemp(prefix="convviz-app-")) / "streamlit.log"
    proc, base = launch_server(log, script, cwd, port, env)
    try:
        wait_healthy(base, proc, log)
    except BaseException:
        stop_server(proc)
        raise
    return proc, base


def stop_server(*procs: subprocess.Popen) -> None:
    """Terminate the processes (all at once, so they stop in parallel), then reap each; returns once all are gone."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # ignored the terminate: a server stuck in a script run
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def serve(root: Path = REPO, port: int | None = None, env: dict | None = None):
    """A fresh `streamlit run app.py` of the checkout at `root` on a free port (no session yet), with `env` added to
    this process's environment: yields its base URL.

    Raises RuntimeError (with the server's log) if it exits or does not answer its health check in time."""
    proc, base = start_server(cwd=root, port=port, env=env)
    try:
        yield base
    finally:
        stop_server(proc)


# --------------------------------------------------------------------------------------------- the figure on screen

FIGURE_ON_SCREEN_JS = """() => {
  const vw = window.innerWidth, vh = window.innerHeight;
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd._fullLayout) return null;
  const seen = new Set(); let area = 0, top = Infinity, bottom = -Infinity, right = -Infinity;
  for (const im of gd.querySelectorAll('g.heatmaplayer image')) {
    const r = im.getBoundingClientRect();
    const k = [r.left, r.top, r.width, r.height].map(Math.round).join(',');
    if (seen.has(k) || r.width < 1) continue;
    seen.add(k);
    top = Math.min(top, r.top); bottom = Math.max(bottom, r.bottom); right = Math.max(right, r.right);
    const w = Math.max(0, Math.min(r.right, vw) - Math.max(r.left, 0));
    const h = Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0));
    area += w * h;
  }
  let cell = Infinity;
  for (const [k, ax] of Object.entries(gd._fullLayout)) {
    if (/^xaxis\\d*$/.test(k) && ax._m) cell = Math.min(cell, Math.abs(ax._m));
  }
  const hosts = [...document.querySelectorAll('*')].filter((e) => e.shadowRoot);
  const cap = hosts.map((e) => e.shadowRoot.querySelector('.cv-caption')).find(Boolean) || gd.querySelector('.gtitle');
  const cr = cap ? cap.getBoundingClientRect() : null;
  const main = document.querySelector('[data-testid="stMain"]');
  return {top: Math.round(top), bottom: Math.round(bottom), right: Math.round(right), share: 100 * area / (vw * vh),
          cell: cell,
          whole: top >= 0 && bottom <= vh && right <= vw,
          caption: !!cr && cr.top >= 0 && cr.bottom <= vh,
          wide: document.documentElement.scrollWidth > vw + 1 || (main && main.scrollWidth > main.clientWidth + 1)};
}"""


def figure_on_screen(page) -> dict | None:
    """Where the page's first figure is on the screen, as the learner sees it on load (unscrolled): its first and
    last rows of cells and the right edge of its cells ('top', 'bottom', 'right', px), the part of the screen its
    cells cover ('share', %), the smallest cell ('cell', px), whether every panel is on screen ('whole'), whether the
    step's caption is ('caption'), and whether the page scrolls sideways ('wide'). None without a drawn figure."""
    return page.evaluate(FIGURE_ON_SCREEN_JS)


PLAYER_JS = """() => {
  for (const host of document.querySelectorAll('*')) {
    const p = host.shadowRoot && host.shadowRoot.querySelector('.cv-player');
    if (p) return {step: Number(p.dataset.step), playing: p.dataset.playing === 'true',
                   count: p.querySelector('.cv-count').textContent, title: p.querySelector('.cv-title').textContent,
                   caption: p.querySelector('.cv-text').textContent};
  }
  return null;
}"""


def player_state(page) -> dict | None:
    """The first figure's player as shown: {step (0-based), playing, count ("Step k / N"), title, caption}."""
    return page.evaluate(PLAYER_JS)


def player_button(page, css_class: str):
    """A button of the first player (cv-play, cv-prev, cv-next, cv-first, cv-last), inside its shadow root."""
    return page.locator(f".{css_class}").first


CELL_CENTRE_JS = """([r, c]) => {
  const gd = document.querySelector('.js-plotly-plot');
  const meta = typeof gd.layout.meta === 'string' ? JSON.parse(gd.layout.meta) : gd.layout.meta;
  const t = gd._fullData[meta.click_trace];
  const xa = gd._fullLayout[t.xaxis.replace('x', 'xaxis')], ya = gd._fullLayout[t.yaxis.replace('y', 'yaxis')];
  const box = gd.getBoundingClientRect();
  return [box.left + xa._offset + xa.l2p(c + (t.x0 || 0)), box.top + ya._offset + ya.l2p(r + (t.y0 || 0))];
}"""


def clickable_cell_centre(page, row: int, col: int) -> tuple[float, float]:
    """Where cell (row, col) of the first figure's clickable panel is on the screen (one-channel panel, not windowed)."""
    x, y = page.evaluate(CELL_CENTRE_JS, [row, col])
    return x, y


FIND_PLAYER_JS = ("(() => { for (const h of document.querySelectorAll('*')) { const p = h.shadowRoot && "
                  "h.shadowRoot.querySelector('.cv-player'); if (p) return p; } return null; })()")


def wait_for_player(page, condition: str, timeout: float = 5.0) -> None:
    """Wait until the first player satisfies `condition`, a JavaScript expression of `p` (the .cv-player element), e.g.
    "p.dataset.step === '6'" or "p.dataset.playing === 'false'"."""
    page.wait_for_function(f"() => {{ const p = {FIND_PLAYER_JS}; return !!p && ({condition}); }}", timeout=timeout * 1000)
