"""Bug lab in a real browser: the page renders its chart, switching the bug works, screenshot for review."""
from __future__ import annotations

import pytest
from browser_support import SCREENSHOTS
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def pick_bug(app, title: str) -> None:
    box = app.page.locator('[data-testid="stSelectbox"]').filter(has_text="Bug").first
    box.click()
    app.page.locator('[role="option"]', has_text=title).first.click()
    app.wait_for_app()


def test_bug_lab_renders_switches_and_screenshot(app):
    app.open("bug_lab?w=8")
    assert app.title().startswith("Bug lab")
    app.assert_healthy()
    # default bug: missing dilation; w=8 with stride 1 hides it, and the page says which settings expose it
    assert any("hide this bug" in t for t in app.alerts("Info"))
    pick_bug(app, "Height used for the width check")
    expect(app.page.locator('[data-testid="stAlertContentWarning"]')).to_contain_text("expose this bug")
    expect(app.page.locator('[data-testid="stCode"]').first).to_contain_text("HP - EKW")
    expect(app.page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    app.assert_healthy()
    app.full_screenshot(SCREENSHOTS / "bug_lab.png")


def test_bug_that_shortens_dx_shows_missing_cells(app):
    app.open("bug_lab?sh=2&sw=2")
    pick_bug(app, "Missing remainder padding")
    expect(app.page.locator('[data-testid="stMarkdownContainer"]', has_text="instead of").first).to_be_visible()
    expect(app.page.locator('[data-testid="stDataFrame"]')).to_be_visible()
    app.assert_healthy()
    app.full_screenshot(SCREENSHOTS / "bug_lab_short_dx.png")
