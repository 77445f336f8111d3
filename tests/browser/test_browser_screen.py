"""The figure is the screen: every page's figure measured in chromium at the sizes people use, and its one player.

Targets (issue 'The figure is the screen'), at the defaults, on load, unscrolled:
- presenter mode on a projector (1920 x 1080, 1280 x 720): every panel and the step's caption on screen, and the
  cells as large as the screen allows: the figure reaches the bottom of the screen or the right of the page (the
  issue's 40 % of the screen is reached where the panels' shapes allow it: bench/screen.py prints the share);
- a laptop (1440 x 900, 1366 x 768): the figure starts in the upper half of the screen;
- a phone (390 x 844): nothing scrolls sideways, cells of 20 px at least, the figure and its player on the first
  screen, touch-sized buttons.
"""
from __future__ import annotations

import pytest
from browser_support import (
    FIND_PLAYER_JS,
    AppPage,
    clickable_cell_centre,
    figure_on_screen,
    player_button,
    player_state,
    wait_for_player,
)

from convviz.figures.grid import text_px  # noqa: E402
from convviz.stages import PAGES, stages_of  # noqa: E402

# Every page that draws a stage, from the catalog, and the pooling page's other kind.
FIGURE_PAGES = tuple(p.url_path for p in PAGES if stages_of(p.url_path)) + ("maxpool?pool=avg",)
SCREENS = {"present-1920": (1920, 1080, True), "present-1280": (1280, 720, True), "laptop-1440": (1440, 900, False),
           "laptop-1366": (1366, 768, False), "phone": (390, 844, False)}
EDGE_PX = 90  # a figure "reaches" the bottom of the screen or the right of the page within this many pixels
PHONE_CELL_PX = 20.0


@pytest.fixture
def sized_app(browser, base_url):
    """Open a page in a browser context of its own size (a phone has touch); the figure settled after the player
    reported the screen."""
    contexts = []

    def open_(path: str, width: int, height: int) -> AppPage:
        phone = width < 640
        ctx = browser.new_context(viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone)
        contexts.append(ctx)
        app = AppPage(ctx.new_page(), base_url)
        app.open(path)
        app.page.wait_for_timeout(800)  # the player reports the screen, and the figure is laid out for it
        app.wait_for_app()
        return app

    yield open_
    for ctx in contexts:
        ctx.close()


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("page", FIGURE_PAGES)
def test_the_figure_fills_the_screen(sized_app, page, screen):
    width, height, present = SCREENS[screen]
    app = sized_app(page + (('&' if '?' in page else '?') + 'present=1' if present else ''), width, height)
    m = figure_on_screen(app.page)
    assert m, f"no figure on {page}"
    assert not m["wide"], f"{page} scrolls sideways at {width} x {height}: {m}"
    if present:
        assert m["whole"] and m["caption"], f"{page} at {width} x {height}: the figure or its caption is off screen: {m}"
        player_box = app.page.locator(".cv-player").first.bounding_box()
        beside = player_box and player_box["x"] >= m["right"] - 2
        right = player_box["x"] if beside else width  # beside the figure, the player's column is where it must stop
        assert m["bottom"] >= height - EDGE_PX or m["right"] >= right - EDGE_PX, \
            f"{page} at {width} x {height}: the cells could be larger, the figure ends at {m}"
    elif screen == "phone":
        assert m["cell"] >= PHONE_CELL_PX and m["top"] < height, f"{page} on a phone: {m}"
        bar = app.page.locator(".cv-play").first.bounding_box()
        assert bar and bar["y"] + bar["height"] <= height, "the player is not on the phone's first screen"
    else:
        assert m["top"] < height / 2, f"{page} at {width} x {height}: the figure starts {m['top']} px down: {m}"
    app.assert_healthy()


def test_keys_and_clicker_step_the_figure_from_the_page_body(app):
    """→ / PageDown next, ← / PageUp previous, End / Home last / first: with the focus on the page, not the figure;
    not on a control that uses the key itself (a slider)."""
    app.open("forward")
    app.page.locator("body").focus()
    assert player_state(app.page)["step"] == 0
    for key, step in (("PageDown", 1), ("PageDown", 2), ("ArrowRight", 3), ("PageUp", 2), ("ArrowLeft", 1),
                      ("End", 15), ("Home", 0)):
        app.page.keyboard.press(key)
        wait_for_player(app.page, f"p.dataset.step === '{step}'", 10)
    state = player_state(app.page)
    assert state["count"] == "Step 1 / 16" and state["title"].startswith("Output cell (0, 0)")
    h = app.control("H (height)")  # a focused sidebar slider keeps its keys (PageDown moves the slider, not the step)
    h.focus()
    h.press("ArrowRight")
    app.wait_for_app()
    assert player_state(app.page)["step"] == 0, "a key pressed on a sidebar slider stepped the figure"
    app.assert_healthy()


def test_a_clicked_cell_is_where_play_continues_and_the_exports_follow_the_screen(app):
    """A click on output cell (1, 2) shows its step at once; Play goes on from there; after Pause the caption and the
    PNG export name the step on the screen."""
    app.open("forward")
    x, y = clickable_cell_centre(app.page, 1, 2)
    app.page.mouse.click(x, y)
    wait_for_player(app.page, "p.dataset.step === '6'", 10)  # row 1, column 2 of a 4 x 4 output
    assert player_state(app.page)["title"].startswith("Output cell (1, 2)")
    player_button(app.page, "cv-play").click()
    wait_for_player(app.page, "Number(p.dataset.step) >= 8", 10)
    player_button(app.page, "cv-play").click()  # pause
    state = player_state(app.page)
    assert not state["playing"] and state["step"] >= 8
    app.page.wait_for_timeout(800)  # the player tells the server once it rests
    app.wait_for_app(chart=False)
    assert player_state(app.page)["step"] == state["step"], "the server's rerun moved the step on screen"
    app.page.get_by_text("Export this figure").click()
    png = app.page.get_by_text(f"PNG of step {state['step'] + 1}")
    png.wait_for(timeout=5000)
    assert state["caption"] and state["count"] == f"Step {state['step'] + 1} / 16"
    app.assert_healthy()


def test_the_outlines_on_screen_stay_those_of_the_step_shown_after_the_server_reruns(app):
    """Streamlit hands the chart to Plotly.react after every run, which puts the first step's outlines back: the
    player draws its own step again."""
    app.open("forward")
    app.page.keyboard.press("End")
    wait_for_player(app.page, "p.dataset.step === '15'", 10)
    app.page.wait_for_timeout(800)
    app.wait_for_app(chart=False)
    app.page.wait_for_timeout(300)
    paths = app.page.evaluate("() => document.querySelector('.js-plotly-plot').layout.shapes.map((s) => s.path)")
    write = [p for p in paths if p and p != "M0 0"]
    # the last step writes output cell (3, 3): a square round x = 3, y = 3 on the output's axes
    assert any("M2.5" in p or "M2.54" in p for p in write), paths


def test_a_new_figure_keeps_the_step_on_screen(app):
    """A key pressed before a new figure arrives (laid out for the screen, built round another step, or for new
    settings) is not undone by the step the server last heard of; a step the new figure has no frame for gives way to
    the server's."""
    app.open("forward")
    app.page.keyboard.press("End")
    wait_for_player(app.page, "p.dataset.step === '15'", 10)
    reload = f"([start, last]) => {{ const p = {FIND_PLAYER_JS}; const d = p.__cv.data; " \
             "p.__cv.load({...d, token: d.token + 'x' + start + last, start, frames: d.frames.slice(0, last), " \
             "steps: d.steps.slice(0, last), titles: d.titles.slice(0, last), captions: d.captions.slice(0, last)}); " \
             "return p.dataset.step; }"
    assert app.page.evaluate(reload, [0, 16]) == "15", "a new figure took the step back to the server's"
    assert app.page.evaluate(reload, [3, 8]) == "3", "a step the new figure has no frame for was kept"
    app.assert_healthy()


def test_phone_controls_are_touch_sized(sized_app):
    app = sized_app("forward", 390, 844)
    for css in ("cv-prev", "cv-play", "cv-next"):
        box = app.page.locator(f".{css}").first.bounding_box()
        assert box and box["height"] >= 40 and box["width"] >= 44, (css, box)
    scrub = app.page.locator(".cv-scrub").first.bounding_box()
    assert scrub and scrub["height"] >= 32 and scrub["width"] >= 300


FIGURE_BOX_JS = """() => { const r = document.querySelector('.js-plotly-plot').getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }"""


TITLES_JS = """() => ['cv_title', 'cv_title_side'].map((k) => { const e = document.querySelector('.st-key-' + k);
  const r = e && e.getBoundingClientRect(); return r && r.height ? {left: r.left, top: r.top, bottom: r.bottom} : null; })"""


def test_a_projector_puts_the_player_beside_a_tall_figure_and_over_a_wide_one(sized_app):
    """On a 1280 x 720 projector the shapes page's one square panel gets the screen's height from the page's top, the
    page's title, its player and caption in the column to its right; Forward's four panels in a row keep the player
    over them, the title in its bar. Either way the figure is laid out once (the player reports the same screen wherever
    it sits), and the keys step it."""
    app = sized_app("shapes?present=1", 1280, 720)
    fig, bar = app.page.evaluate(FIGURE_BOX_JS), player_button(app.page, "cv-play").bounding_box()
    assert bar["x"] >= fig["right"] - 2 and fig["top"] - 40 <= bar["y"] <= fig["bottom"], (fig, bar)
    over, beside = app.page.evaluate(TITLES_JS)
    assert over is None and beside["left"] >= fig["right"] - 2 and beside["bottom"] <= bar["y"], (over, beside, fig)
    m = figure_on_screen(app.page)
    assert m["whole"] and m["caption"] and m["bottom"] >= 720 - EDGE_PX and m["top"] < 90, m
    assert m["share"] >= 38, f"beside the player the square panel should cover over a third of the screen: {m}"
    shown = app.page.evaluate("() => document.querySelector('.js-plotly-plot').layout.datarevision")
    app.page.wait_for_timeout(1500)
    wait_for_player(app.page, "p.dataset.settled === 'true'", 10)
    assert app.page.evaluate("() => document.querySelector('.js-plotly-plot').layout.datarevision") == shown
    app.page.locator("body").focus()
    app.page.keyboard.press("PageDown")
    wait_for_player(app.page, "p.dataset.step === '1'", 10)
    # Next, in the same browser (the screen remembered from shapes, whose player starts under no tabs), a page with
    # tabs over its figure: the player measures where it starts on this page, and the figure still ends on screen.
    app.open("conv_transpose?present=1")
    app.page.wait_for_timeout(800)
    app.wait_for_app()
    m = figure_on_screen(app.page)
    assert m["whole"] and m["caption"] and 720 - EDGE_PX <= m["bottom"] <= 720, m

    # Forward keeps the player over its four panels, with the page's title in the player's bar, left of its buttons.
    app = sized_app("forward?present=1", 1280, 720)
    fig, bar = app.page.evaluate(FIGURE_BOX_JS), player_button(app.page, "cv-play").bounding_box()
    assert bar["y"] + bar["height"] <= fig["top"], (fig, bar)
    assert app.page.evaluate(TITLES_JS) == [None, None]
    heading = app.page.locator(".cv-heading").first
    box = heading.bounding_box()
    assert heading.inner_text() == "Forward pass: the sliding window"
    assert box["x"] + box["width"] <= player_button(app.page, "cv-first").bounding_box()["x"], box
    assert bar["y"] <= box["y"] and box["y"] + box["height"] <= bar["y"] + bar["height"] + 1, (box, bar)
    m = figure_on_screen(app.page)
    assert m["whole"] and m["caption"] and m["top"] < 200 and m["share"] >= 40, m
    app.assert_healthy()


def test_closing_the_sidebar_lays_the_figure_out_for_the_wider_column(sized_app):
    """The page's column narrows when the sidebar opens and widens when it closes, with no window resize: the figure
    follows it both ways. Closing the sidebar used to leave the figure at the open sidebar's width (Forward on a
    1280 x 720 projector: 938 px of the 1,238 px column)."""
    app = sized_app("forward?present=1", 1280, 720)
    width = "(document.querySelector('.js-plotly-plot')?.layout?.width ?? 0)"  # 0 while the chart is redrawn
    wide = app.page.evaluate(f"() => {width}")
    app.page.locator('[data-testid="stExpandSidebarButton"]').first.click()
    app.page.wait_for_function(f"() => ![0, {wide}].includes({width})", timeout=15_000)
    app.wait_for_app()
    narrow = app.page.evaluate(f"() => {width}")
    assert narrow < 1000 < wide  # laid out beside the open sidebar, then for the whole column
    app.page.locator('[data-testid="stSidebarCollapseButton"] button').first.click()
    app.page.wait_for_function(f"() => ![0, {narrow}].includes({width})", timeout=15_000)
    app.wait_for_app()
    m = figure_on_screen(app.page)
    assert m["whole"] and m["share"] >= 39, m  # as on a fresh load (40 %); beside the open sidebar it covered 32 %
    app.assert_healthy()


NUMBER_WIDTHS_JS = """() => { const gd = document.querySelector('.js-plotly-plot'); const out = [];
  for (const t of gd.querySelectorAll('.heatmaplayer text')) {
    const sub = t.closest('g.subplot'), name = [...sub.classList].find((c) => c !== 'subplot');
    const x = gd._fullLayout['xaxis' + name.slice(1, name.indexOf('y'))];
    out.push({text: t.textContent, width: t.getBBox().width, cell: x._m}); }
  return out; }"""


# A machine whose first choice of plotly.js's default fonts is a wide one (Windows and macOS have Verdana): here
# DejaVu Sans, Verdana's width, stands in for "Open Sans".
WIDE_DEFAULT_FONT = "@font-face { font-family: 'Open Sans'; src: local('DejaVu Sans'), local('DejaVuSans'); }"


# Every number printed in a cell that an outline's side crosses: each outline path's rectangles ("M x0 y0 H x1 V y1
# H x0 Z", in the path's own pixels) mapped to the screen, their left and right sides (with half the line width)
# against the numbers' boxes.
CROSSED_NUMBERS_JS = r"""() => { const gd = document.querySelector('.js-plotly-plot'); const out = {paths: [], crossed: []};
  const texts = [...gd.querySelectorAll('.heatmaplayer text')].filter((t) => t.textContent.trim())
    .map((t) => ({text: t.textContent, r: t.getBoundingClientRect()}));
  for (const p of gd.querySelectorAll('.shapelayer path')) {
    const d = p.getAttribute('d') || '', m = p.getScreenCTM(), half = parseFloat(getComputedStyle(p).strokeWidth) / 2;
    out.paths.push(d.slice(0, 80));
    for (const rect of d.matchAll(/M([-\d.e]+)[ ,]([-\d.e]+)H([-\d.e]+)V([-\d.e]+)H[-\d.e]+Z/g)) {
      const [x0, y0, x1, y1] = rect.slice(1, 5).map(Number);
      const a = new DOMPoint(x0, y0).matrixTransform(m), b = new DOMPoint(x1, y1).matrixTransform(m);
      const top = Math.min(a.y, b.y), bottom = Math.max(a.y, b.y);
      for (const x of [a.x, b.x]) for (const t of texts)
        if (t.r.left < x + half && x - half < t.r.right && t.r.top < bottom && top < t.r.bottom)
          out.crossed.push({text: t.text, edge: Math.round(x), left: Math.round(t.r.left), right: Math.round(t.r.right)});
    }
  }
  return out; }"""


@pytest.mark.parametrize("path, width, height", [("gradcheck?present=1", 1280, 720), ("gradcheck", 1366, 768),
                                                 ("col2im?present=1", 1920, 1080), ("maxpool?present=1", 1280, 720)])
def test_no_outline_crosses_a_number(sized_app, path, width, height):
    """A number is narrower than the room inside the outlines its panel is drawn with, at the first and the last
    step. The outline of what a step is about sits well inside its cells (to show inside a read window): on
    b8bec74 it crossed the first and last characters of Gradient check's relative errors ("6e-10" in 52 px cells)."""
    app = sized_app(path, width, height)
    for key in ("", "End"):
        if key:
            app.page.keyboard.press(key)
            app.page.wait_for_timeout(800)
        found = app.page.evaluate(CROSSED_NUMBERS_JS)
        assert found["paths"], "no outline drawn: the test checks nothing"
        assert not found["crossed"], (key or "first step", found["crossed"][:5])
    app.assert_healthy()


@pytest.mark.parametrize("path", ["gradcheck?present=1", "forward?present=1"])
def test_numbers_in_cells_fit_their_cells(sized_app, path):
    """Every number printed in a cell is narrower than the cell, with room for an outline along its edges, whatever
    fonts the machine has: the numbers are sized for Arial's widths, and drawn in Arial (or a font of its widths).
    In plotly.js's default font on a machine with Verdana, Gradient check's relative errors ("3e-10", 5 characters
    in 49 px cells at 1280 x 720) were as wide as their cells."""
    app = sized_app(path, 1280, 720)
    app.page.add_style_tag(content=WIDE_DEFAULT_FONT)
    app.page.wait_for_timeout(500)
    numbers = app.page.evaluate(NUMBER_WIDTHS_JS)
    assert len(numbers) > 30 and any(len(n["text"]) >= 3 for n in numbers)
    wide = [n for n in numbers if n["width"] > 0.85 * n["cell"]]
    assert not wide, wide[:5]
    app.assert_healthy()


# Each panel title's lines (their text and drawn width) and box, every grid of cells, and the figure's box.
PANEL_TITLES_JS = """() => { const gd = document.querySelector('.js-plotly-plot');
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const titles = [...gd.querySelectorAll('g.annotation')].map((g) => { const t = g.querySelector('text');
    const spans = t.querySelectorAll('tspan.line');
    const lines = (spans.length ? [...spans] : [t]).map((s) => ({text: s.textContent, width: s.getComputedTextLength()}));
    return {text: t.textContent, lines, box: box(t)}; });
  return {font: gd._fullLayout.font.size, titles, grids: [...gd.querySelectorAll('g.heatmaplayer image')].map(box),
          figure: box(gd)}; }"""


def overlap(a, b, slack: float = 1.0) -> bool:
    """Whether two boxes [left, top, right, bottom] overlap by more than `slack` pixels both ways."""
    return min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack


@pytest.mark.parametrize("path, width, height", [("conv_transpose?present=1", 1280, 720), ("grouped?present=1", 1280, 720),
                                                 ("input_gradient", 1366, 768), ("gradcheck", 390, 844)])
def test_panel_titles_are_wrapped_by_their_drawn_width_and_clear_of_everything(sized_app, path, width, height):
    """Titles are wrapped and given room by Arial Bold's widths (`grid.text_px`), not a guess per character: every
    line is drawn no wider than its estimate and at least 85 % of it, and no title runs into another, into a grid of
    cells or past the figure. At 0.6 font sizes a character, Transposed convolution's titles took two lines at
    1280 x 720 where one fits."""
    app = sized_app(path, width, height)
    drawn = app.page.evaluate(PANEL_TITLES_JS)
    titles, font = drawn["titles"], drawn["font"]
    assert len(titles) >= 4 and drawn["grids"], drawn
    for t in titles:
        for line in t["lines"]:
            estimate = text_px(line["text"], font)
            assert 0.85 * estimate <= line["width"] <= estimate, (t["text"], line, estimate)
        assert drawn["figure"][0] <= t["box"][0] and t["box"][2] <= drawn["figure"][2], t
        assert not [g for g in drawn["grids"] if overlap(t["box"], g)], (t, drawn["grids"])
    for i, a in enumerate(titles):
        assert not [b["text"] for b in titles[i + 1:] if overlap(a["box"], b["box"])], a
    app.assert_healthy()
