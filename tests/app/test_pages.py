"""Every page under AppTest: no exception, and the figures' arrays (decoded) equal the engine's.

Expected values are computed here independently, from the engine's public API and the same data presets,
never read back from the page.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import convviz as cv
from convviz.data import make_bias, make_dout, make_input, make_kernel
from convviz.ui.settings import Settings, parse_query
from convviz.ui.shell import PAGES
from tests.figures.test_trace_figure import decode

APP = str(Path(__file__).resolve().parents[2] / "app.py")

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


def run(page: str, query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(query)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def panel(fig: dict, name: str) -> list[np.ndarray]:
    """The decoded heatmap grids of one panel (one per channel), found by the panel name in the hover text."""
    return [decode(t["z"]) for t in fig["data"]
            if t["type"] == "heatmap" and t.get("hovertemplate", "").endswith(f"<extra>{name}</extra>")]


def engine_data(query: dict):
    settings, notes = parse_query(query)
    assert not notes
    spec = settings.spec()
    return settings, spec, (make_input(spec, settings.data, settings.seed),
                            make_kernel(spec, settings.kernel, settings.seed), make_bias(spec, settings.kernel, settings.seed),
                            make_dout(spec.output_shape, settings.seed))


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_forward_page_shows_the_engines_output(case):
    query = EDGE_CASES[case]
    settings, spec, (x, w, b, dout) = engine_data(query)
    (fig,) = figures(run("pages/forward.py", query))
    y = cv.conv2d(x, w, b, spec.stride, spec.padding, spec.dilation, method="loops")
    np.testing.assert_allclose(panel(fig, "y")[0], y[0, 0])
    xpad = np.pad(x[0], ((0, 0), (spec.top, spec.bottom), (spec.left, spec.right)))
    for c, grid in enumerate(panel(fig, "xpad")):
        np.testing.assert_array_equal(grid, xpad[c])
    assert len(panel(fig, "xpad")) == spec.c  # every channel shown


@pytest.mark.parametrize("case", ["defaults", "stride does not divide", "everything at once"])
def test_im2col_page_shows_unfold_and_the_product(case):
    query = EDGE_CASES[case]
    settings, spec, (x, w, b, dout) = engine_data(query)
    idx_fig, gather_fig, product_fig = figures(run("pages/im2col.py", query))
    sym = spec.top == spec.bottom and spec.left == spec.right
    cols = cv.im2col(x, spec.kernel_size, spec.stride, (spec.top, spec.left), spec.dilation) if sym else None
    if cols is not None:
        np.testing.assert_array_equal(panel(gather_fig, "cols")[0], cols[0])
    idx = cv.im2col_indices(spec)
    np.testing.assert_array_equal(panel(idx_fig, "i")[0], idx.i)
    np.testing.assert_array_equal(panel(idx_fig, "j")[0], idx.j)
    y = cv.conv2d(x, w, b, spec.stride, spec.padding, spec.dilation)
    assert len(panel(product_fig, "y")) == spec.f
    for f, grid in enumerate(panel(product_fig, "y")):
        np.testing.assert_allclose(grid, y[0, f])


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_backward_pages_show_the_engines_gradients(case):
    query = EDGE_CASES[case]
    settings, spec, (x, w, b, dout) = engine_data(query)
    dx, dw, db = cv.conv2d_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, method="loops")
    (tr,) = figures(run("pages/input_gradient.py", query))
    np.testing.assert_allclose(panel(tr, "dx")[0], dx[0, 0], atol=1e-12)
    (c2i,) = figures(run("pages/col2im.py", query))
    assert len(panel(c2i, "dx")) == spec.c
    for c, grid in enumerate(panel(c2i, "dx")):
        np.testing.assert_allclose(grid, dx[0, c], atol=1e-12)
    (wg,) = figures(run("pages/weight_gradient.py", query))
    assert len(panel(wg, "dw")) == spec.c
    for c, grid in enumerate(panel(wg, "dw")):
        np.testing.assert_allclose(grid, dw[0, c], atol=1e-12)
    np.testing.assert_allclose(panel(wg, "db")[0][0], db, atol=1e-12)


@pytest.mark.parametrize("case", ["defaults", "channels and batch", "dilation"])
def test_maxpool_page_shows_pooling(case):
    query = {**EDGE_CASES[case], "data": "random"}
    settings, spec, (x, w, b, dout) = engine_data(query)
    (fig,) = figures(run("pages/maxpool.py", query))
    y = cv.max_pool2d(x, spec.kernel_size, spec.stride, (min(spec.top, spec.kh // 2), min(spec.left, spec.kw // 2)),
                      spec.dilation)
    np.testing.assert_array_equal(panel(fig, "y")[0], y[0, 0])


def test_shapes_page_counts_windows_and_flags_the_remainder():
    at = run("pages/shapes.py", EDGE_CASES["stride does not divide"])
    (fig,) = figures(at)
    cover = panel(fig, "coverage")[0]
    np.testing.assert_array_equal(cover, cv.ConvSpec.create(8, 6, 3, (2, 1)).coverage())
    assert (cover[7] == 0).all()
    assert any("OH = floor((8 + 0 + 0 - 3) / 2) + 1 = 3" in c.value for c in at.caption)


@pytest.mark.parametrize("case", ["defaults", "everything at once"])
def test_strided_page_offsets_are_byte_addresses(case):
    query = EDGE_CASES[case]
    settings, spec, (x, w, b, dout) = engine_data(query)
    (fig,) = figures(run("pages/strided.py", query))
    offsets = panel(fig, "offsets")
    assert len(offsets) == spec.c
    for c, grid in enumerate(offsets):
        hp, wp = spec.hp, spec.wp
        expected = (c * hp * wp + np.arange(hp)[:, None] * wp + np.arange(wp)[None, :]) * 8
        np.testing.assert_array_equal(grid, expected)


def test_gradcheck_page_passes_every_method():
    at = run("pages/gradcheck.py", EDGE_CASES["everything at once"])
    assert len(at.success) == 3 and not at.error
    table = at.table[0].value
    assert list(table["verdict"]) == ["passes"] * 3


@pytest.mark.parametrize("page", [p.path for p in PAGES])
def test_every_page_renders_with_live_checks(page):
    at = run(page, EDGE_CASES["everything at once"])
    assert at.get("plotly_chart"), "no figure"
    assert not at.error, [e.value for e in at.error]
    if page not in ("pages/shapes.py",):
        assert at.success, "no live check line"


def test_impossible_geometry_explains_and_does_not_raise():
    at = run("pages/forward.py", {"h": "2", "w": "2", "kh": "5"})
    assert any("kernel_size (height)" in e.value for e in at.error)
    assert not at.get("plotly_chart")


def test_hostile_url_falls_back_with_notes():
    at = run("pages/forward.py", {"h": "inf", "sh": "-1", "data": "<script>alert(1)</script>", "kh": "2.5"})
    notes = " ".join(w.value for w in at.warning)
    for key in ("h", "sh", "data", "kh"):
        assert f"{key}\\:" in notes or f"{key}:" in notes
    assert at.number_input(key="cv_h").value == Settings().h


def test_settings_survive_page_switches_and_the_url_mirrors_them():
    at = run("pages/forward.py", {"h": "9", "kh": "2"})
    at.switch_page("pages/col2im.py").run()
    assert not at.exception
    assert at.number_input(key="cv_h").value == 9 and at.number_input(key="cv_kh").value == 2
    assert at.query_params.get("h") in ("9", ["9"]) and at.query_params.get("kh") in ("2", ["2"])
    assert "w" not in at.query_params  # defaults are left out of the URL


def test_changing_a_control_redraws_with_new_numbers():
    at = run("pages/forward.py", {})
    at.number_input(key="cv_h").set_value(8).run()
    assert not at.exception
    (fig,) = figures(at)
    assert panel(fig, "y")[0].shape == (6, 4)


def test_clicking_next_in_presenter_mode_moves_the_step():
    at = run("pages/forward.py", {"present": "1"})
    at.button(key="cv_next_forward").click().run()
    assert at.select_slider(key="cv_slider_forward").value == 1
    assert any(m.value.startswith("**Output cell (0, 1)**") for m in at.markdown)
