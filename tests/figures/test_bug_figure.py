"""The bug lab's side-by-side figure: the arrays drawn are the ones given, wrong cells outlined, numbers only where
cells are large enough to read them."""
import json

import numpy as np
import pytest

from convviz.figures.bug_figure import bug_figure
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
