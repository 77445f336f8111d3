"""The figure shows exactly the trace's numbers and highlights, with one colour scheme everywhere."""
import dataclasses
import json

import numpy as np
import pytest

import convviz as cv
from convviz import traces as T
from convviz.data import make_bias, make_dout, make_input, make_kernel
from convviz.figures import trace_figure
from convviz.figures.encoding import meta_of
from convviz.figures.style import KIND_SCALES, ROLE_COLOURS
from tests.figure_support import (
    blank_bands,
    block_shifts,
    channel_blocks,
    decode,
    outline_shapes,
    outlined_by_channel,
    outlined_points,
    panel_grids,
    panel_heatmaps,
    px_per_cell,
    shape_in_frame,
    title_overlaps,
    value_heatmap_on,
)

heatmaps_of = panel_heatmaps


@pytest.fixture(scope="module")
def case():
    spec = cv.ConvSpec.create(7, 6, (3, 2), (2, 3), (1, 0, 2, 1), (1, 2), n=2, c=2, f=3)
    x, w, b, d = (make_input(spec, "random", 5), make_kernel(spec, "random", 5), make_bias(spec, "random", 5),
                  make_dout(spec.output_shape, 5))
    return spec, x, w, b, d


def test_heatmaps_equal_panel_values_per_channel(case):
    spec, x, w, b, d = case
    tr = T.forward_trace(x, w, b, spec, n=1, f=2)
    fig = json.loads(trace_figure(tr, rows=[["xpad", "w"], ["products", "y"]]).to_json())
    xpad = panel_grids(fig, "xpad")  # one heatmap, its channels side by side
    assert len(xpad) == spec.c  # every channel, none dropped
    for c, grid in enumerate(xpad):
        np.testing.assert_array_equal(grid, np.pad(x[1, c], ((1, 0), (2, 1))))
    (y,) = panel_grids(fig, "y")
    np.testing.assert_array_equal(y, cv.conv2d(x, w, b, (2, 3), (1, 0, 2, 1), (1, 2))[1, 2])


def test_frames_carry_each_steps_highlights_and_values(case):
    spec, x, w, b, d = case
    tr = T.col2im_trace(x, w, d, spec, n=0)
    fig = trace_figure(tr, rows=[["dcols"], ["acc", "count"], ["dx", "wrong"]])
    js = json.loads(fig.to_json())
    kept = meta_of(js)["frame_steps"]
    assert [f["name"] for f in js["frames"]] == [str(t) for t in kept]
    assert len(kept) == len(tr.steps)  # small case: nothing sampled
    (acc,) = [i for i, t in enumerate(js["data"]) if t.get("hovertemplate", "").endswith("<extra>acc</extra>")]
    assert tr.values_at(0, "acc").shape[0] == spec.c == 2
    for frame in js["frames"]:
        t = int(frame["name"])
        by_trace = dict(zip(frame["traces"], frame["data"]))
        blocks = channel_blocks(js["data"][acc], by_trace[acc]["z"])
        assert len(blocks) == spec.c
        for c, block in enumerate(blocks):  # the accumulator after step t, per channel
            np.testing.assert_array_equal(block, tr.values_at(t, "acc")[c])
        assert f"Step {t + 1}/{len(tr.steps)}: {tr.steps[t].title}" in frame["layout"]["title"]["text"]


def _expected_cells(mask: np.ndarray, channels: int) -> set:
    """(channel, row, column) of every cell a highlight marks; a 2-D mask marks the same cells in every channel."""
    return {(k, int(r), int(c)) for k in range(channels) for r, c in zip(*np.nonzero(mask[k] if mask.ndim == 3 else mask))}


def test_outline_points_are_the_highlighted_cells(case):
    spec, x, w, b, d = case
    tr = T.forward_trace(x, w, b, spec)
    js = json.loads(trace_figure(tr, rows=[["xpad", "w"], ["products", "y"]]).to_json())
    reads = outline_shapes(js, "read")
    assert reads and not any(t["type"] == "scatter" for t in js["data"])  # outlines are shapes, not traces
    checked = 0
    for k in reads:
        hm = value_heatmap_on(js, js["layout"]["shapes"][k]["xref"])
        panel = tr.panel(hm["hovertemplate"].split("<extra>")[1].split("</extra>")[0])
        shifts = block_shifts(hm)
        for frame in [None] + js["frames"]:  # as first drawn (step 0), then every frame
            step = tr.steps[0 if frame is None else int(frame["name"])]
            mask = next(h.mask for h in step.highlights if h.role == "read" and h.panel == panel.name)
            assert outlined_by_channel(shape_in_frame(js, frame, k), shifts) == _expected_cells(mask, len(shifts))
            checked += 1
    assert checked and any(len(block_shifts(value_heatmap_on(js, js["layout"]["shapes"][k]["xref"]))) == spec.c
                           for k in reads)


def test_frames_change_only_heatmaps_and_outline_shapes(case):
    """A frame that changes a scatter trace makes plotly.js transition it before redrawing the whole figure anyway;
    outlines are layout shapes and clicks land on the heatmaps themselves, so a figure has no scatter trace and frames
    change heatmaps (fills, values) and shapes only."""
    spec, x, w, b, d = case
    js = json.loads(trace_figure(T.forward_trace(x, w, b, spec), clickable="y").to_json())
    assert not any(t["type"] == "scatter" for t in js["data"])
    assert len(js["frames"]) > 1
    for frame in js["frames"]:
        assert all(js["data"][i]["type"] == "heatmap" for i in frame["traces"])
        assert len(frame["layout"]["shapes"]) == len(outline_shapes(js)) > 0


def outlined_cells(outline: dict, shape) -> set:
    """The cells an outline shape of a one-channel panel marks (every cell inside its rectangles)."""
    cells = outlined_points(outline)
    assert all(0 <= r < shape[0] and 0 <= c < shape[1] for r, c in cells)
    return cells


def test_colours_belong_to_kinds_and_roles(case):
    spec, x, w, b, d = case
    tr = T.transposed_trace(x, w, d, spec)
    js = json.loads(trace_figure(tr).to_json())
    for t in js["data"]:
        if t["type"] == "heatmap" and t.get("hovertemplate"):
            panel = tr.panel(t["hovertemplate"].split("<extra>")[1].split("</extra>")[0])
            assert [list(x) for x in t["colorscale"]] == [list(x) for x in KIND_SCALES[panel.kind]]
            if panel.kind == "grad":  # diverging, centred at zero
                assert t["zmid"] == 0 and t["zmin"] == -t["zmax"]
    outlines = outline_shapes(js)
    assert outlines
    for k in outlines:
        sh = js["layout"]["shapes"][k]
        assert sh["line"]["color"] == ROLE_COLOURS[sh["name"]] and sh["layer"] == "above"


def test_play_controls_and_slider_exist_for_animations(case):
    spec, x, w, b, d = case
    js = json.loads(trace_figure(T.forward_trace(x, w, b, spec)).to_json())
    labels = [btn["label"] for btn in js["layout"]["updatemenus"][0]["buttons"]]
    assert any("Play" in lab for lab in labels) and any("Pause" in lab for lab in labels)
    assert any("Fast" in lab for lab in labels) and any("Slow" in lab for lab in labels)
    assert len(js["layout"]["sliders"][0]["steps"]) == len(js["frames"])
    for btn in js["layout"]["updatemenus"][0]["buttons"]:
        if "Play" in btn["label"] or "Fast" in btn["label"] or "Slow" in btn["label"]:
            assert btn["args"][1]["frame"]["redraw"] is True  # heatmaps only animate with redraw


@pytest.mark.parametrize("a", [
    np.arange(12, dtype=np.float64).reshape(3, 4) / 7, np.arange(5, dtype=np.float32), np.array([[1, -2], [3, 4]]),
    np.array([[300, -2], [3, 4]]), np.array([70000, 1]), np.arange(6, dtype=np.uint8).reshape(2, 3),
    np.array([5, 250], dtype=np.uint64), np.arange(8, dtype=np.int16).reshape(2, 2, 2),
])
def test_encoded_arrays_are_plotlys_own_typed_arrays(a):
    from _plotly_utils.utils import to_typed_array_spec

    from convviz.figures.encoding import enc as _enc

    assert _enc(a) == to_typed_array_spec(a)
    np.testing.assert_array_equal(decode(_enc(a)), a)


def test_raw_traces_and_frames_pass_plotlys_validation(case):
    import plotly.graph_objects as go

    spec, x, w, b, d = case
    for tr, kw in ((T.forward_trace(x, w, b, spec), dict(clickable="y")), (T.col2im_trace(x, w, d, spec), {}),
                   (T.transposed_trace(x, w, d, spec), dict(max_panel_cells=40))):
        fig = trace_figure(tr, **kw)
        go.Figure(fig.to_dict())  # raises on any property plotly does not know or a value it refuses


def test_values_stay_exact_in_the_compact_types():
    from convviz.figures.encoding import _exact_compact

    rng = np.random.default_rng(0)
    for g in (rng.normal(size=(40, 40)), np.arange(-500, 500, dtype=float).reshape(20, 50), np.full((3, 3), 0.5),
              np.array([[0.1, 2**40]]), np.array([[-0.0, 1.0]]), np.arange(9).reshape(3, 3)):
        out = _exact_compact(g)
        assert np.array_equal(out.astype(np.float64), g)
        assert np.array_equal(np.signbit(out.astype(np.float64)), np.signbit(np.asarray(g, dtype=float)))
    assert _exact_compact(rng.normal(size=(4, 4))).dtype == np.float64  # random values need all 53 bits


def test_plain_lists_write_whole_numbers_as_integers_and_gaps_as_null():
    """Channel blocks side by side need NaN gaps, so integer grids become floats; as JSON lists they still cost what
    integers cost ("3", not "3.0") and the gaps are null (a blank cell). A negative zero and fractions stay floats."""
    from convviz.figures.encoding import _plain
    from convviz.figures.encoding import enc as _enc

    grid = np.array([[1.0, np.nan, -2.0], [0.0, 300.0, np.nan]], dtype=np.float32)
    out = _plain(_enc(grid))
    assert out == [[1, None, -2], [0, 300, None]] and all(type(v) is int for row in out for v in row if v is not None)
    assert json.dumps(out) == "[[1, null, -2], [0, 300, null]]"
    assert _plain(_enc(np.array([0.5, np.nan]))) == [0.5, None]
    neg_zero = _plain(_enc(np.array([-0.0, 1.0])))
    assert np.signbit(neg_zero[0]) and neg_zero[1] == 1.0
    assert _plain(_enc(np.array([2.0**60, np.nan]))) == [2.0**60, None]  # past 2**53: not written as an integer


def test_channel_blocks_side_by_side_keep_every_number_and_stay_typed():
    """Blocks of any integer or float type, NaN between them: exact, and still sent as a compact typed array."""
    from convviz.figures.encoding import _exact_compact
    from convviz.figures.encoding import enc as _enc
    from convviz.figures.grid import Cell
    from convviz.figures.grid import side_by_side as _side_by_side
    from convviz.traces.base import Panel

    grids = [np.array([[1, -2], [3, 127]], dtype=np.int8), np.array([[30000, 2], [3, 4]], dtype=np.int16)]
    panel = Panel("p", "p", np.zeros((2, 2, 2)))
    sub = [Cell(panel, 0, 1, 0, 2, 0, 2, x_off=0), Cell(panel, 1, 1, 0, 2, 0, 2, x_off=5)]
    merged = _side_by_side(sub, grids, np.nan)
    assert merged.shape == (2, 7) and np.isnan(merged[:, 2:5]).all()
    np.testing.assert_array_equal(merged[:, :2], grids[0])
    np.testing.assert_array_equal(merged[:, 5:], grids[1])
    enc = _enc(_exact_compact(merged))
    assert enc["dtype"] == "f4"
    np.testing.assert_array_equal(decode(enc), merged)
    masks = _side_by_side(sub, [np.ones((2, 2), dtype=np.uint8)] * 2, 0)
    assert masks.dtype == np.uint8 and masks.sum() == 8


@pytest.mark.parametrize("density", [0.02, 0.3, 0.9, 1.0])
def test_an_outline_of_many_cells_marks_exactly_them_in_few_shapes(density):
    """Past DENSE_OUTLINE_CELLS an outline is a rectangle per run of cells in a row (one square per cell made a frame
    ~5x slower), and it still marks exactly the highlighted cells of each channel, nothing between or outside them."""
    from convviz.figures.grid import Cell
    from convviz.figures.outlines import DENSE_OUTLINE_CELLS
    from convviz.figures.outlines import outline_path as _outline_path
    from convviz.traces.base import Panel
    from tests.figure_support import RECT

    rng = np.random.default_rng(int(density * 100))
    panel = Panel("p", "p", np.zeros((2, 48, 40)))
    sub = [Cell(panel, 0, 1, 0, 48, 0, 40, x_off=0), Cell(panel, 1, 1, 0, 48, 0, 40, x_off=44)]
    masks = [rng.random((48, 40)) < density, rng.random((48, 40)) < density]
    shape = _outline_path(masks, sub, "wrong")
    assert outlined_by_channel(shape, [0, 44]) == {(k, int(r), int(c)) for k in (0, 1) for r, c in zip(*np.nonzero(masks[k]))}
    count = sum(int(m.sum()) for m in masks)
    rects = len(RECT.findall(shape["path"]))
    if count > DENSE_OUTLINE_CELLS:
        runs = sum(int((np.diff(np.pad(m.astype(np.int8), ((0, 0), (1, 0))), axis=1) == 1).sum()) for m in masks)
        assert rects <= runs < count  # full blocks: one rectangle each
    else:
        assert rects == count  # one square a cell


def _largest_case():
    from convviz.ui.page import Arrays
    from convviz.ui.settings import Settings

    spec = Settings(h=32, w=32, cin=4, cout=4, n=4, kh=7, kw=7, pad="same").spec()
    return spec, Arrays(make_input(spec, "random"), make_kernel(spec), make_bias(spec), make_dout(spec.output_shape))


def test_a_panel_too_big_to_draw_shows_a_window_with_the_engines_numbers():
    from convviz.figures.style import MAX_PANEL_CELLS

    spec, a = _largest_case()
    cols = cv.im2col(np.pad(a.x, ((0, 0), (0, 0), (spec.top, spec.bottom), (spec.left, spec.right))),
                     spec.kernel_size, spec.stride, 0, spec.dilation)[1]  # (C*KH*KW, L), sample 1, from the engine's API
    L = spec.oh * spec.ow
    assert cols.size > MAX_PANEL_CELLS
    tr = T.im2col_gather_trace(a.x, spec, n=1, max_steps=400)
    start = len(tr.steps) * 3 // 4
    fig = trace_figure(tr, rows=[["xpad"], ["cols"]], start=start)
    js = json.loads(fig.to_json())
    (win,) = meta_of(js)["windows"]
    (c0, c1), (r0, r1) = win["cols"], win["rows"]
    assert win["panel"] == "cols" and win["shape"] == [cols.shape[0], L] and (r0, r1) == (0, cols.shape[0])
    assert 0 < c1 - c0 < L and (c1 - c0) * cols.shape[0] <= MAX_PANEL_CELLS
    (hm,) = heatmaps_of(js, "cols")
    np.testing.assert_array_equal(decode(hm["z"]), cols[:, c0:c1])  # exact, and placed at the real column numbers
    assert (hm["x0"], hm["y0"]) == (c0, 0)
    ax = js["layout"]["xaxis" + hm["xaxis"][1:]]
    assert ax["range"] == [c0 - 0.5, c1 - 0.5] and ax["tickvals"][0] == c0
    step_col = int(tr.steps[start].title.split()[1])  # "Column l = window (i, j)"
    assert c0 <= step_col < c1  # the window is round the step shown first
    (write,) = outline_shapes(js, "write", hm["xaxis"])
    assert js["frames"]
    for frame in js["frames"]:  # only steps inside the window play, each outlining its own column
        l = int(tr.steps[int(frame["name"])].title.split()[1])
        assert c0 <= l < c1
        assert {c for _, c in outlined_cells(shape_in_frame(js, frame, write), (cols.shape[0], L))} == {l}


def every_stage_at(settings):
    """(name, trace) of every stage of the catalog at the settings, each built for its own layer (a layer the settings
    do not allow is tried with valid padding: the transposed convolution has no 'same'; a stage that still refuses
    them, e.g. pooling rules, is left out)."""
    from convviz.stages import STAGES
    from convviz.ui.page import build_arrays

    out = []
    for name, record in STAGES.items():
        for s in (settings, settings.with_(pad="valid")):
            try:
                out.append((name, record.trace_for(s, build_arrays)))
                break
            except ValueError:
                continue
    return out


def test_largest_app_settings_keep_every_heatmap_small():
    from convviz.figures.style import MAX_PANEL_CELLS
    from convviz.ui.settings import LARGEST_QUERY, parse_query

    for stage, tr in every_stage_at(parse_query(LARGEST_QUERY)[0]):
        js = json.loads(trace_figure(tr).to_json())
        for t in js["data"]:
            if t["type"] == "heatmap" and t.get("hovertemplate"):
                assert all(g.size <= MAX_PANEL_CELLS for g in channel_blocks(t)), (stage, t.get("name"))
            if t["type"] == "heatmap" and decode(t["z"]).size > 2000:
                assert "texttemplate" not in t and "xgap" not in t
        assert len(json.dumps(js)) < 2_000_000, stage


@pytest.mark.parametrize("largest", [False, True])
def test_rows_are_as_tall_as_their_cells_are_drawn(case, largest):
    """The y axes follow the x scale (square cells): a row sized for taller cells than the width allows is shrunk
    by plotly.js to the top of its band and leaves blank space under it. At the largest settings the widest row needs
    cells under 4 px, the floor the layout had: rows were sized at the floor and drawn smaller (~180 px blank under
    col2im's first row). Every panel on one row is the widest figure: cells of ~1.5 px here."""
    from convviz.ui.settings import LARGEST_QUERY, Settings, parse_query

    # the `case` fixture's layer and data, as app settings
    case_settings = Settings(h=7, w=6, kh=3, kw=2, sh=2, sw=3, pad="custom", pt=1, pb=0, pl=2, pr=1, dw=2, n=2, cin=2,
                             cout=3, data="random", seed=5)
    settings = parse_query(LARGEST_QUERY)[0] if largest else case_settings
    tight = 0
    traces = every_stage_at(settings)
    for stage, tr in traces:
        js = json.loads(trace_figure(tr).to_json())  # every panel on one row: the widest figure
        assert not blank_bands(js), stage
        for x_px, y_px in px_per_cell(js).values():
            tight += y_px > x_px * 0.98
    if largest:  # squeezed rows are sized for the cells as drawn, not smaller either
        assert tight >= len(traces) // 2


def test_channels_of_a_panel_share_one_subplot_side_by_side(case):
    """One subplot and one trace per panel (plotly.js redraws every subplot's axes, and does per-trace work, on each
    animation frame): channel k's block is shifted right, its ticks, hover labels and outlines still name the panel's
    own cells."""
    spec, x, w, b, d = case  # two input channels, padding (top 1, bottom 0, left 2, right 1)
    tr = T.forward_trace(x, w, b, spec, n=1, f=2)
    js = json.loads(trace_figure(tr, rows=[["xpad", "w"], ["products", "y"]]).to_json())
    (hm,) = heatmaps_of(js, "xpad")
    assert len(channel_blocks(hm)) == spec.c == 2
    gh, gw = spec.h + 1, spec.w + 3
    x0 = hm.get("x0", 0)
    (_, off) = block_shifts(hm)
    assert x0 == 0 and off > gw  # side by side, with a gap, no overlap
    ax = js["layout"]["xaxis" + hm["xaxis"][1:]]
    ticks = dict(zip(ax["tickvals"], ax["ticktext"]))
    for j in range(gw):  # both blocks label their columns from -left (a label's last line)
        for shift in (0, off):
            assert ticks.get(shift + j, str(j - 2)).split("<br>")[-1] == str(j - 2)
    assert any(v >= off for v in ticks)
    # each block's first column label starts with the block's channel tag, and no other label carries one
    tagged = {v: t.split("<br>")[0] for v, t in ticks.items() if "<br>" in t}
    assert tagged == {0: "<b>[c=0]</b>", off: "<b>[c=1]</b>"}
    assert ax["tickangle"] == 0  # plotly.js would turn crowded two-line labels on end
    assert not any("[c=" in a["text"] for a in js["layout"]["annotations"] if a["xref"] == hm["xaxis"])
    cd = decode(hm["customdata"])  # hover: the channel, and the labelled (row, column) of each cell
    assert cd.shape == (gh, off + gw, 3) and hm["hovertemplate"].startswith(f"{tr.panel('xpad').channel_label} %{{customdata[2]}}, ")
    for c, shift in enumerate((0, off)):
        block = cd[:, shift:shift + gw]
        np.testing.assert_array_equal(block[..., 0], np.broadcast_to(np.arange(gh)[:, None] - 1, (gh, gw)))
        np.testing.assert_array_equal(block[..., 1], np.broadcast_to(np.arange(gw)[None, :] - 2, (gh, gw)))
        assert (block[..., 2] == c).all()
    assert (cd[:, gw:off, 2] == -1).all() and hm["hoverongaps"] is False  # the gap is never hovered
    # channel 1's read outline sits in channel 1's block, on the cells the step reads in channel 1
    (reads,) = outline_shapes(js, "read", hm["xaxis"])
    for frame in js["frames"]:
        step = tr.steps[int(frame["name"])]
        mask = next(h.mask for h in step.highlights if h.role == "read" and h.panel == "xpad")
        marked = outlined_points(shape_in_frame(js, frame, reads))
        in_1 = {(r, c - off) for r, c in marked if c >= off}
        assert in_1 == set(zip(*np.nonzero(mask[1] if mask.ndim == 3 else mask)))
        assert all(c < gw for r, c in marked - {(r, c + off) for r, c in in_1})  # the rest in channel 0's block


def test_the_clickable_panels_heatmap_is_named_for_the_player_at_every_size(case):
    """A click lands on the clickable panel's own heatmap (the page's player maps its customdata, the cell's row and
    column labels, to a step): meta names that heatmap, whatever the cell size, and no other."""
    spec, x, w, b, d = case
    tr = T.forward_trace(x, w, b, spec)
    oh, ow = spec.output_shape[2:]
    for cell_px in (34.0, 4.0):
        js = json.loads(trace_figure(tr, clickable="y", cell_px=cell_px).to_json())
        hm = js["data"][meta_of(js)["click_trace"]]
        assert hm["type"] == "heatmap" and hm["hovertemplate"].endswith("<extra>y</extra>")
        labels = decode(hm["customdata"])
        assert labels.shape[:2] == (oh, ow) and labels[oh - 1, ow - 1, 0] == oh - 1 and labels[oh - 1, ow - 1, 1] == ow - 1
    assert meta_of(json.loads(trace_figure(tr).to_json()))["click_trace"] is None
    spec, a = _largest_case()
    tr = T.forward_trace(a.x, a.w, a.b, spec, max_steps=400)
    fig = trace_figure(tr, rows=[["xpad", "w"], ["products", "y"]], clickable="y")
    assert fig.to_dict()["data"][fig.layout.meta["click_trace"]]["hovertemplate"].endswith("<extra>y</extra>")


def test_numbers_are_printed_only_in_figures_small_enough_to_redraw_fast():
    from convviz.figures.style import MAX_TEXT_CELLS

    def fig_of(h):
        spec = cv.ConvSpec.create(h, h, 3, 1, 1, 1)
        x = make_input(spec, "random", 0)
        return json.loads(trace_figure(T.forward_trace(x, make_kernel(spec, "random", 0), make_bias(spec, "random", 0), spec),
                                       rows=[["xpad"]], max_width=5000).to_json())

    small, big = fig_of(8), fig_of(32)  # 10x10 and 34x34 padded cells at the full 34 px
    assert (10 * 10 <= MAX_TEXT_CELLS < 34 * 34)
    assert heatmaps_of(small, "xpad")[0].get("texttemplate") and not meta_of(small)["numbers_hidden"]
    assert "texttemplate" not in heatmaps_of(big, "xpad")[0] and meta_of(big)["numbers_hidden"]


def test_the_spec_lets_plotly_react_skip_a_redraw_of_the_same_figure(case):
    """Streamlit hands plotly.js each chart twice per run, freshly parsed; Plotly.react redraws unless every attribute
    compares equal. So: small figures send plain lists (typed arrays always count as new), layout.meta goes as text,
    no template object, and datarevision is a digest that changes exactly when the data does."""
    spec, x, w, b, d = case
    tr = T.forward_trace(x, w, b, spec)
    js = trace_figure(tr, clickable="y").to_dict()
    assert "template" not in js["layout"]
    assert isinstance(js["layout"]["meta"], str) and meta_of(js)["stage"] == tr.stage
    blobs = [v for t in js["data"] for v in t.values() if isinstance(v, dict) and "bdata" in v]
    assert not blobs  # a small figure: plain lists only
    again = trace_figure(tr, clickable="y").to_dict()
    assert again["layout"]["datarevision"] == js["layout"]["datarevision"]
    other = trace_figure(T.forward_trace(x, w + 1.0, b, spec), clickable="y").to_dict()
    assert other["layout"]["datarevision"] != js["layout"]["datarevision"]
    assert trace_figure(tr, clickable="y", start=1).to_dict()["layout"]["datarevision"] != js["layout"]["datarevision"]
    # Lists and typed arrays carry the same numbers.
    typed = trace_figure(tr, clickable="y", plain_arrays=False).to_dict()
    assert any(isinstance(v, dict) and "bdata" in v for t in typed["data"] for v in t.values())
    for a, b_ in zip(js["data"], typed["data"]):
        for k in ("z", "x", "y", "customdata"):
            if k in a:
                np.testing.assert_array_equal(decode(a[k]), decode(b_[k]))
    # A click picks the cell under the pointer; a drag moves nothing.
    assert (js["layout"]["hovermode"], js["layout"]["dragmode"]) == ("closest", False)
    # Lists only while they stay small enough: past the caps a figure keeps compact typed arrays.
    import importlib

    tf = importlib.import_module("convviz.figures.encoding")  # where the plain-list caps live
    assert tf.PLAIN_MAX_JSON <= 1_500_000  # well inside the 2 MB a figure may take
    spec_big, a_big = _largest_case()
    big_trace = T.col2im_trace(a_big.x, a_big.w, a_big.dout, spec_big)
    rows = [["dcols"], ["acc", "count"], ["dx", "wrong"]]  # pages/col2im.py's layout
    big = trace_figure(big_trace, rows=rows).to_dict()
    assert len(json.dumps(big)) <= tf.PLAIN_MAX_JSON + 200_000 and not any(
        isinstance(v, dict) and "bdata" in v for t in big["data"] for v in t.values())
    monkey = pytest.MonkeyPatch()
    try:
        monkey.setattr(tf, "PLAIN_MAX_JSON", 10_000)
        capped = trace_figure(big_trace, rows=rows).to_dict()
    finally:
        monkey.undo()
    assert any(isinstance(v, dict) and "bdata" in v for t in capped["data"] for v in t.values())
    assert capped["layout"]["datarevision"] == big["layout"]["datarevision"]  # the same numbers, the same digest


def test_each_row_gets_its_own_cell_size_unless_it_shares_a_block_shape_with_another():
    """At the largest settings the widest row (4 channels of a 32 x 32 grid side by side) sets a few pixels a cell.
    A row that shows nothing of that shape is drawn at the largest size that fits it: Gradient check's dw (7 x 7
    blocks) and db rows, Weight gradients' dw and db. Rows that show blocks of one shape keep one scale: Forward's
    kernel (row 1) and its window products (row 2), Max pooling's x (row 1) and dx (row 2)."""
    from convviz.stages import STAGES, pooling_of

    spec, a = _largest_case()
    gc = T.gradcheck_trace(a.x, a.w, a.b, a.dout, spec, max_entries=20)
    fig = json.loads(trace_figure(gc, rows=[["dx_a", "dx_n", "dx_e"], ["dw_a", "dw_n", "dw_e"], ["db_a", "db_n", "db_e"]]).to_json())
    px = {ax: v[1] for ax, v in px_per_cell(fig).items()}  # y scale: what the rows' heights follow
    dx, dw, db = px["x"], px["x4"], px["x7"]
    assert dx < 5 and dw > 2 * dx and db == pytest.approx(34.0, rel=0.02)  # db's row is 12 cells: the usual size
    assert not blank_bands(fig) and not title_overlaps(fig)
    db_heatmap = next(t for t in fig["data"] if t["type"] == "heatmap" and t.get("xaxis") == "x7")
    assert db_heatmap.get("texttemplate")  # large enough to print its numbers now

    wg = T.weight_grad_trace(a.x, a.w, a.dout, spec)
    fig = json.loads(trace_figure(wg, rows=[["xpad", "dd"], ["dw", "db"]]).to_json())
    px = {ax: v[1] for ax, v in px_per_cell(fig).items()}
    assert px["x3"] > 2 * px["x"] and not blank_bands(fig)

    fw = T.forward_trace(a.x, a.w, a.b, spec, max_steps=400)
    px = px_per_cell(json.loads(trace_figure(fw, rows=[["xpad", "w"], ["products", "y"]]).to_json()))
    assert {round(v[1], 3) for v in px.values()} == {round(px["x"][1], 3)} and px["x"][1] < 5

    pool = STAGES["maxpool"]
    ps = pooling_of(spec)
    mp = pool.build(ps, dataclasses.replace(a, dout=pool.upstream(ps)))
    px = px_per_cell(json.loads(trace_figure(mp, rows=[["x", "y", "dout"], ["dx"]]).to_json()))
    assert px["x4"][1] == pytest.approx(px["x"][1], rel=0.01)


def test_a_tall_row_keeps_the_smallest_rows_cell_size():
    """col2im at the largest settings: the dcols window (196 rows) fits 13 px cells across, which would make it
    2,500 px tall; a row grows past the smallest row's cell size only while it stays under ROW_GROW_MAX_PX."""
    from convviz.figures.grid import ROW_GROW_MAX_PX
    from convviz.stages import STAGES

    spec, a = _largest_case()
    tr = STAGES["col2im"].build(spec, a)
    fig = json.loads(trace_figure(tr, rows=[["dcols"], ["acc", "count"], ["dx", "wrong"]]).to_json())
    px = {ax: v[1] for ax, v in px_per_cell(fig).items()}
    assert px["x"] == pytest.approx(min(px.values()), rel=0.01)  # dcols
    dcols_rows = decode(next(t for t in fig["data"] if t.get("xaxis") == "x")["z"]).shape[0]
    assert dcols_rows * px["x"] > ROW_GROW_MAX_PX and fig["layout"]["height"] < 1500
    assert not blank_bands(fig) and not title_overlaps(fig)


def test_the_top_margin_has_room_for_the_longest_step_title_and_no_more(case):
    """Every frame's title (one line of ~font + 4 px per <br>-separated line, 40 px of padding and tick labels) fits
    above the plot, and short titles leave no band of blank lines under them (a fixed four lines did both: the
    Strided page's six-line captions ended ~4 px above the first row's titles, Gradient check's two-line ones sat over
    a blank band)."""
    spec, x, w, b, d = case
    for tr in (T.strided_trace(x, spec), T.gradcheck_trace(x, w, b, d, spec, max_entries=20), T.forward_trace(x, w, b, spec)):
        fig = trace_figure(tr)
        layout, size = fig.layout, fig.layout.font.size
        titles = [layout.title.text] + [f["layout"]["title"]["text"] for f in fig.raw_frames]
        lines = max(t.count("<br>") + 1 for t in titles)
        assert 40 + lines * (size + 4) <= layout.margin.t <= 40 + max(2, lines) * (size + 4)


def _rect_widths(shape: dict) -> set[float]:
    """The widths (in cells) of the rectangles of an outline shape's path."""
    from tests.figure_support import RECT
    return {round(float(c) - float(a), 3) for a, _, c, _, _ in RECT.findall(shape["path"])}


def test_a_focus_outline_alone_is_as_large_as_a_read_outline_and_leaves_the_numbers_room():
    """Transposed convolution as a scatter: the input x' is outlined in read and focus, 'full' in write and focus,
    the output y' in focus alone. Beside read or write outlines a focus outline is inset (to show inside them); alone
    it is as large as a read outline (a square 0.92 of a cell, or a rectangle on the cells' edges), so y' prints its
    numbers (up to -108) larger than 'full' does (the same numbers) in the same row of cells."""
    from convviz.stages import STAGES
    from convviz.ui.context import build_arrays
    from convviz.ui.settings import Settings

    stage = STAGES["tconv_scatter"]
    tr = stage.trace_for(stage.shown_settings(Settings()), build_arrays)  # the page's defaults
    fig = trace_figure(tr, rows=[["x", "w", "stamp"], ["full", "count", "y"]], cell_px=33.0, font_size=15,
                       max_width=1400, controls=False).to_plotly_json()
    name_of = {t["xaxis"]: t["hovertemplate"].split("<extra>")[1][:-len("</extra>")] for t in fig["data"]
               if t["type"] == "heatmap" and t.get("hovertemplate")}
    widths: dict[str, set[float]] = {}
    for frame in [None, *fig["frames"]]:
        for k in outline_shapes(fig, "focus"):
            shape = shape_in_frame(fig, frame, k)
            if shape.get("visible", True):
                widths.setdefault(name_of[shape["xref"]], set()).update(_rect_widths(shape))
    as_read = {0.92} | set(range(1, 9))
    assert widths["y"] and widths["y"] <= as_read
    assert widths["x"] and widths["full"] and not (widths["x"] | widths["full"]) & as_read  # inset: 0.66, n - 0.28
    line = {(name_of[sh["xref"]], sh["name"]): sh["line"]["width"] for sh in fig["layout"]["shapes"]}
    assert line["y", "focus"] == line["x", "read"] > line["x", "focus"]
    size = {name_of[t["xaxis"]]: t["textfont"]["size"] for t in fig["data"] if t.get("texttemplate")}
    assert size["y"] > size["full"]
