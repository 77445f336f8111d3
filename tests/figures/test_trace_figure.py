"""The figure shows exactly the trace's numbers and highlights, with one colour scheme everywhere."""
import base64
import json

import numpy as np
import pytest

import convviz as cv
from convviz import traces as T
from convviz.data import make_bias, make_dout, make_input, make_kernel
from convviz.figures import trace_figure
from convviz.figures.trace_figure import KIND_SCALES, ROLE_COLOURS

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
    kept = js["layout"]["meta"]["frame_steps"]
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
        cells = set(zip(decode(data["y"]).astype(int), decode(data["x"]).astype(int)))
        assert cells == set(zip(*np.nonzero(mask)))


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
