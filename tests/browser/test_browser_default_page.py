"""The default page (Shapes) by its own name: /shapes?h=9 must open Shapes with the link's settings.

st.navigation serves its default page at the root only, so /shapes used to be "Page not found" (and the settings
in the link were dropped) on every session but a fresh server's first one. convviz/ui/shell.py resolves the name.
"""
from __future__ import annotations

import re

import pytest
from browser_support import SCREENSHOTS, VIEWPORT, AppPage, app_pages
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SHAPES_PATH, SHAPES_TITLE = app_pages()[0]


def assert_shapes(app: AppPage, h: int, **query: str) -> None:
    """The Shapes page with H = h and exactly this query in the address bar, no "Page not found" dialog."""
    assert app.page.locator('[role="dialog"]').count() == 0, app.texts('[role="dialog"]')
    assert app.title().startswith("Shapes"), f"{app.page.url} shows {app.title()!r}"
    assert app.nav_label() == SHAPES_TITLE, f"the navigation shows {app.nav_label()!r}"
    app.expect_setting("H (height)", str(h))
    assert f"(1, 1, {h}, 6)" in " ".join(app.texts('[data-testid="stCaptionContainer"]'))
    assert app.query() == {"h": str(h), **query}, app.page.url
    app.assert_healthy()


def test_shapes_link_on_a_fresh_server(browser, fresh_server):
    """/shapes?... as the very first request a server sees (Streamlit's legacy pages/ mode), then again as the
    second session (st.navigation only: this one showed "Page not found")."""
    for session in ("first", "second"):
        context = browser.new_context(viewport=VIEWPORT)
        try:
            app = AppPage(context.new_page(), fresh_server)
            app.open(f"{SHAPES_PATH}?h=9&sh=2")
            assert_shapes(app, 9, sh="2")
            if session == "second":
                app.full_screenshot(SCREENSHOTS / "shapes-deep-link.png")
        finally:
            context.close()


def test_shapes_link_after_navigation(new_app, base_url):
    """On a server that has been serving sessions: navigate to Shapes in the sidebar, follow the "Link to this
    view" of a session opened at /shapes, type /shapes?... into a tab that is already on another page; and the
    root URL still opens Shapes."""
    app = new_app().open("forward?h=7&kh=2")
    app.page.locator('[data-testid="stSidebarNav"] a', has_text=SHAPES_TITLE).click()
    expect(app.page).to_have_url(re.compile(rf"^{re.escape(base_url)}/\?"))
    app.wait_for_app()
    assert_shapes(app, 7, kh="2")

    app.open(f"{SHAPES_PATH}?h=9&kw=2")  # the same tab, now on Shapes at the root
    assert_shapes(app, 9, kw="2")
    app.open("forward?h=8")
    assert app.title().startswith("Forward")
    app.open(f"{SHAPES_PATH}?h=5")  # from another page
    assert_shapes(app, 5)

    shared = new_app().open(f"{SHAPES_PATH}?h=8&sh=2")
    assert_shapes(shared, 8, sh="2")
    shared.page.get_by_text("Link to this view").click()
    link = shared.page.locator('[data-testid="stPopoverBody"] code').inner_text().strip()
    assert link.startswith(base_url) and link.endswith("?h=8&sh=2"), link
    friend = new_app().open(link.removeprefix(base_url))
    assert_shapes(friend, 8, sh="2")

    root = new_app().open("?h=10")
    assert_shapes(root, 10)
    assert root.page.url == f"{base_url}/?h=10"
