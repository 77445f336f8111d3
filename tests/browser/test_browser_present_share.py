"""Presenter mode and "Link to this view" in a real browser (issue 4, items 1 and 2).

A teacher prepares a link with `present=1` and opens it on the projector: the sidebar must be tucked away, the
text larger, and the big Previous / Next buttons must move the step. A learner copies "Link to this view" and the
link must open the same page with the same settings in another session.
"""
from __future__ import annotations

import re

import pytest
from browser_support import SCREENSHOTS, step_of
from playwright.sync_api import expect

pytestmark = pytest.mark.browser




def test_prepared_presenter_link_opens_in_presenter_mode(app):
    app.open("forward?h=7&present=1")
    page = app.page
    # the sidebar is tucked away, and its switch is on
    expect(page.locator('[data-testid="stSidebar"]')).to_have_attribute("data-collapsed", "true")
    # larger text for a projector (the normal body text is 16 px)
    body_px = page.evaluate("""() => parseFloat(getComputedStyle(
        document.querySelector('[data-testid="stMain"] [data-testid="stMarkdownContainer"] p')).fontSize)""")
    assert body_px >= 20, body_px
    # the player's buttons move the animation's step, and the mode stays in the URL
    prev_button = page.locator(".cv-prev").first
    next_button = page.locator(".cv-next").first
    expect(next_button).to_be_visible()
    expect(prev_button).to_be_disabled()
    first, count = step_of(app)
    assert (first, count) == (1, 20)  # 7x6 input, 3x3 kernel: 5x4 windows
    next_button.click()
    next_button.click()
    assert step_of(app) == (3, 20)
    prev_button.click()
    assert step_of(app) == (2, 20)
    page.wait_for_timeout(600)  # the player tells the server the step: the rerun keeps it
    app.wait_for_app(chart=False)
    assert step_of(app) == (2, 20)
    assert app.query().get("present") == "1" and app.query().get("h") == "7"
    app.full_screenshot(SCREENSHOTS / "presenter.png")
    app.assert_healthy()


def test_presenter_mode_leaves_the_top_controls_clear_of_the_header(new_app):
    """Presenter mode trims the space above the page, but not under Streamlit's header: "Link to this view" (the first
    control) must be where a click lands on it, on a 720p projector as on a laptop, and open."""
    for viewport in ({"width": 1280, "height": 720}, {"width": 1920, "height": 1080}):
        app = new_app().open("forward?present=1")
        app.page.set_viewport_size(viewport)
        app.page.wait_for_timeout(400)  # the player reports a new size 250 ms after the resize
        app.wait_for_app()  # ... and the figure is laid out again for it: the page's length changes
        play = app.page.locator(".cv-play").first  # the first control on the page, right under the header
        on_top = play.evaluate("""b => { const r = b.getBoundingClientRect();
            const root = b.getRootNode(); const hit = root.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            return b === hit || b.contains(hit); }""")
        assert on_top, f"the header covers the player's Play button at {viewport}"
        button = app.page.get_by_role("button", name=re.compile("Link to this view"))
        button.scroll_into_view_if_needed()
        hit = button.evaluate("""b => { const r = b.getBoundingClientRect();
            const header = document.querySelector('[data-testid="stHeader"]').getBoundingClientRect();
            return {top: r.top, header: header.bottom, on: b.contains(document.elementFromPoint(r.x + r.width / 2,
                                                                                              r.y + r.height / 2))}; }""")
        assert hit["on"] and hit["top"] >= hit["header"], (viewport, hit)
        button.click(timeout=5000)
        expect(app.page.locator('[data-testid="stPopoverBody"] code').first).to_be_visible()
        app.assert_healthy()


def test_presenter_cells_are_larger_than_normal(new_app):
    """The same figure in presenter mode draws bigger cells (a projector at the back of a room): the sidebar tucked
    away, and cells up to 140 px where a laptop's stop at 72."""
    def cell_px(path: str) -> float:
        app = new_app().open(path)
        return app.page.evaluate("""() => {
            const plot = document.querySelector('.js-plotly-plot');
            const ax = plot._fullLayout.xaxis;  // first panel: the padded input
            return Math.abs(ax.l2p(1) - ax.l2p(0));
        }""")

    normal, big = cell_px("forward?h=5"), cell_px("forward?h=5&present=1")
    assert big > normal * 1.1, (normal, big)


def test_link_to_this_view_reopens_the_same_page_and_settings(new_app):
    app = new_app().open("im2col?h=9&kh=2&sw=2")
    page = app.page
    page.get_by_role("button", name=re.compile("Link to this view")).click()
    code = page.locator('[data-testid="stPopoverBody"] code').first
    expect(code).to_be_visible()
    link = code.inner_text().strip()
    assert link.startswith(app.base_url + "/im2col?"), link
    for part in ("h=9", "kh=2", "sw=2"):
        assert re.search(rf"[?&]{part}(&|$)", link), (part, link)
    page.screenshot(path=str(SCREENSHOTS / "share_link.png"))
    app.assert_healthy()

    other = new_app()  # another tab: a new session, as when a student opens the shared link
    other.page.goto(link)
    other.wait_for_app(just_triggered=False)
    assert other.nav_label() == "im2col"
    other.expect_setting("H (height)", "9")
    other.expect_setting("KH (kernel)", "2")
    other.expect_setting("SW (stride)", "2")
    other.assert_healthy()
