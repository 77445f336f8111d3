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


def test_switching_to_settings_that_expose_a_hidden_bug_keeps_the_bug_and_the_tab(app):
    """The hint under a hidden bug changes the settings in this tab: the same bug stays selected and is now exposed
    (it was a link that opened a new tab, a new session, on the first bug of the list)."""
    app.open("bug_lab")
    pick_bug(app, "Missing remainder padding")
    assert any("hide this bug" in t for t in app.alerts("Info"))
    tabs = len(app.page.context.pages)
    app.page.get_by_role("button", name="Switch to SH (stride) = 2, SW (stride) = 2").click()
    app.wait_for_app()
    assert len(app.page.context.pages) == tabs
    expect(app.page.locator('[data-testid="stAlertContentWarning"]')).to_contain_text("expose this bug")
    expect(app.page.locator('[data-testid="stMain"] input[aria-label="Bug"]')).to_have_value(
        "Missing remainder padding when the stride does not divide")
    app.expect_setting("SH (stride)", "2")
    assert app.query().get("sh") == "2" and app.query().get("sw") == "2"
    app.assert_healthy()
