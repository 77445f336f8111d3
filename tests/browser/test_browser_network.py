"""The network page in a real browser: a stack from a link, typed in the sidebar, stepped with the keyboard."""
from __future__ import annotations

import pytest
from browser_support import SCREENSHOTS, player_button, step_of, wait_for_player

pytestmark = pytest.mark.browser


def test_a_link_opens_the_stack_and_the_last_step_shows_the_effective_receptive_field(new_app):
    app = new_app().open("network?net=c3s2,c3s2&h=11&w=11&data=random")
    assert step_of(app) == (1, 7)  # 2 forward layers, the field, the one-hot, 2 backward layers, the input's gradient
    player_button(app.page, "cv-last").click()
    wait_for_player(app.page, "p.dataset.step === '6'", timeout=15)
    title = app.chart_title()
    assert title.startswith("Step 7/7: Effective receptive field") and "checkerboard" in title, title
    app.assert_healthy()
    app.full_screenshot(SCREENSHOTS / "network-checkerboard.png")


def test_a_stack_typed_in_the_sidebar_redraws_and_a_wrong_one_is_explained(new_app):
    app = new_app().open("network")
    box = app.page.locator('[data-testid="stSidebar"] input[aria-label="Layers (net)"]')
    box.fill("c3,relu,max2")
    box.press("Enter")
    app.wait_for_app()
    assert app.query().get("net") == "c3,relu,max2"
    assert step_of(app) == (1, 9)  # 3 forward layers, the field, the one-hot, 3 backward layers, the input's gradient
    box.fill("c3,relu,max2,c3")  # 6 -> 4 -> 4 -> 2: too small for a 3 x 3 window
    box.press("Enter")
    app.wait_for_app(chart=False)
    errors = " ".join(app.alerts("Error"))
    assert "layer 4 (c3) gets a 2x2 map" in errors, errors
    assert box.input_value() == "c3,relu,max2,c3"  # kept, to be fixed
    app.assert_healthy()
