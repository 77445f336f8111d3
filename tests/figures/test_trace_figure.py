"""The figure shows exactly the trace's numbers and highlights, with one colour scheme everywhere."""
import base64
import json

import numpy as np
import pytest

import convviz as cv
from convviz import traces as T
from convviz.data import make_bias, make_dout, make_input, make_kernel
from convviz.figures import trace_figure
from convviz.figures.trace_figure import KIND_SCALES, ROLE_COLOURS, meta_of

DTYPES = {"f8": np.float64, "f4": np.float32, "i1": np.int8, "u1": np.uint8, "i2": np.int16, "u2": np.uint16,
          "i4": np.int32, "u4": np.uint32}


def decode(v):
    """Plotly 6 typed arrays ({'dtype', 'bdata', 'shape'}) or plain lists -> ndarray."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=DTYPES[v["dtype"]])
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a
    return np.asarray(v, dtype=float)


def heatmaps_of(fig_json, panel):
    return [t for t in fig_json["data"] if t["type"] == "heatmap" and t.get("hovertemplate", "").endswith(f"<extra>{panel}</extra>")]


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
    xpad = heatmaps_of(fig, "xpad")
    assert len(xpad) == spec.c  # one subplot per channel, none dropped
    for c, hm in enumerate(xpad):
        np.testing.assert_array_equal(decode(hm["z"]), np.pad(x[1, c], ((1, 0), (2, 1))))
    (y,) = heatmaps_of(fig, "y")
    np.testing.assert_array_equal(decode(y["z"]), cv.conv2d(x, w, b, (2, 3), (1, 0, 2, 1), (1, 2))[1, 2])


def test_frames_carry_each_steps_highlights_and_values(case):
    spec, x, w, b, d = case
    tr = T.col2im_trace(x, w, d, spec, n=0)
    fig = trace_figure(tr, rows=[["dcols"], ["acc", "count"], ["dx", "wrong"]])
    js = json.loads(fig.to_json())
    kept = meta_of(js)["frame_steps"]
    assert [f["name"] for f in js["frames"]] == [str(t) for t in kept]
    assert len(kept) == len(tr.steps)  # small case: nothing sampled
    acc_traces = [i for i, t in enumerate(js["data"]) if t.get("hovertemplate", "").endswith("<extra>acc</extra>")]
    for frame in js["frames"]:
        t = int(frame["name"])
        by_trace = dict(zip(frame["traces"], frame["data"]))
        for c, ti in enumerate(acc_traces):  # the accumulator after step t, per channel
            np.testing.assert_array_equal(decode(by_trace[ti]["z"]), tr.values_at(t, "acc")[c])
        assert f"Step {t + 1}/{len(tr.steps)}: {tr.steps[t].title}" in frame["layout"]["title"]["text"]


def test_outline_points_are_the_highlighted_cells(case):
    spec, x, w, b, d = case
    tr = T.forward_trace(x, w, b, spec)
    js = json.loads(trace_figure(tr, rows=[["xpad", "w"], ["products", "y"]]).to_json())
    read_traces = [i for i, t in enumerate(js["data"]) if t["type"] == "scatter" and t["name"] == "read"]
    assert read_traces
    for frame in js["frames"]:
        step = tr.steps[int(frame["name"])]
        mask = next(h.mask for h in step.highlights if h.role == "read")
        data = dict(zip(frame["traces"], frame["data"]))[read_traces[0]]
        assert outlined_cells(data, mask.shape) == set(zip(*np.nonzero(mask)))


def outlined_cells(data: dict, shape) -> set:
    """The cells an outline trace marks: one per marker, or every cell inside its rectangle."""
    x, y = decode(data["x"]), decode(data["y"])
    if data["mode"] == "lines":
        assert len(x) == 5 and x[0] == x[-1] and y[0] == y[-1]
        rows = [r for r in range(shape[0]) if y.min() < r < y.max()]
        cols = [c for c in range(shape[1]) if x.min() < c < x.max()]
        return {(r, c) for r in rows for c in cols}
    return set(zip(y.astype(int), x.astype(int)))


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
        if t["type"] == "scatter" and t["name"] in ROLE_COLOURS:
            assert t["marker"]["color"] == ROLE_COLOURS[t["name"]]


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


def test_largest_app_settings_stay_under_two_megabytes():
    from convviz.ui.page import Arrays
    from convviz.ui.settings import Settings
    from convviz.ui.stages import STAGES

    s = Settings(h=32, w=32, cin=4, cout=4, n=4, kh=7, kw=7, pad="same")
    spec = s.spec()
    a = Arrays(make_input(spec, "random"), make_kernel(spec), make_bias(spec), make_dout(spec.output_shape))
    for stage in ("forward", "im2col_gather", "col2im", "maxpool", "transposed"):
        tr = STAGES[stage](spec, a)
        size = len(trace_figure(tr).to_json())
        assert size < 2_000_000, (stage, size)


@pytest.mark.parametrize("a", [
    np.arange(12, dtype=np.float64).reshape(3, 4) / 7, np.arange(5, dtype=np.float32), np.array([[1, -2], [3, 4]]),
    np.array([[300, -2], [3, 4]]), np.array([70000, 1]), np.arange(6, dtype=np.uint8).reshape(2, 3),
    np.array([5, 250], dtype=np.uint64), np.arange(8, dtype=np.int16).reshape(2, 2, 2),
])
def test_encoded_arrays_are_plotlys_own_typed_arrays(a):
    from _plotly_utils.utils import to_typed_array_spec

    from convviz.figures.trace_figure import _enc

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
    from convviz.figures.trace_figure import _exact_compact

    rng = np.random.default_rng(0)
    for g in (rng.normal(size=(40, 40)), np.arange(-500, 500, dtype=float).reshape(20, 50), np.full((3, 3), 0.5),
              np.array([[0.1, 2**40]]), np.array([[-0.0, 1.0]]), np.arange(9).reshape(3, 3)):
        out = _exact_compact(g)
        assert np.array_equal(out.astype(np.float64), g)
        assert np.array_equal(np.signbit(out.astype(np.float64)), np.signbit(np.asarray(g, dtype=float)))
    assert _exact_compact(rng.normal(size=(4, 4))).dtype == np.float64  # random values need all 53 bits


def _largest_case():
    from convviz.ui.page import Arrays
    from convviz.ui.settings import Settings

    spec = Settings(h=32, w=32, cin=4, cout=4, n=4, kh=7, kw=7, pad="same").spec()
    return spec, Arrays(make_input(spec, "random"), make_kernel(spec), make_bias(spec), make_dout(spec.output_shape))


def test_a_panel_too_big_to_draw_shows_a_window_with_the_engines_numbers():
    from convviz.figures.trace_figure import MAX_PANEL_CELLS

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
    write = next(i for i, t in enumerate(js["data"]) if t["type"] == "scatter" and t["name"] == "write")
    assert js["frames"]
    for frame in js["frames"]:  # only steps inside the window play, each outlining its own column
        data = dict(zip(frame["traces"], frame["data"]))[write]
        l = int(tr.steps[int(frame["name"])].title.split()[1])
        assert c0 <= l < c1
        assert {c for _, c in outlined_cells(data, (cols.shape[0], L))} == {l}


def test_largest_app_settings_keep_every_heatmap_small():
    from convviz.figures.trace_figure import MAX_PANEL_CELLS
    from convviz.ui.stages import STAGES

    spec, a = _largest_case()
    for stage in STAGES:
        try:
            tr = STAGES[stage](spec, a)
        except ValueError:  # a stage these settings do not allow
            continue
        js = json.loads(trace_figure(tr).to_json())
        for t in js["data"]:
            if t["type"] == "heatmap":
                assert decode(t["z"]).size <= MAX_PANEL_CELLS, (stage, t.get("name"))
                if decode(t["z"]).size > 2000:
                    assert "texttemplate" not in t and "xgap" not in t


def test_channels_of_a_panel_share_one_subplot_side_by_side(case):
    """One subplot per panel (plotly.js redraws every subplot's axes on each animation frame): channel k's block is
    shifted right, its ticks, hover labels and outlines still name the panel's own cells."""
    spec, x, w, b, d = case  # two input channels, padding (top 1, bottom 0, left 2, right 1)
    tr = T.forward_trace(x, w, b, spec, n=1, f=2)
    js = json.loads(trace_figure(tr, rows=[["xpad", "w"], ["products", "y"]]).to_json())
    xpad = heatmaps_of(js, "xpad")
    assert len(xpad) == spec.c == 2 and len({hm["xaxis"] for hm in xpad}) == 1
    gh, gw = spec.h + 1, spec.w + 3
    off = xpad[1]["x0"]
    assert xpad[0].get("x0", 0) == 0 and off > gw  # side by side, with a gap, no overlap
    ax = js["layout"]["xaxis" + xpad[0]["xaxis"][1:]]
    ticks = dict(zip(ax["tickvals"], ax["ticktext"]))
    for j in range(gw):  # both blocks label their columns from -left
        for x0 in (0, off):
            assert ticks.get(x0 + j, str(j - 2)) == str(j - 2)
    assert any(v >= off for v in ticks)
    for c, hm in enumerate(xpad):  # hover: the channel, and the labelled (row, column) of each cell
        cd = decode(hm["customdata"])
        assert cd.shape == (gh, gw, 2)
        np.testing.assert_array_equal(cd[..., 0], np.broadcast_to(np.arange(gh)[:, None] - 1, (gh, gw)))
        np.testing.assert_array_equal(cd[..., 1], np.broadcast_to(np.arange(gw)[None, :] - 2, (gh, gw)))
        assert hm["hovertemplate"].startswith(f"{tr.panel('xpad').channel_label} {c}, ")
    # channel 1's read outline sits in channel 1's block, on the cells the step reads in channel 1
    reads = [i for i, t in enumerate(js["data"]) if t["type"] == "scatter" and t["name"] == "read"
             and t["xaxis"] == xpad[0]["xaxis"]]
    assert len(reads) == 2
    for frame in js["frames"]:
        step = tr.steps[int(frame["name"])]
        mask = next(h.mask for h in step.highlights if h.role == "read" and h.panel == "xpad")
        data = dict(zip(frame["traces"], frame["data"]))[reads[1]]
        shifted = dict(data, x=(decode(data["x"]) - off).tolist())
        assert outlined_cells(shifted, (gh, gw)) == set(zip(*np.nonzero(mask[1] if mask.ndim == 3 else mask)))


def test_cells_too_small_to_aim_at_get_no_click_grid(case):
    from convviz.figures.trace_figure import CLICK_MIN_PX

    spec, x, w, b, d = case
    tr = T.forward_trace(x, w, b, spec)
    big = json.loads(trace_figure(tr, clickable="y").to_json())
    (grid,) = [t for t in big["data"] if t.get("name") == "select"]
    oh, ow = spec.output_shape[2:]
    assert decode(grid["x"]).size == oh * ow and meta_of(big)["click_grid"] is True
    small = json.loads(trace_figure(tr, clickable="y", cell_px=CLICK_MIN_PX - 1).to_json())
    assert not [t for t in small["data"] if t.get("name") == "select"]
    assert meta_of(small)["click_grid"] is False
    # at the app's largest settings the output cells are a few pixels: no grid (its markers were ~40 % of a frame)
    spec, a = _largest_case()
    tr = T.forward_trace(a.x, a.w, a.b, spec, max_steps=400)
    assert trace_figure(tr, rows=[["xpad", "w"], ["products", "y"]], clickable="y").layout.meta["click_grid"] is False


def test_numbers_are_printed_only_in_figures_small_enough_to_redraw_fast():
    from convviz.figures.trace_figure import MAX_TEXT_CELLS

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
    # With a click grid, the layout already holds what st.plotly_chart sets for point selection.
    assert (js["layout"]["clickmode"], js["layout"]["hovermode"], js["layout"]["dragmode"]) == ("event+select", "closest", "pan")
    assert "clickmode" not in trace_figure(tr).to_dict()["layout"]
    # Lists only while they stay small enough: past the caps a figure keeps compact typed arrays.
    import importlib

    tf = importlib.import_module("convviz.figures.trace_figure")  # the module (the package exports the function)
    assert tf.PLAIN_MAX_JSON <= 1_500_000  # well inside the 2 MB a figure may take
    spec_big, a_big = _largest_case()
    big_trace = T.col2im_trace(a_big.x, a_big.w, a_big.dout, spec_big)
    big = trace_figure(big_trace).to_dict()
    assert len(json.dumps(big)) <= tf.PLAIN_MAX_JSON + 200_000 and not any(
        isinstance(v, dict) and "bdata" in v for t in big["data"] for v in t.values())
    monkey = pytest.MonkeyPatch()
    try:
        monkey.setattr(tf, "PLAIN_MAX_JSON", 10_000)
        capped = trace_figure(big_trace).to_dict()
    finally:
        monkey.undo()
    assert any(isinstance(v, dict) and "bdata" in v for t in capped["data"] for v in t.values())
    assert capped["layout"]["datarevision"] == big["layout"]["datarevision"]  # the same numbers, the same digest
