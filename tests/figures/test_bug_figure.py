"""The bug lab's side-by-side figure: the arrays drawn are the ones given, wrong cells outlined, numbers only where
cells are large enough to read them."""
import json

import numpy as np
import pytest

from convviz.figures.bug_figure import bug_figure
from convviz.figures.style import KIND_SCALES, ROLE_COLOURS
from tests.figure_support import decode  # plotly 6 typed arrays -> ndarray


def heatmaps(fig) -> list[dict]:
    return [t for t in json.loads(fig.to_json())["data"] if t["type"] == "heatmap"]


@pytest.mark.parametrize("size", [3, 6, 12, 13, 32])
def test_values_outlines_and_numbers(size):
    rng = np.random.default_rng(size)
    correct = rng.integers(-9, 9, (size, size + 1)).astype(float)
    buggy = correct.copy()
    buggy[0, 1] += 1.0
    wrong = buggy != correct
    fig = bug_figure(correct, buggy, wrong)
    left, right = heatmaps(fig)
    np.testing.assert_array_equal(decode(left["z"]), correct)
    np.testing.assert_array_equal(decode(right["z"]), buggy)
    (marks,) = [t for t in json.loads(fig.to_json())["data"] if t["type"] == "scatter"]
    assert [decode(marks["y"]).tolist(), decode(marks["x"]).tolist()] == [[0], [1]]
    readable = 380 // (size + 1) >= 30  # cells of at least 30 px print their numbers
    assert ("texttemplate" in left) == ("texttemplate" in right) == readable


def test_colours_are_the_walkthrough_figures_own():
    """The same dx reads the same on the Bug lab as on Input gradient and col2im (trace_figure's "grad" scale: negative
    blue, positive red, centred at zero) and a wrong cell is ringed in the walkthroughs' "wrong" red. The figure used
    Plotly's RdBu, which is the other way round (negative red), under a title that called red cells wrong."""
    correct = np.array([[-3.0, 0.0], [1.0, 2.0]])
    buggy = correct * 2
    fig = json.loads(bug_figure(correct, buggy, buggy != correct).to_json())
    scale = [[float(a), c] for a, c in KIND_SCALES["grad"]]
    for hm in heatmaps(bug_figure(correct, buggy, buggy != correct)):
        assert [[float(a), c] for a, c in hm["colorscale"]] == scale
        assert hm["zmin"] == -hm["zmax"] == -6.0  # zero sits at the middle of the scale on both panels
    assert scale[0][1] == "#3f7fbf" and scale[-1][1] == "#d0543f"  # blue low, red high
    (marks,) = [t for t in fig["data"] if t["type"] == "scatter"]
    assert marks["marker"]["color"] == ROLE_COLOURS["wrong"]
    assert "ringed in red" in fig["layout"]["annotations"][1]["text"]
    # No grid or zero lines: they ran across the blank cells of a short (missing) buggy dx.
    axes = [v for k, v in fig["layout"].items() if k.startswith(("xaxis", "yaxis"))]
    assert len(axes) == 4 and all(a["showgrid"] is False and a["zeroline"] is False for a in axes)
