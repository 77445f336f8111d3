"""Shared pieces of the browser tests: paths, the chromium set-up, the page list and the AppPage helper."""
from __future__ import annotations

import ast
import contextlib
import re
import time
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
STEP_TITLE = re.compile(r"^Step (\d+)/(\d+): ")  # an animated figure's title: "Step k/N: ..."


def app_pages() -> list[tuple[str, str]]:
    """(url_path, title) of every page, read from convviz/ui/shell.py's PAGES without importing Streamlit."""
    tree = ast.parse((REPO / "convviz" / "ui" / "shell.py").read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "PageDef":
            _path, title, url_path, _icon = (ast.literal_eval(a) for a in node.args)
            out.append((url_path, title))
    assert len(out) >= 9, f"expected the 9 pages in convviz/ui/shell.py PAGES, found {out}"
    return out


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

    # what the page shows ----------------------------------------------------------------------------
    def texts(self, selector: str) -> list[str]:
        return self.page.locator(selector).all_inner_texts()

    def title(self) -> str:
        return " ".join(self.texts("h1")).strip()

    def alerts(self, kind: str) -> list[str]:
        """Texts of the alerts of a kind: Warning, Error, Info, Success."""
        return self.texts(f'[data-testid="stAlertContent{kind}"]')

    def chart_title(self) -> str:
        """The first chart's (animated) title: 'Step k/N: ...'."""
        return self.page.evaluate("() => document.querySelector('.js-plotly-plot .gtitle')?.textContent ?? ''")

    def nav_label(self) -> str:
        """The label of the sidebar navigation's current page ('' without a navigation)."""
        link = self.page.locator('[data-testid="stSidebarNav"] a[aria-current="page"] [data-testid="stMarkdownContainer"]')
        return link.first.inner_text().strip() if link.count() else ""

    def query(self) -> dict[str, str]:
        """The page URL's query parameters now."""
        from urllib.parse import parse_qsl, urlsplit

        return dict(parse_qsl(urlsplit(self.page.url).query))

    def number_input(self, label: str):
        return self.page.locator(f'[data-testid="stSidebar"] input[aria-label="{label}"]')

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
    """(k, N) from the first chart's title "Step k/N: ..."."""
    m = STEP_TITLE.match(app.chart_title())
    assert m, f"the chart title does not start with 'Step k/N: ': {app.chart_title()!r}"
    return int(m.group(1)), int(m.group(2))
