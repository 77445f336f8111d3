"""The app in a real browser: deep links, URL sync, navigation, animation, cell clicks, hostile links, screenshots.

Run: python -m pytest tests/browser -q -p no:xdist   (also fine with -n 2: one server per worker).
"""
from __future__ import annotations

import re

import pytest
from browser_support import FIRST_DEEP_LINK, SCREENSHOTS, app_pages, step_of, wait_for_player
from playwright.sync_api import expect

from convviz.stages import PAGE

pytestmark = pytest.mark.browser

PAGES = app_pages()
URL_PATHS = [u for u, _ in PAGES]
EDGE = "h=7&w=8&kh=2&kw=3&sh=2&sw=3&pad=custom&pt=1&pl=2&cin=2"
EDGE_SYMMETRIC = "h=7&w=8&kh=2&kw=3&sh=2&sw=3&pad=custom&pt=1&pb=1&pl=2&pr=2&cin=2"


def refuses(url_path: str, query: str) -> bool:
    """Whether the page's own layer (its first stage's, from the catalog) refuses these settings."""
    from urllib.parse import parse_qsl

    from convviz.stages import stages_of
    from convviz.ui.settings import parse_query

    own = stages_of(url_path)
    try:
        own and own[0].layer(parse_query(dict(parse_qsl(query)))[0])
    except ValueError:
        return True
    return False
ROOT = ""  # the default page (Shapes) is served at the root; /shapes opens it too (test_browser_default_page.py)


def url_with(**params) -> re.Pattern:
    """Matches a URL whose query holds every key=value given."""
    looks = "".join(rf"(?=.*[?&]{re.escape(k)}={re.escape(str(v))}(?:&|$))" for k, v in params.items())
    return re.compile(rf"^{looks}.*$")



# ------------------------------------------------------------------------------------------------- 1. deep links


def test_first_ever_request_is_a_deep_link(first_visit):
    """The server's first session was a deep link to a page in pages/: Streamlit 1.67 ran that page's script
    alone (legacy pages/ mode: no app.py, so no navigation, no shared controls, URL settings ignored)."""
    assert not first_visit.failure, f"{first_visit.url}: {first_visit.failure}"
    assert first_visit.title, f"{first_visit.url} rendered no title"
    assert first_visit.charts >= 1, f"{first_visit.url} rendered no chart"
    assert first_visit.nav_label == dict(PAGES)[FIRST_DEEP_LINK.split("?")[0]], \
        f"the first deep link ran without app.py's navigation (nav label {first_visit.nav_label!r})"
    assert first_visit.h_input == "7", f"the shared controls are missing or ignored the URL (H = {first_visit.h_input!r})"
    assert "(1, 1, 7, 6)" in first_visit.captions, first_visit.captions
    assert not first_visit.exceptions, first_visit.exceptions
    assert not first_visit.errors, first_visit.errors


@pytest.mark.parametrize(("url_path", "nav_title"), PAGES)
def test_deep_link_renders_page_with_url_settings(app, url_path, nav_title):
    app.open(f"{url_path}?h=7&sh=2")
    assert app.title(), "no page title (h1)"
    assert app.page.locator('[role="dialog"]').count() == 0, app.texts('[role="dialog"]')
    assert app.page.locator(".js-plotly-plot").count() >= 1
    assert app.nav_label() == nav_title, "the deep link opened another page"
    app.expect_setting("H (height)", "7")
    if PAGE[url_path].layer_controls:  # a page that reads no stride shows no control for it; the link keeps it
        app.expect_setting("SH (stride)", "2")
    captions = " ".join(app.texts('[data-testid="stCaptionContainer"]'))
    if url_path == "methods":  # it times a layer of its own sizes: its caption is that layer's, not the sidebar's
        assert "x (2, 8, 32, 32)" in captions and "(1, 1, 7, 6)" not in captions, captions
    else:
        assert "(1, 1, 7, 6)" in captions, f"geometry line without x (1, 1, 7, 6): {captions!r}"
    assert app.query() == {"h": "7", "sh": "2"}
    app.assert_healthy()


# ------------------------------------------------------------------------------------------------- 2./3. URL sync


def test_settings_survive_sidebar_navigation(app, base_url):
    app.open("forward?h=7&kh=2")
    app.page.locator('[data-testid="stSidebarNav"] a[href$="/im2col"]').click()
    expect(app.page).to_have_url(re.compile(rf"^{re.escape(base_url)}/im2col\?"))
    app.wait_for_app()
    expect(app.page).to_have_url(url_with(h=7, kh=2))
    assert app.query() == {"h": "7", "kh": "2"}
    assert app.title().startswith("im2col")
    app.expect_setting("H (height)", "7")
    app.expect_setting("KH (kernel)", "2")
    assert "(1, 1, 7, 6)" in " ".join(app.texts('[data-testid="stCaptionContainer"]'))
    # The "link to this view" popover offers the same address.
    app.page.get_by_text("Link to this view").click()
    expect(app.page.locator('[data-testid="stPopoverBody"] code')).to_have_text(f"{base_url}/im2col?h=7&kh=2")
    app.page.keyboard.press("Escape")
    app.assert_healthy()


def test_changing_a_control_updates_the_url(app):
    app.open(ROOT)
    assert "h" not in app.query()
    app.set_setting("H (height)", 9)  # one click on the slider's track
    expect(app.page).to_have_url(url_with(h=9))
    app.wait_for_app()
    app.expect_setting("H (height)", "9")
    expect(app.page.locator('[data-testid="stCaptionContainer"]').first).to_contain_text("(1, 1, 9, 6)")
    app.assert_healthy()


# ------------------------------------------------------------------------------------------------- 4. animation


def test_play_advances_frames_and_pause_stops(app):
    app.open("forward")
    first, total = step_of(app)
    assert (first, total) == (1, 16), "default 6x6 input, 3x3 kernel: 16 output cells, starting at the first"
    app.page.locator(".cv-speed").first.select_option("fast")
    app.page.locator(".cv-play").first.click()
    wait_for_player(app.page, "p.dataset.step === '15' && p.dataset.playing === 'false'", 10)  # Fast plays all 16
    assert step_of(app) == (16, 16), "Play (fast) did not reach the last step"
    assert int(app.page.locator(".cv-scrub").first.input_value()) == 15, "the scrubber did not follow the animation"
    app.page.locator(".cv-speed").first.select_option("normal")
    app.page.locator(".cv-play").first.click()  # at the last step, Play starts again from the first
    app.page.wait_for_timeout(800)
    now, _ = step_of(app)
    assert 1 <= now < 16, now
    app.page.locator(".cv-play").first.click()  # Pause
    paused, _ = step_of(app)
    app.page.wait_for_timeout(1500)
    assert step_of(app)[0] == paused, "Pause did not stop the animation"
    app.assert_healthy()


# ------------------------------------------------------------------------------------------------- 5. cell clicks

CELL_CENTRE_JS = """([title, row, col]) => {
  const gd = document.querySelector('.js-plotly-plot');
  const fl = gd._fullLayout;
  const strip = s => s.replace(/<[^>]*>/g, ' ').replace(/\\s+/g, ' ').trim();
  const ann = fl.annotations.find(a => strip(a.text).startsWith(title));
  if (!ann) return {error: 'no subplot titled ' + title + ': ' + fl.annotations.map(a => strip(a.text)).join(' | ')};
  // A title sits at the top-left corner of its grid, placed on the subplot's x axis (the channels of a panel share it).
  const xk = ann.xref === 'paper' ? null : 'xaxis' + ann.xref.slice(1);
  if (!xk || !fl[xk]) return {error: 'no axes under the title ' + title};
  const xa = fl[xk], ya = fl[xa.anchor.replace('y', 'yaxis')];
  const meta = JSON.parse(gd.layout.meta);
  const target = gd._fullData[meta.click_trace];
  if (!target || target.xaxis !== xa._id || target.yaxis !== ya._id) return {error: 'the subplot is not the clickable one'};
  const cols = Math.round(xa.range[1] + 0.5), rows = Math.round(ya.range[0] + 0.5);
  const r = row < 0 ? rows + row : row, c = col < 0 ? cols + col : col;
  const box = gd.getBoundingClientRect();
  return {x: box.left + xa._offset + xa.l2p(c), y: box.top + ya._offset + ya.l2p(r), row: r, col: c, rows, cols};
}"""


def click_cell(app, title: str, row: int, col: int) -> dict:
    """A real mouse click on the centre of a cell of the subplot titled `title` (negative index: from the end)."""
    chart = app.page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    where = app.page.evaluate(CELL_CENTRE_JS, [title, row, col])
    assert "error" not in where, where["error"]
    app.page.mouse.move(where["x"], where["y"])
    hover = app.page.locator(".hoverlayer .hovertext")
    expect(hover.first).to_contain_text(f" {where['row']}, ")  # the hover names the cell the click will choose
    app.page.mouse.click(where["x"], where["y"])
    return where


def expect_step(app, cell: tuple[int, int]) -> None:
    """The player shows the step of output cell `cell`, and still does once the server has heard of it."""
    label = f"Output cell ({cell[0]}, {cell[1]})"
    expect(app.page.locator(".cv-title").first).to_contain_text(label, timeout=20_000)
    app.page.wait_for_timeout(600)  # the player tells the server once it rests
    app.wait_for_app(chart=False)
    assert label in app.chart_title()
    expect(app.page.locator(".cv-scrub").first).to_have_value(str(step_of(app)[0] - 1))


def test_clicking_an_output_cell_selects_its_step(app):
    app.open("forward")
    where = click_cell(app, "output y", -1, -1)
    assert (where["rows"], where["cols"]) == (4, 4)
    expect_step(app, (3, 3))
    assert step_of(app) == (16, 16)
    app.assert_healthy()
    # The chosen step must stick through later reruns: another click, then the keyboard.
    click_cell(app, "output y", 1, 2)
    expect_step(app, (1, 2))
    app.page.keyboard.press("ArrowLeft")
    expect_step(app, (1, 1))
    app.assert_healthy()


HOVER_CELL_JS = """([tag, row, col]) => {
  // Centre of cell (row, col) of the channel block tagged `tag` (the first line of its first column's tick label).
  const gd = document.querySelector('.js-plotly-plot');
  const fl = gd._fullLayout;
  const strip = s => s.replace(/<[^>]*>/g, '');
  for (const k of Object.keys(fl).filter(k => /^xaxis\\d*$/.test(k))) {
    const xa = fl[k], i = (xa.ticktext || []).findIndex(t => strip(String(t).split('<br>')[0]) === tag);
    if (i < 0) continue;
    const ya = fl[xa.anchor.replace('y', 'yaxis')], box = gd.getBoundingClientRect();
    return {x: box.left + xa._offset + xa.l2p(xa.tickvals[i] + col), y: box.top + ya._offset + ya.l2p(row)};
  }
  return {error: 'no block tagged ' + tag};
}"""


def test_hover_names_the_channel_and_the_labelled_cell(app):
    """Channels share a subplot (shifted right); the hover must still name the channel, the row and column as the
    axes label them (padded input: from -top, -left) and the engine's value there."""
    from convviz.data import make_input
    from convviz.ui.settings import parse_query

    query = {"cin": "2", "pad": "custom", "pt": "1", "pb": "0", "pl": "2", "pr": "0"}
    settings, _ = parse_query(query)
    x = make_input(settings.spec(), settings.data, settings.seed)
    app.open("forward?" + "&".join(f"{k}={v}" for k, v in query.items()))
    chart = app.page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    where = app.page.evaluate(HOVER_CELL_JS, ["[c=1]", 3, 4])  # padded row 3, column 4 = input row 2, column 2
    assert "error" not in where, where["error"]
    app.page.mouse.move(where["x"], where["y"])
    value = x[0, 1, 2, 2]
    expect(app.page.locator(".hoverlayer .hovertext").first).to_contain_text(f"c 1, row 2, col 2: {value:.6g}")
    app.assert_healthy()


def test_the_code_expander_loads_its_source_when_opened(app):
    app.open("forward")
    box = app.page.locator('[data-testid="stExpander"]', has_text="The engine's NumPy code for this stage")
    expect(box.locator('[data-testid="stCode"]')).to_have_count(0)  # closed: not sent
    box.locator("summary").click()
    expect(box.locator('[data-testid="stCode"]').first).to_contain_text("def forward_loops", timeout=20_000)
    app.wait_for_app()
    app.assert_healthy()


# ------------------------------------------------------------------------------------------------- 6./7. bad links


def test_hostile_url_is_refused_with_warnings(app):
    app.open("forward?h=inf&sh=-1&data=%3Cscript%3Ealert(1)%3C/script%3E")
    app.page.wait_for_timeout(500)  # time for any injected script to fire
    warnings = app.alerts("Warning")
    assert any(re.search(r"\bh: 'inf'", w) for w in warnings), warnings
    assert any(re.search(r"\bsh: -1", w) for w in warnings), warnings
    assert any("data:" in w and "<script>" in w for w in warnings), "the refused value is shown as plain text"
    assert app.page.locator('[data-testid="stMain"] script').count() == 0
    app.expect_setting("H (height)", "6")
    app.assert_healthy()  # includes: no alert() dialog


def test_url_values_cannot_inject_markdown_links(app):
    app.open("forward?data=%5Bx%5D(https://e.io)&kernel=**bold**")
    warnings = app.alerts("Warning")
    assert len(warnings) == 2, warnings
    assert any("'[x](https://e.io)'" in w for w in warnings), warnings
    assert any("'**bold**'" in w for w in warnings), warnings
    alerts = app.page.locator('[data-testid="stAlertContentWarning"]')
    assert "x" not in alerts.locator("a").all_inner_texts(), "a URL value became a disguised link in the app"
    assert alerts.locator("strong, em").count() == 0, "a URL value was rendered as Markdown"
    app.assert_healthy()


def test_impossible_geometry_explains_itself(app):
    app.open("forward?h=2&w=2&kh=5", chart=False)
    errors = app.alerts("Error")
    assert any("kernel_size" in e for e in errors), errors
    assert app.page.locator(".js-plotly-plot").count() == 0
    # The page stopped early, yet the controls are there with the user's values, ready to be fixed.
    app.expect_setting("H (height)", "2")
    app.expect_setting("KH (kernel)", "5")
    app.assert_healthy()


def test_a_change_sends_the_chart_before_the_sidebar(app):
    """app.py draws the page before the sidebar, so after a change the browser gets (and can draw) the new chart
    before the sidebar's controls: the websocket messages of one rerun, decoded, in the order they arrived."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    frames: list[bytes] = []
    app.page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
    app.open("forward")
    box = app.control("H (height)")
    box.focus()
    frames.clear()
    box.press("ArrowRight")  # 6 -> 7: one change, one rerun
    app.wait_for_app()
    order = []
    for raw in frames:
        msg = ForwardMsg()
        msg.ParseFromString(raw if isinstance(raw, bytes) else raw.encode())
        if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            order.append((msg.metadata.delta_path[0], msg.delta.new_element.WhichOneof("type")))
    sidebar = 1  # delta_path[0]: the root container (0 is the main area)
    kinds = [k for _, k in order]
    assert "plotly_chart" in kinds and (sidebar, "slider") in order, order
    assert kinds.index("plotly_chart") < order.index((sidebar, "slider")), order
    expect(box).to_have_value("7")
    app.assert_healthy()


def test_im2col_tabs_load_their_part_when_opened(app):
    """The im2col page shows one part at a time: opening a tab reruns the page and draws that part's figure."""
    app.open("im2col?h=7")
    tabs = app.page.locator('[data-testid="stMain"] [role="tab"]')
    expect(tabs).to_have_count(3)
    assert app.page.locator(".js-plotly-plot").count() == 1
    assert "i0" in app.chart_title() or "kernel rows" in app.chart_title(), app.chart_title()
    tabs.nth(2).click()
    app.wait_for_app()
    expect(app.page.locator(".js-plotly-plot")).to_have_count(1)
    # the product's figure: its output cells are the clickable ones (the index arrays' figure has none)
    app.page.wait_for_function("() => JSON.parse(document.querySelector('.js-plotly-plot').layout.meta).click_trace !== null",
                               timeout=10_000)
    assert app.chart_title().startswith("Step 1/"), app.chart_title()
    app.set_setting("H (height)", 8)  # a settings change keeps the open tab
    app.wait_for_app()
    expect(tabs.nth(2)).to_have_attribute("aria-selected", "true")
    expect(app.page.locator('[data-testid="stMain"]')).to_contain_text("(1, 1, 8, 6)")
    app.assert_healthy()


# Installed before the page's scripts: every chart is watched from the moment plotly.js takes its div, and each draw's
# end (plotly_afterplot) is logged with whether plotly.js computed the figure anew (a new calcdata object) and how many
# DOM changes it made in the chart since the previous draw (a redraw of the same figure makes thousands).
DRAW_LOG_INIT = """(() => {
  window.__draws = [];
  const watch = gd => {
    if (gd.__watched || typeof gd.on !== 'function') return;
    gd.__watched = true;
    let changes = 0;
    new MutationObserver(list => { changes += list.length; }).observe(gd, {subtree: true, childList: true, attributes: true});
    gd.on('plotly_afterplot', () => {
      window.__draws.push({calc: gd.calcdata === gd.__calc ? 'same' : 'new', changes});
      gd.__calc = gd.calcdata;
      changes = 0;
    });
  };
  new MutationObserver(() => document.querySelectorAll('.js-plotly-plot').forEach(watch))
    .observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['class']});
})();"""


@pytest.mark.parametrize("url_path", ["forward", "shapes"])
def test_a_change_draws_the_chart_once(app, url_path):
    """Streamlit mounts the new chart and hands it to plotly.js again when the run finishes; the figure spec makes that
    second pass a no-op (no new calcdata, no DOM change), so a change of settings costs one draw, not two."""
    app.page.add_init_script(DRAW_LOG_INIT)
    app.open(url_path)
    box = app.control("H (height)")
    for value in ("7", "8"):
        app.page.evaluate("window.__draws = []")
        box.press("ArrowRight")  # 6 -> 7 -> 8: one change each
        expect(box).to_have_value(value)
        app.wait_for_app()
        app.page.wait_for_timeout(300)
        draws = app.page.evaluate("window.__draws")
        assert draws and draws[0]["calc"] == "new" and draws[0]["changes"] > 100, draws  # the new figure, drawn
        assert all(d == {"calc": "same", "changes": 0} for d in draws[1:]), draws  # ...once
    app.assert_healthy()


def test_tables_show_formulas_literally(app):
    """st.table renders Markdown: the strided page's 'SH*sH = 1*48 = 48' must not turn into italics."""
    app.open("strided")
    table = app.page.locator('[data-testid="stMain"] [data-testid="stTable"]')
    expect(table).to_contain_text("SH*sH = 1*48 = 48")
    expect(table).to_contain_text("DW*sW = 1*8 = 8")
    assert table.locator("em, strong").count() == 0
    app.assert_healthy()


# ------------------------------------------------------------------------------------------------- 8. screenshots


@pytest.mark.parametrize("url_path", URL_PATHS)
def test_screenshots(new_app, url_path):
    """Full-page screenshots at 1400 px wide: default settings, and an edge case (even kernel height, strides
    2x3, custom asymmetric padding, two input channels). Both tabs load at once."""
    edge = EDGE if not refuses(url_path, EDGE) else EDGE_SYMMETRIC  # a transposed layer pads symmetrically
    shots = [(new_app(), "", "", "(1, 1, 6, 6)"), (new_app(), "-edge", edge, "(1, 2, 7, 8)")]
    for app, _, query, _ in shots:
        app.goto(f"{url_path}?{query}")
    for app, suffix, _, shape in shots:
        app.wait_for_app(just_triggered=False)
        app.assert_healthy()
        own = "x (2, 8, 32, 32)" if url_path == "methods" else shape  # Methods: its own layer, not the sidebar's
        assert own in " ".join(app.texts('[data-testid="stCaptionContainer"]'))
        path = SCREENSHOTS / f"{url_path}{suffix}.png"
        app.full_screenshot(path)
        assert path.stat().st_size > 10_000
