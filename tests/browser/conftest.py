"""Browser tests: the real app (`streamlit run app.py`) driven in Debian's chromium with Playwright.

Per pytest process (so per xdist worker) one Streamlit server on a free port and one headless chromium.
The server's very first browser session is a deep link to a sub-page, opened by the `_server` fixture
itself, so it happens first whatever the test order: Streamlit 1.67 rendered that case as an empty page
(see convviz/ui/shell.py); `test_first_ever_request_is_a_deep_link` checks what that session showed.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FIRST_DEEP_LINK,
    RUN_TIMEOUT,
    VIEWPORT,
    AppPage,
    serve,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the running app in Debian's chromium with Playwright")


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium (CI installs it; a missing browser is a failure, not a skip)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
                    "(apt-get install chromium; .ci/run installs it). `playwright install` is not used.", pytrace=False)
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception as err:
        pw.stop()
        pytest.fail(f"could not launch {CHROMIUM}: {err}", pytrace=False)
    try:
        yield b
    finally:
        b.close()
        pw.stop()


@dataclass
class FirstVisit:
    """What the server's very first browser session (a deep link) showed."""

    url: str
    title: str = ""
    nav_label: str = ""  # the sidebar navigation's current page, as app.py's st.navigation names it
    h_input: str = ""  # the shared "H (height)" control's value
    captions: str = ""
    charts: int = 0
    exceptions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failure: str = ""


@contextlib.contextmanager
def streamlit_server() -> Iterator[str]:
    """A fresh `streamlit run app.py` on a free port (no session yet): yields its base URL."""
    server = serve()
    try:
        base = server.__enter__()
    except RuntimeError as err:  # the server did not start: a failure with its log, not a traceback
        pytest.fail(str(err), pytrace=False)
    try:
        yield base
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def _server(browser) -> Iterator[tuple[str, FirstVisit]]:
    with streamlit_server() as base:
        yield base, _first_visit(browser, base)


@pytest.fixture
def fresh_server() -> Iterator[str]:
    """A server of its own, not yet visited by any session (for first-ever-request tests other than the deep link
    `_server` opens first)."""
    with streamlit_server() as base:
        yield base


def _first_visit(browser, base: str) -> FirstVisit:
    """Open the deep link as the first session the server ever sees and record what it rendered."""
    visit = FirstVisit(url=f"{base}/{FIRST_DEEP_LINK}")
    context = browser.new_context(viewport=VIEWPORT)
    try:
        app = AppPage(context.new_page(), base)
        try:
            app.open(FIRST_DEEP_LINK)
        except Exception as err:  # recorded; the test reports it
            visit.failure = f"{type(err).__name__}: {err}"
        h_input = app.control("H (height)")
        # The sidebar is drawn last in a run (app.py). Two full-suite runs of 5 on a loaded machine read the page
        # settled with its chart and navigation but no controls yet: wait for them a while (without app.py's run
        # they never come, and the test fails as it should).
        with contextlib.suppress(Exception):
            h_input.first.wait_for(state="attached", timeout=15_000)
        visit.title = app.title()
        visit.nav_label = app.nav_label()
        visit.h_input = h_input.input_value() if h_input.count() else ""
        visit.captions = " ".join(app.texts('[data-testid="stCaptionContainer"]'))
        visit.charts = app.page.locator(".js-plotly-plot").count()
        visit.exceptions = app.texts('[data-testid="stException"]')
        visit.errors = list(app.errors)
    finally:
        context.close()
    return visit


@pytest.fixture(scope="session")
def base_url(_server) -> str:
    return _server[0]


@pytest.fixture(scope="session")
def first_visit(_server) -> FirstVisit:
    return _server[1]


@pytest.fixture(scope="session")
def _context(browser):
    """One browser context for the tests (its HTTP cache keeps the app's 5 MB of JavaScript between pages)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(RUN_TIMEOUT * 1000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def new_app(_context, base_url) -> Iterator[Callable[[], AppPage]]:
    """Opens new tabs, each a fresh Streamlit session (settings live per session), 1400x1000."""
    pages = []

    def make() -> AppPage:
        pages.append(_context.new_page())
        return AppPage(pages[-1], base_url)

    try:
        yield make
    finally:
        for page in pages:
            page.close()


@pytest.fixture
def app(new_app) -> AppPage:
    return new_app()

