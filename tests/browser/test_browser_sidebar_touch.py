"""The sidebar on a phone (390 x 844, touch): each setting changes with one tap, drag or arrow key, every control is
big enough to hit with a finger, and nothing is wider than the screen.

The settings were number inputs, which Streamlit draws without - / + buttons at the sidebar's width: every change
had to be typed.
"""
from __future__ import annotations

import re

import pytest
from browser_support import RUN_TIMEOUT, SCREENSHOTS, AppPage
from playwright.sync_api import expect

from convviz.ui.settings import Settings

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MIN_TARGET_PX = 24  # WCAG 2.5.8's minimum target size
# Everything in the sidebar's settings a finger may aim at, with how each widget takes it: a slider's track (its
# range input is visually hidden), a segment, a radio row, the toggle's label, buttons (Reset, the help marks), the
# kernel text box.
TARGETS_JS = """() => {
  const root = document.querySelector('[data-testid="stSidebarUserContent"]');
  const targets = [
    ...[...root.querySelectorAll('[data-testid="stSlider"] [role="group"] > div')].map(e => ['slider track', e]),
    ...[...root.querySelectorAll('[role="radiogroup"] [role="radio"]')].map(e => ['segment', e]),
    ...[...root.querySelectorAll('[data-testid="stRadioOption"]')].map(e => ['radio option', e]),
    ...[...root.querySelectorAll('[data-testid="stCheckbox"] label')].map(e => ['toggle', e]),
    ...[...root.querySelectorAll('button:not([role="radio"])')].map(e => ['button', e]),
    ...[...root.querySelectorAll('textarea')].map(e => ['text box', e]),
  ];
  const name = e => (e.getAttribute('aria-label') || e.textContent || '').trim().slice(0, 40);
  return {
    targets: targets.map(([kind, e]) => {
      const r = e.getBoundingClientRect();
      return {kind, name: name(e), width: r.width, height: r.height};
    }),
    widgets: {
      sliders: root.querySelectorAll('[data-testid="stSlider"]').length,
      segmented: root.querySelectorAll('[data-testid="stButtonGroup"]').length,
      radios: root.querySelectorAll('[data-testid="stRadio"]').length,
      toggles: root.querySelectorAll('[data-testid="stCheckbox"]').length,
      number_inputs: root.querySelectorAll('[data-testid="stNumberInput"]').length,
    },
  };
}"""
# Every sidebar element wider than the screen or reaching past its right edge, and every box that scrolls sideways.
OVERFLOW_JS = """(width) => {
  const side = document.querySelector('[data-testid="stSidebar"]');
  const out = [];
  for (const e of [side, ...side.querySelectorAll('*')]) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.width > width || r.right > width + 0.5 || r.left < -0.5)
      out.push(`${e.tagName}.${e.dataset.testid || ''} x ${Math.round(r.left)}..${Math.round(r.right)}`);
    if (e.scrollWidth > e.clientWidth + 1 && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
      out.push(`${e.tagName}.${e.dataset.testid || ''} scrolls sideways (${e.scrollWidth} > ${e.clientWidth})`);
  }
  return out;
}"""


@pytest.fixture
def phone(browser, base_url):
    """A fresh session in a phone-sized, touch-enabled tab."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    context.set_default_timeout(RUN_TIMEOUT * 1000)
    try:
        yield AppPage(context.new_page(), base_url)
    finally:
        context.close()


def open_sidebar(app: AppPage) -> None:
    """On a phone the sidebar starts tucked away: tap its button and wait until it has slid in."""
    sidebar = app.page.locator('[data-testid="stSidebar"]')
    app.control("H (height)").first.wait_for(state="attached")  # drawn after the page
    if sidebar.get_attribute("data-collapsed") == "true":
        app.page.locator('[data-testid="stExpandSidebarButton"]').tap()
    expect(sidebar).to_have_attribute("data-collapsed", "false")
    app.page.wait_for_function("""() => {
        const r = document.querySelector('[data-testid="stSidebar"]').getBoundingClientRect();
        return r.left >= 0 && r.width > 0; }""")


def geometry(app: AppPage):
    """The page's geometry caption ('x (...) · w (...) · stride (...) ... → y (...)')."""
    return app.page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').filter(has_text="→ y").first


def expect_layer(app: AppPage, settings: Settings, query: dict[str, str]) -> None:
    """The URL holds exactly `query` and the page's caption describes the layer of `settings`."""
    if query:  # the URL's order is the settings' own, not necessarily the order of the changes
        looks = "".join(rf"(?=.*[?&]{re.escape(k)}={re.escape(v)}(?:&|$))" for k, v in query.items())
        expect(app.page).to_have_url(re.compile(rf"^{looks}.*$"))
    app.wait_for_app()
    assert app.query() == query
    spec = settings.spec()
    caption = geometry(app)
    expect(caption).to_contain_text(f"x {spec.input_shape}")
    expect(caption).to_contain_text(f"stride {spec.stride}")
    expect(caption).to_contain_text(f"→ y {spec.output_shape}")


def test_a_phone_changes_each_setting_with_one_tap_or_key(phone):
    app = phone
    app.open("")
    open_sidebar(app)
    expect_layer(app, Settings(), {})
    # H: one tap on the slider's track where 9 sits.
    app.page.touchscreen.tap(*app.slider_point("H (height)", 9))
    expect_layer(app, Settings(h=9), {"h": "9"})
    app.expect_setting("H (height)", 9)
    # H again: the slider takes the keyboard (ArrowRight is one step).
    app.control("H (height)").press("ArrowRight")
    expect_layer(app, Settings(h=10), {"h": "10"})
    app.expect_setting("H (height)", 10)
    # The stride: one tap on a segment.
    app.segment("SH (stride)", 2).tap()
    expect_layer(app, Settings(h=10, sh=2), {"h": "10", "sh": "2"})
    app.expect_setting("SH (stride)", 2)
    # A tap on the selected segment does not clear it: the setting keeps its value.
    app.segment("SH (stride)", 2).tap()
    app.wait_for_app()
    app.expect_setting("SH (stride)", 2)
    assert app.query() == {"h": "10", "sh": "2"}
    # Segments take the keyboard too (Space on the focused one).
    app.segment("KW (kernel)", 5).press("Space")
    expect_layer(app, Settings(h=10, sh=2, kw=5), {"h": "10", "sh": "2", "kw": "5"})
    app.assert_healthy()


def test_every_sidebar_control_is_touch_sized_and_fits_the_phone(phone):
    app = phone
    app.open("?pad=custom&kernel=custom&kv=1,0,-1%3B2,0,-2%3B1,0,-1")  # every control drawn: padding sides, kernel text
    open_sidebar(app)
    app.page.wait_for_timeout(300)  # the sidebar's slide-in transition
    found = app.page.evaluate(TARGETS_JS)
    # H, W, seed; N, C, F, KH, KW, SH, SW, DH, DW, padding mode and its four sides; input data, kernel preset; presenter
    assert found["widgets"] == {"sliders": 3, "segmented": 14, "radios": 3, "toggles": 1, "number_inputs": 0}, found
    small = [t for t in found["targets"] if t["height"] < MIN_TARGET_PX or t["width"] < MIN_TARGET_PX]
    assert not small, f"targets under {MIN_TARGET_PX} px: {small}"
    kinds = {t["kind"] for t in found["targets"]}
    assert kinds == {"slider track", "segment", "radio option", "toggle", "button", "text box"}, kinds
    assert not app.page.evaluate(OVERFLOW_JS, PHONE["width"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    app.page.screenshot(path=str(SCREENSHOTS / "sidebar_phone.png"))
    app.assert_healthy()
