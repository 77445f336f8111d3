"""The screen a player reports comes from the browser: only sizes in range are used, and they size the caption box
and the figure's room as the player lays them out."""
import pytest

from convviz.ui.player import Screen, parse_screen
from convviz.ui.trace_view import ELEMENT_GAP_PX, figure_box


def test_a_report_and_the_cookie_give_the_same_screen():
    report = {"vw": 1280, "vh": 720, "cw": 1248, "top": 60, "bar": 48, "line": 28.1, "char": 9.5}
    assert parse_screen(report) == Screen(1280, 720, 1248, 60, 48, 28.1, 9.5)
    assert parse_screen("1280x720x1248x60x48x28.1x9.5") == parse_screen(report)
    assert parse_screen("1440x900x980") == Screen(1440, 900, 980)  # an older cookie: sizes only


@pytest.mark.parametrize("value", [None, "", "garbage", "1x2x3", "infxinfxinf", "1e9x720x1000", {"vw": "nan"},
                                   {"vw": 1280, "vh": 720}, {"vw": True, "vh": [], "cw": {}}, 12, ["1280", "720"]])
def test_unusable_reports_are_ignored(value):
    assert parse_screen(value) is None


def test_out_of_range_measures_are_dropped_not_trusted():
    s = parse_screen({"vw": 1280, "vh": 720, "cw": 5000, "top": -5, "bar": 1e9, "line": "x", "char": float("inf")})
    assert s == Screen(1280, 720, 1280, None, None, None, None)  # the column is never wider than the viewport


def test_the_caption_box_holds_the_longest_caption_and_the_figure_gets_the_rest():
    s = Screen(1280, 720, 1000, top=60, bar=48, line=25.0, char=10.0)
    per_line = int(1000 / (10.0 * 1.08))
    assert s.caption_px(["a" * per_line]) == 27 and s.caption_px(["a" * (per_line + 1), "b"]) == 52
    box = figure_box(s, presenter=True, caption_px=52)
    assert box.height == 720 - 60 - 48 - 52 - 9 - ELEMENT_GAP_PX and box.width == 998 and box.rearrange
    assert figure_box(None, presenter=True).width == 980  # unknown screen: the classic budget
    assert figure_box(Screen(390, 844, 366), presenter=False).height is None  # a phone: the width only
