"""The network page in a real browser: a stack from a link, typed in the sidebar, stepped with the keyboard."""
from __future__ import annotations

import pytest
from browser_support import SCREENSHOTS, figure_on_screen, player_button, step_of, wait_for_player

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
    assert "These settings do not make a valid stack. Layer 4 (c3) gets a 2x2 map" in errors, errors
    assert box.input_value() == "c3,relu,max2,c3"  # kept, to be fixed
    app.assert_healthy()


READABLE_CELL_PX = 18  # one channel a map: 24 px on this link; every channel side by side was 11 px


def test_many_channels_keep_cells_readable_and_hidden_layer_settings_survive(new_app):
    """C = 3 and F = 4: each map is drawn as one channel, so cells stay large. The sidebar shows the input's controls
    but not the layer's the page ignores; the link keeps those (kh=5), and the forward pass shows them again."""
    app = new_app().open("network?net=c3f4,relu,c3&cin=3&h=8&w=8&data=random&kh=5")
    m = figure_on_screen(app.page)
    assert m and m["cell"] >= READABLE_CELL_PX, m
    assert app.control("H (height)").count() == 1 and app.control("C (in channels)").count() == 1
    assert app.control("KH (kernel)").count() == 0 and app.control("padding mode").count() == 0
    assert app.control("output cell channel f").count() == 1  # the last map's 4 channels: the cell's is a choice
    assert app.query().get("kh") == "5"
    app.page.locator('[data-testid="stSidebarNav"] a[href$="/forward"]').click()
    app.wait_for_app()
    app.expect_setting("KH (kernel)", 5)
    assert app.query().get("kh") == "5"
    app.assert_healthy()
