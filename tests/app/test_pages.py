"""Every page under AppTest: no exception, and the figures' arrays (decoded) equal the engine's.

Expected values are computed here independently, from the engine's public API and the same data presets and
settings, never read back from the page or its traces.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import convviz as cv
from convviz.data import make_bias, make_dout, make_input, make_kernel
from convviz.figures.encoding import meta_of
from convviz.stages import PAGES, stages_of
from convviz.ui.settings import LARGEST_QUERY, Settings, parse_query
from tests.figure_support import blank_bands, crowded_numbers, decode, title_overlaps
from tests.figure_support import panel_grids as panel  # one grid per channel, split by the channel each hover names
from tests.figure_support import panel_grids_at as panel_at

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE_PATHS = [p.path for p in PAGES]

EDGE_CASES = {
    "defaults": {},
    "stride does not divide": {"h": "8", "kh": "3", "sh": "2"},
    "even non-square kernel": {"kh": "2", "kw": "4", "w": "7"},
    "asymmetric custom padding": {"pad": "custom", "pt": "1", "pb": "0", "pl": "2", "pr": "1"},
    "same with stride 2": {"pad": "same", "sh": "2", "sw": "2", "h": "7"},
    "dilation": {"dh": "2", "dw": "2", "h": "7", "w": "7"},
    "channels and batch": {"cin": "2", "cout": "3", "n": "2", "data": "random"},
    "everything at once": {"h": "9", "w": "7", "kh": "2", "kw": "3", "sh": "2", "sw": "3", "dh": "2", "pad": "same",
                           "cin": "2", "cout": "2", "n": "2", "kernel": "sobel", "data": "image"},
}
CASES = list(EDGE_CASES)

# ------------------------------------------------------------------------------------------------- helpers

def run(page: str, query: dict, **widgets) -> AppTest:
    """Open `page` through app.py with URL `query`; then set selectboxes by key (e.g. fwd_f=2) and rerun."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(query)  # before the first run, as a shared link would
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for key, value in widgets.items():
        at.selectbox(key=key).set_value(value)
    if widgets:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


IM2COL_PARTS = ("1. Generating the index arrays", "2. Gathering the columns", "3. One matrix product")


def open_im2col_part(at: AppTest, part: int) -> AppTest:
    """Open tab `part` of the im2col page (lazy tabs: only the open tab's content is built) and rerun."""
    assert [t.label for t in at.tabs] == list(IM2COL_PARTS)
    at.session_state["cv_im2col_part"] = IM2COL_PARTS[part]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def im2col_figures(at: AppTest) -> list[dict]:
    """The im2col page's three figures (index arrays, gather, product), one tab at a time; each tab sends only its
    own figure."""
    out = []
    for part in range(3):
        (fig,) = figures(open_im2col_part(at, part))
        out.append(fig)
    return out


def one(fig: dict, name: str) -> np.ndarray:
    (grid,) = panel(fig, name)
    return grid


def engine_data(query: dict):
    """Settings, spec and (x, w, b, dout) built independently of the page, from the public presets."""
    settings, notes = parse_query(query)
    assert not notes
    spec = settings.spec()
    return settings, spec, (make_input(spec, settings.data, settings.seed),
                            make_kernel(spec, settings.kernel, settings.seed), make_bias(spec, settings.kernel, settings.seed),
                            make_dout(spec.output_shape, settings.seed))


def pad_input(x: np.ndarray, spec) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (spec.top, spec.bottom), (spec.left, spec.right)))


def layer_error(page: str, query: dict) -> str | None:
    """The engine's message when the settings make no layer of the page's kind (its catalog stage's layer), else None."""
    own = stages_of(Path(page).stem)
    if not own:
        return None
    try:
        own[0].layer(parse_query(query)[0])
    except ValueError as err:
        return str(err)
    return None


def assert_healthy(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.get("plotly_chart"), "no figure"


# --------------------------------------------------------------------------------------------- every page


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("page", PAGE_PATHS)
def test_every_page_renders_every_edge_case_with_passing_live_checks(page, case):
    at = run(page, EDGE_CASES[case])
    refused = layer_error(page, EDGE_CASES[case])
    if refused:  # a layer PyTorch has no equivalent of (e.g. a transposed convolution padded asymmetrically)
        assert any(refused[:40] in e.value for e in at.error), [e.value for e in at.error]
        assert not at.get("plotly_chart")
        return
    assert_healthy(at)
    drawn = {meta_of(f)["stage"] for f in figures(at) if "stage" in meta_of(f)}
    own = [s.name for s in stages_of(Path(page).stem)]
    assert (drawn == {own[0]}) if own else not drawn, (page, drawn, own)  # its first stage, from the catalog
    if page == "pages/im2col.py":  # its live check sits under the product, in the last tab
        assert_healthy(open_im2col_part(at, 2))
    if page != "pages/shapes.py":
        assert at.success, "no live check line"
    assert at.title and at.caption, "title and the geometry line"
    assert_laid_out(at)


def assert_laid_out(at: AppTest) -> None:
    """Every step figure on the page: no blank band under a row, no title running over the next one, no printed
    number wider than its cell."""
    steps = [f for f in figures(at) if "stage" in meta_of(f)]
    for fig in steps:
        assert not blank_bands(fig), meta_of(fig)["stage"]
        assert not title_overlaps(fig), (meta_of(fig)["stage"], title_overlaps(fig))
        assert not crowded_numbers(fig), (meta_of(fig)["stage"], crowded_numbers(fig))


@pytest.mark.parametrize("page", [p.path for p in PAGES if stages_of(p.url_path)])
def test_every_page_at_the_largest_settings_is_laid_out_without_blank_bands_or_overlapping_titles(page):
    """At the largest settings the widest figure rows need cells of ~3 px: the layout's cell size had a 4 px floor, and
    rows sized (and titles wrapped) for it were drawn smaller, leaving ~180 px of blank under col2im's first row and
    titles over the next channel's tag on Gradient check."""
    query = LARGEST_QUERY if not layer_error(page, LARGEST_QUERY) else {**LARGEST_QUERY, "pad": "valid"}
    at = run(page, query)
    assert_healthy(at)
    assert_laid_out(at)


# ------------------------------------------------------------------------------------------ figure values


@pytest.mark.parametrize("case", CASES)
def test_forward_page_shows_the_engines_output(case):
    query = EDGE_CASES[case]
    settings, spec, (x, w, b, dout) = engine_data(query)
    (fig,) = figures(run("pages/forward.py", query))
    y = cv.conv2d(x, w, b, spec.stride, spec.padding, spec.dilation, method="loops")
    np.testing.assert_allclose(one(fig, "y"), y[0, 0])
    xpad = pad_input(x, spec)
    assert len(panel(fig, "xpad")) == spec.c  # every channel shown
    for c, grid in enumerate(panel(fig, "xpad")):
        np.testing.assert_array_equal(grid, xpad[0, c])
    for c, grid in enumerate(panel(fig, "w")):
        np.testing.assert_array_equal(grid, w[0, c])


def test_forward_page_follows_the_sample_and_channel_selectors():
    query = EDGE_CASES["channels and batch"]
    settings, spec, (x, w, b, dout) = engine_data(query)
    (fig,) = figures(run("pages/forward.py", query, fwd_n=1, fwd_f=2))
    y = cv.conv2d(x, w, b, spec.stride, spec.padding, spec.dilation, method="loops")
    np.testing.assert_allclose(one(fig, "y"), y[1, 2])
    for c, grid in enumerate(panel(fig, "w")):
        np.testing.assert_array_equal(grid, w[2, c])


@pytest.mark.parametrize("case", CASES)
def test_im2col_page_shows_unfold_and_the_product(case):
    query = EDGE_CASES[case]
    settings, spec, (x, w, b, dout) = engine_data(query)
    idx_fig, gather_fig, product_fig = im2col_figures(run("pages/im2col.py", query))
    # Asymmetric padding: pad first, then unfold with none (convviz.im2col takes symmetric padding, like F.unfold).
    cols = cv.im2col(pad_input(x, spec), spec.kernel_size, spec.stride, 0, spec.dilation)  # (N, C*KH*KW, L)
    np.testing.assert_array_equal(one(gather_fig, "cols"), cols[0])
    np.testing.assert_array_equal(one(product_fig, "cols"), cols[0])
    np.testing.assert_array_equal(one(product_fig, "W"), w.reshape(spec.f, -1))
    idx = cv.im2col_indices(spec)
    np.testing.assert_array_equal(one(idx_fig, "i"), idx.i)
    np.testing.assert_array_equal(one(idx_fig, "j"), idx.j)
    np.testing.assert_array_equal(one(idx_fig, "k").ravel(), np.repeat(np.arange(spec.c), spec.kh * spec.kw))
    y = cv.conv2d(x, w, b, spec.stride, spec.padding, spec.dilation, method="loops")
    assert len(panel(product_fig, "y")) == spec.f
    for f, grid in enumerate(panel(product_fig, "y")):
        np.testing.assert_allclose(grid, y[0, f])


def test_im2col_tabs_build_only_the_open_parts_figure():
    """A settings change redraws one chart, not three: only the open tab's trace is drawn and sent."""
    at = run("pages/im2col.py", {"h": "7"})
    stages = []
    for part in range(3):
        if part:
            open_im2col_part(at, part)
        (fig,) = figures(at)  # one chart per run
        stages.append(meta_of(fig)["stage"])
        open_tabs = [t.label for t in at.tabs if len(t.children)]
        assert open_tabs == [IM2COL_PARTS[part]], open_tabs  # the other tabs are empty
    assert stages == ["im2col_indices", "im2col_gather", "im2col_product"]
    at.slider(key="cv_h").set_value(8).run()  # the open tab stays open across a settings change
    (fig,) = figures(at)
    assert meta_of(fig)["stage"] == "im2col_product" and at.session_state["cv_im2col_part"] == IM2COL_PARTS[2]


@pytest.mark.parametrize("case", CASES)
def test_input_gradient_page_shows_the_engines_dx(case):
    query = EDGE_CASES[case]
    settings, spec, (x, w, b, dout) = engine_data(query)
    dx, dw, db = cv.conv2d_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, method="loops")
    (fig,) = figures(run("pages/input_gradient.py", query))
    np.testing.assert_allclose(one(fig, "dx"), dx[0, 0], atol=1e-12)
    for f, grid in enumerate(panel(fig, "wflip")):  # kernel rotated 180 degrees
        np.testing.assert_array_equal(grid, w[f, 0, ::-1, ::-1])


def test_input_gradient_page_follows_the_selectors():
    query = EDGE_CASES["channels and batch"]
    settings, spec, (x, w, b, dout) = engine_data(query)
    dx, _, _ = cv.conv2d_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, method="loops")
    (fig,) = figures(run("pages/input_gradient.py", query, tr_n=1, tr_c=1))
    np.testing.assert_allclose(one(fig, "dx"), dx[1, 1], atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_col2im_page_shows_the_engines_dx(case):
    query = EDGE_CASES[case]
    settings, spec, (x, w, b, dout) = engine_data(query)
    dx, _, _ = cv.conv2d_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, method="loops")
    (fig,) = figures(run("pages/col2im.py", query))
    assert len(panel(fig, "dx")) == spec.c
    for c, grid in enumerate(panel(fig, "dx")):
        np.testing.assert_allclose(grid, dx[0, c], atol=1e-12)
    dout_cols = dout[0].reshape(spec.f, -1)  # (F, OH*OW)
    np.testing.assert_allclose(one(fig, "dcols"), w.reshape(spec.f, -1).T @ dout_cols, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_weight_gradient_page_shows_the_engines_dw_and_db(case):
    query = EDGE_CASES[case]
    settings, spec, (x, w, b, dout) = engine_data(query)
    _, dw, db = cv.conv2d_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, method="loops")
    (fig,) = figures(run("pages/weight_gradient.py", query))
    assert len(panel(fig, "dw")) == spec.c
    for c, grid in enumerate(panel(fig, "dw")):
        np.testing.assert_allclose(grid, dw[0, c], atol=1e-12)
    np.testing.assert_allclose(one(fig, "db")[0], db, atol=1e-12)


def test_weight_gradient_page_follows_the_channel_selector():
    query = EDGE_CASES["channels and batch"]
    settings, spec, (x, w, b, dout) = engine_data(query)
    _, dw, _ = cv.conv2d_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, method="loops")
    (fig,) = figures(run("pages/weight_gradient.py", query, wg_f=2))
    for c, grid in enumerate(panel(fig, "dw")):
        np.testing.assert_allclose(grid, dw[2, c], atol=1e-12)


def pool_geometry(spec):
    """The max-pool page's geometry: the sidebar's window, stride and dilation; padding at most half the window."""
    return spec.kernel_size, spec.stride, (min(spec.top, spec.kh // 2), min(spec.left, spec.kw // 2)), spec.dilation


@pytest.mark.parametrize("case", CASES)
def test_maxpool_page_shows_pooling_forward_and_routed_backward(case):
    query = {**EDGE_CASES[case], "data": "random"}
    settings, spec, (x, w, b, dout) = engine_data(query)
    k, s, p, d = pool_geometry(spec)
    y = cv.max_pool2d(x, k, s, p, d)
    pool_dout = make_dout(y.shape, 7)  # the page's upstream gradient for pooling
    dx = cv.max_pool2d_backward(pool_dout, x, k, s, p, d)
    at = run("pages/maxpool.py", query)
    (fig,) = figures(at)
    np.testing.assert_array_equal(one(fig, "y"), y[0, 0])
    np.testing.assert_array_equal(one(fig, "dout"), pool_dout[0, 0])
    # The routed gradient accumulates step by step: on the last step it is the engine's dx (padded frame).
    (routed,) = panel_at(fig, "dx", json.loads(fig["layout"]["meta"])["steps"] - 1)
    ph, pw = p
    np.testing.assert_allclose(routed[ph:ph + spec.h, pw:pw + spec.w], dx[0, 0], atol=1e-12)
    assert routed.sum() == pytest.approx(pool_dout[0, 0].sum())


@pytest.mark.parametrize("query", [
    {"h": "6", "w": "6", "kh": "4", "kw": "4", "pad": "full", "data": "ones"},  # full = 3 a side, capped at 2
    {"h": "7", "w": "8", "kh": "3", "kw": "2", "sh": "2", "pad": "same", "n": "2", "cin": "2"},
    {"pad": "custom", "pt": "1", "pb": "0", "pl": "1", "pr": "1"},  # pooling pads the bottom like the top
])
def test_maxpool_geometry_line_describes_the_pooling_it_draws(query):
    """The size line on Max pooling is the pooling layer's (C channels kept, a window and no weights, padding capped
    at half the window), as drawn; it was the sidebar's convolution's (9 x 9 output over a 7 x 7 figure)."""
    _, spec, (x, *_rest) = engine_data(query)
    k, s, p, d = pool_geometry(spec)
    y = cv.max_pool2d(x, k, s, p, d)
    at = run("pages/maxpool.py", query)
    (fig,) = figures(at)
    assert one(fig, "y").shape == y.shape[2:]
    line = next(c.value for c in at.caption if "OH = floor" in c.value)
    pads = (p[0], p[0], p[1], p[1])
    assert f"x {x.shape} · window {k}" in line and f"padding (t, b, l, r) {pads} → y {y.shape}" in line, line
    oh = (spec.h + 2 * p[0] - (d[0] * (k[0] - 1) + 1)) // s[0] + 1
    assert f"OH = floor(({spec.h} + {p[0]} + {p[0]} - {d[0] * (k[0] - 1) + 1}) / {s[0]}) + 1 = {oh}" in line
    assert oh == y.shape[2] and " w (" not in line
    if pads != spec.padding:
        assert any(f"padding {spec.padding} becomes {pads}" in c.value for c in at.caption)


def test_panels_drawn_without_numbers_say_so():
    """A panel whose cells are too small for their numbers gets none, and the page says which and that hovering
    shows them; im2col at 10 x 10 drew all seven index arrays bare with no word (its figure-wide flag only covers the
    cell-count cap)."""
    at = run("pages/im2col.py", {"h": "10", "w": "10"})
    fig = figures(at)[0]
    bare = [t for t in fig["data"] if t["type"] == "heatmap" and "texttemplate" not in t]
    assert bare
    note = [c.value for c in at.caption if "No numbers in the cells" in c.value]
    assert len(note) == 1 and "Hover a cell" in note[0]
    at = run("pages/forward.py", {})
    assert all("texttemplate" in t for t in figures(at)[0]["data"] if t["type"] == "heatmap")
    assert not [c.value for c in at.caption if "No numbers in the cells" in c.value]


def test_maxpool_ties_route_to_the_first_maximum():
    query = {"data": "ones", "sh": "2", "sw": "2", "kh": "2", "kw": "2"}
    (fig,) = figures(run("pages/maxpool.py", query))
    (routed,) = panel_at(fig, "dx", json.loads(fig["layout"]["meta"])["steps"] - 1)
    spec = Settings(kh=2, kw=2, sh=2, sw=2).spec()
    expected = np.zeros((6, 6))
    expected[::2, ::2] = make_dout((1, 1, 3, 3), 7)[0, 0]  # every window's top-left cell wins the tie
    assert spec.output_shape[-2:] == (3, 3)
    np.testing.assert_array_equal(routed, expected)


@pytest.mark.parametrize("case", CASES)
def test_shapes_page_counts_the_windows_reading_each_cell(case):
    query = EDGE_CASES[case]
    settings, spec, _ = engine_data(query)
    at = run("pages/shapes.py", query)
    cover = one(figures(at)[0], "coverage")
    # Independently: add one per window tap over the padded input.
    expected = np.zeros((spec.hp, spec.wp))
    for i in range(spec.oh):
        for j in range(spec.ow):
            for u in range(spec.kh):
                for v in range(spec.kw):
                    expected[i * spec.sh + u * spec.dh, j * spec.sw + v * spec.dw] += 1
    np.testing.assert_array_equal(cover, expected)
    oh = (spec.h + spec.top + spec.bottom - (spec.dh * (spec.kh - 1) + 1)) // spec.sh + 1
    assert oh == spec.oh
    assert any(f"= {oh}" in c.value for c in at.caption)


def test_shapes_page_flags_the_rows_no_window_reads():
    at = run("pages/shapes.py", EDGE_CASES["stride does not divide"])
    cover = one(figures(at)[0], "coverage")
    assert (cover[7] == 0).all() and (cover[:7].sum(axis=1) > 0).all()  # (8 - 3) mod 2 = 1 row uncovered
    assert any("OH = floor((8 + 0 + 0 - 3) / 2) + 1 = 3" in c.value for c in at.caption)
    assert any("uncovered: 1 row(s)" in c.value for c in at.caption)


@pytest.mark.parametrize("query, rows, cols", [
    ({"h": "6", "w": "6", "kh": "1", "kw": "1", "sh": "2", "sw": "2"}, [1, 3], [1, 3]),  # 1 x 1 at stride 2
    ({"h": "7", "w": "8", "kh": "2", "kw": "3", "sh": "2", "sw": "3", "dh": "2", "pad": "same"}, [0, 2, 4, 6], []),
    ({"h": "8", "w": "9", "kh": "3", "kw": "2", "sh": "3", "sw": "2", "dw": "2", "pad": "full"}, [], [1, 3, 5, 7]),
])
def test_rows_no_tap_reads_are_named_on_every_page_and_flagged_on_shapes(query, rows, cols):
    """x's rows and columns that the stride steps past before the remainder get no gradient either: the caption names
    them (numbered from 0, as the figures label x's rows) instead of 'every row and column is covered'; padding rows
    and columns, which have no gradient to get, are not listed (the third case skips padding columns -1 and 9 too)."""
    settings, spec, _ = engine_data(query)
    taps_h = {i * spec.sh + u * spec.dh - spec.top for i in range(spec.oh) for u in range(spec.kh)}
    taps_w = {j * spec.sw + v * spec.dw - spec.left for j in range(spec.ow) for v in range(spec.kw)}
    rem_h0, rem_w0 = spec.hp - spec.rem_h - spec.top, spec.wp - spec.rem_w - spec.left  # x's first remainder row/col
    assert [r for r in range(min(spec.h, rem_h0)) if r not in taps_h] == rows  # the cases are what they say
    assert [c for c in range(min(spec.w, rem_w0)) if c not in taps_w] == cols
    expected = "no tap lands on x's " + "; ".join(
        [f"rows {', '.join(map(str, rows))}"] * bool(rows) + [f"columns {', '.join(map(str, cols))}"] * bool(cols))
    for page in ("pages/shapes.py", "pages/input_gradient.py"):
        at = run(page, query)
        line = next(c.value for c in at.caption if "OH = floor" in c.value)
        assert expected in line and "every row and column is covered" not in line, line
    at = run("pages/shapes.py", query)
    cover = one(figures(at)[0], "coverage")
    for r in rows:
        assert (cover[r + spec.top] == 0).all()
    current = at.table[0].value.iloc[-1]
    never = (sum(r not in taps_h for r in range(spec.h)), sum(c not in taps_w for c in range(spec.w)))
    assert current["x's rows, cols never read"] == f"{never[0]}, {never[1]}"


@pytest.mark.parametrize("case", CASES)
def test_strided_page_offsets_are_byte_addresses(case):
    query = EDGE_CASES[case]
    settings, spec, (x, w, b, dout) = engine_data(query)
    (fig,) = figures(run("pages/strided.py", query))
    offsets = panel(fig, "offsets")
    assert len(offsets) == spec.c
    hp, wp = spec.hp, spec.wp
    for c, grid in enumerate(offsets):
        expected = (c * hp * wp + np.arange(hp)[:, None] * wp + np.arange(wp)[None, :]) * 8  # float64, C order
        np.testing.assert_array_equal(grid, expected)
    xpad = pad_input(x, spec)
    for c, grid in enumerate(panel(fig, "xpad")):
        np.testing.assert_array_equal(grid, xpad[0, c])


@pytest.mark.parametrize("case", ["defaults", "asymmetric custom padding", "everything at once"])
def test_gradcheck_page_passes_every_gradient(case):
    query = EDGE_CASES[case]
    settings, spec, (x, w, b, dout) = engine_data(query)
    at = run("pages/gradcheck.py", query)
    assert not at.error, [e.value for e in at.error]
    checks = [s.value for s in at.success]
    for name in ("dx", "dw", "db"):
        assert any(c.startswith(f"✓ {name} against central differences") for c in checks), checks
    assert list(at.table[0].value["verdict"]) == ["passes"] * 3
    dx, dw, db = cv.conv2d_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, method="loops")
    (fig,) = figures(at)
    for c, grid in enumerate(panel(fig, "dx_a")):
        np.testing.assert_allclose(grid, dx[0, c], atol=1e-12)
    for c, grid in enumerate(panel(fig, "dw_a")):
        np.testing.assert_allclose(grid, dw[0, c], atol=1e-12)
    # Central differences agree with the analytic gradient. On a slow machine the page's time budget may
    # estimate only a sample of the entries (the rest are NaN): compare those that were estimated.
    for c, grid in enumerate(panel(fig, "dx_n")):
        done = np.isfinite(grid)
        assert done.any()
        np.testing.assert_allclose(grid[done], dx[0, c][done], atol=1e-5)


# ------------------------------------------------------------------------------------ URL and navigation


def test_impossible_geometry_explains_and_does_not_raise():
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"h": "2", "w": "2", "kh": "5"})
    at.switch_page("pages/forward.py").run()
    assert not at.exception
    assert any("kernel_size (height)" in e.value for e in at.error), [e.value for e in at.error]
    assert not at.get("plotly_chart")
    assert at.slider(key="cv_h").value == 2  # the user's values are kept, to be fixed in the sidebar


@pytest.mark.parametrize("page", PAGE_PATHS)
def test_impossible_geometry_is_explained_on_every_page(page):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"h": "3", "kh": "3", "dh": "2"})  # effective kernel 5 > 3
    at.switch_page(page).run()
    assert not at.exception
    if not layer_error(page, {"h": "3", "kh": "3", "dh": "2"}) and stages_of(Path(page).stem):
        assert not at.error  # a transposed layer of a 3 x 3 input exists for any kernel: nothing to explain
    elif page == "pages/methods.py":  # its own layer sizes: it says what is wrong with the sidebar's and goes on
        assert not at.error and any("kernel_size" in i.value for i in at.info)
        assert at.number_input(key="cv_methods_h").value > 0
    else:  # the page's own layer's message (a network: the layer that gets too small a map)
        own = stages_of(Path(page).stem)
        network = bool(own) and own[0].kind == "network"
        expected = "Layer 3 (c3) gets a 1x4 map" if network else "kernel_size"
        assert any(expected in e.value for e in at.error), [e.value for e in at.error]
        what = "stack" if network else "layer"  # the network page's settings make a stack of layers
        assert any(e.value.startswith(f"These settings do not make a valid {what}.") for e in at.error)


def test_hostile_url_falls_back_with_notes_and_renders_the_defaults():
    at = run("pages/forward.py", {"h": "inf", "sh": "-1", "data": "<script>alert(1)</script>", "kh": "2.5",
                                  "w": "nan", "seed": "1e3", "utm_source": "x"})
    notes = [w.value for w in at.warning]
    text = " ".join(notes)
    for key in ("h", "sh", "data", "kh", "w", "seed"):
        assert f"{key}\\:" in text or f"{key}:" in text, (key, notes)
    assert "utm_source" not in text
    assert at.slider(key="cv_h").value == Settings().h
    assert at.radio(key="cv_data").value == "ids"
    for element in at.markdown:
        assert "<script" not in element.value.lower() or not element.allow_html
    # The page is the default layer's.
    _, spec, (x, w, b, _) = engine_data({})
    np.testing.assert_allclose(one(figures(at)[0], "y"), cv.conv2d(x, w, b)[0, 0])
    # The dropped values are gone from the URL.
    assert not {"h", "sh", "data", "kh", "w", "seed"} & set(at.query_params)


def test_settings_survive_page_switches_and_the_url_mirrors_them():
    at = run("pages/forward.py", {"h": "9", "kh": "2", "pad": "custom", "pl": "1"})
    for page in ("pages/col2im.py", "pages/shapes.py", "pages/maxpool.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert at.slider(key="cv_h").value == 9 and at.segmented_control(key="cv_kh").value == 2
        assert at.segmented_control(key="cv_pad").value == "custom" and at.segmented_control(key="cv_pl").value == 1
        assert at.query_params.get("h") in ("9", ["9"]) and at.query_params.get("kh") in ("2", ["2"])
        assert at.query_params.get("pl") in ("1", ["1"])
        assert not {"w", "pt", "pb", "pr", "sh"} & set(at.query_params)  # defaults are left out of the URL


def test_changing_a_control_redraws_with_new_numbers_and_updates_the_url():
    at = run("pages/forward.py", {})
    assert "h" not in at.query_params
    at.slider(key="cv_h").set_value(8).run()
    assert not at.exception
    assert one(figures(at)[0], "y").shape == (6, 4)
    assert at.query_params.get("h") in ("8", ["8"])
    next(b for b in at.button if b.label == "Reset to defaults").click().run()
    assert at.slider(key="cv_h").value == 6 and "h" not in at.query_params


def test_custom_kernel_text_is_used_and_a_bad_one_is_explained():
    query = {"kernel": "custom", "kh": "2", "kw": "2", "kv": "1,0;0,-1"}
    spec = Settings(kh=2, kw=2).spec()
    x, b = make_input(spec, "ids", 0), make_bias(spec, "custom", 0)
    at = run("pages/forward.py", query)
    w = np.broadcast_to(np.array([[1.0, 0.0], [0.0, -1.0]]), spec.weight_shape)
    np.testing.assert_allclose(one(figures(at)[0], "y"), cv.conv2d(x, w, b)[0, 0])
    bad = run("pages/forward.py", {**query, "kv": "1,inf;0,1"})
    assert any(e.value.startswith("kernel: inf in row 1, column 2 is not allowed") for e in bad.error), \
        [e.value for e in bad.error]


def test_the_step_the_player_reports_is_the_step_the_page_names():
    """The player tells the server the step on screen once it rests (its state `step`): the PNG export then names that
    step, and a step the figure has a frame for redraws no chart (the figure keeps its first step)."""
    at = run("pages/forward.py", {})
    (before,) = figures(at)
    at.session_state["cv_step_forward"] = 5
    at.run()
    assert not at.exception
    (after,) = figures(at)
    assert after == before  # the player draws step 6 from the figure's frames: nothing new to send
    assert any(b.label.endswith("PNG of step 6") for b in at.get("download_button")), [b.label for b in at.get("download_button")]


def test_presenter_mode_says_which_keys_step_the_figure():
    at = run("pages/forward.py", {"present": "1"})
    assert any("PageDown" in c.value and "Space" in c.value for c in at.caption)
    assert not any("PageDown" in c.value for c in run("pages/forward.py", {}).caption)


@pytest.mark.parametrize("page, clickable", [("forward", True), ("maxpool", True), ("col2im", False),
                                             ("gradcheck", False), ("network", False)])
def test_presenter_mode_offers_a_click_on_a_cell_only_where_the_figure_takes_one(page, clickable):
    at = run(f"pages/{page}.py", {"present": "1"})
    (keys,) = [c.value for c in at.caption if "PageDown" in c.value]
    assert ("click a cell" in keys) == clickable
    assert ("click a cell" in keys) == (stages_of(page)[0].clickable is not None)  # the stage record says so too


def test_the_root_url_opens_the_shapes_page_with_navigation_to_every_page():
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["sh"] = "2"
    at.run()
    assert not at.exception
    assert at.title[0].value == "Shapes & edge cases"
    assert at.segmented_control(key="cv_sh").value == 2
    at.switch_page("pages/gradcheck.py").run()
    assert not at.exception and at.title[0].value.startswith("Gradient check")


LARGEST = LARGEST_QUERY  # convviz/ui/settings.py


def shown_part(fig: dict, name: str) -> tuple[np.ndarray, tuple[slice, slice]]:
    """A windowed panel's decoded grid and the rows and columns of the whole panel it shows (from y0, x0 and its size)."""
    (t,) = [t for t in fig["data"] if t["type"] == "heatmap" and t.get("hovertemplate", "").endswith(f"<extra>{name}</extra>")]
    grid = decode(t["z"])
    r0, c0 = int(t.get("y0", 0)), int(t.get("x0", 0))
    return grid, (slice(r0, r0 + grid.shape[0]), slice(c0, c0 + grid.shape[1]))


def test_largest_settings_show_part_of_the_big_matrices_say_so_and_stay_exact():
    settings, spec, (x, w, b, dout) = engine_data(LARGEST)
    at = run("pages/im2col.py", LARGEST)
    idx_fig, gather_fig, product_fig = figures_ = im2col_figures(at)
    cols = cv.im2col(pad_input(x, spec), spec.kernel_size, spec.stride, 0, spec.dilation)[0]  # (C*KH*KW, L)
    L = spec.oh * spec.ow
    for fig in (gather_fig, product_fig):
        grid, part = shown_part(fig, "cols")
        assert 0 < grid.shape[1] < L and 0 < grid.shape[0] <= cols.shape[0]
        np.testing.assert_array_equal(grid, cols[part])
    grid, part = shown_part(product_fig, "Y")
    np.testing.assert_allclose(grid, (w.reshape(spec.f, -1) @ cols + b[:, None])[part], rtol=1e-12, atol=1e-12)
    idx = cv.im2col_indices(spec)
    for name in ("i", "j"):
        grid, part = shown_part(idx_fig, name)
        np.testing.assert_array_equal(grid, getattr(idx, name)[part])
    notes = [e.value for e in at.info]  # the product tab is open last
    assert any("columns 0–" in n and f"of {L:,}" in n for n in notes), notes  # the cap is explained in the page
    for fig in figures_:
        assert len(json.dumps(fig)) < 2_000_000

    (fig,) = figures(run("pages/col2im.py", LARGEST))
    grid, part = shown_part(fig, "dcols")
    np.testing.assert_allclose(grid, (w.reshape(spec.f, -1).T @ dout[0].reshape(spec.f, -1))[part], atol=1e-12)


def test_cells_of_every_size_are_clickable():
    """Clicks land on the clickable panel's own heatmap, so cells stay clickable at the largest settings (a marker
    grid over them was dropped below 10 px) and no page says otherwise."""
    for query in ({}, LARGEST):
        at = run("pages/forward.py", query)
        assert_healthy(at)
        assert not [c for c in at.caption if "too small to click" in c.value]
        (fig,) = figures(at)
        meta = json.loads(fig["layout"]["meta"])
        assert fig["data"][meta["click_trace"]]["hovertemplate"].endswith("<extra>y</extra>")
        assert not [t for t in fig["data"] if t["type"] == "scatter"]


def test_the_engines_code_is_sent_only_while_its_expander_is_open():
    import inspect

    from convviz.ui.page import CODE_LABEL

    at = run("pages/forward.py", {})
    (box,) = [e for e in at.expander if e.label == CODE_LABEL]
    assert not box.code, "closed: the source is not sent on every rerun"
    at.session_state["cv_code_forward"] = True  # what a click on the expander sets
    at.run()
    assert_healthy(at)
    (box,) = [e for e in at.expander if e.label == CODE_LABEL]
    from convviz.conv import forward_loops  # the function pages/forward.py shows

    assert [c.value.strip() for c in box.code] == [inspect.getsource(forward_loops).strip()]


def test_presenter_mode_puts_the_selectors_labels_inside_them():
    """Presenter mode: 'sample n' and 'output channel f' inside their boxes ('sample n = 1'), not on a line above
    them, so the figure under them starts higher; the values the page reads are the same numbers."""
    normal = run("pages/forward.py", {"n": "2", "cout": "3"}, fwd_n=1)
    present = run("pages/forward.py", {"n": "2", "cout": "3", "present": "1"}, fwd_n=1)
    for at, collapsed in ((normal, False), (present, True)):
        box = at.selectbox(key="fwd_n")
        assert box.value == 1 and (box.proto.label_visibility.value == box.proto.label_visibility.COLLAPSED) == collapsed
    assert present.selectbox(key="fwd_n").options[:2] == ["sample n = 0", "sample n = 1"]
    assert present.selectbox(key="fwd_f").options == [f"output channel f = {i}" for i in range(3)]
    assert normal.selectbox(key="fwd_n").options[:2] == ["0", "1"]
