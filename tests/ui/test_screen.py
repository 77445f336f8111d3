"""The screen a player reports comes from the browser: only sizes in range are used, and they size the caption box
and the figure's room as the player lays them out."""
import dataclasses
import importlib

import pytest

from convviz.figures.arrange import covered_px
from convviz.figures.trace_figure import figure_grid, trace_figure
from convviz.stages import STAGES
from convviz.ui.context import build_arrays
from convviz.ui.player import Screen, caption_texts, parse_screen
from convviz.ui.room import COLUMN_GAP_PX, ELEMENT_GAP_PX, FIGURE_AIR_PX, figure_box, placements, side_widths
from convviz.ui.settings import Settings
from convviz.ui.trace_view import grid_of, placement


def test_a_report_and_the_cookie_give_the_same_screen():
    report = {"vw": 1280, "vh": 720, "cw": 1248, "top": 60, "bar": 48, "line": 28.1, "char": 9.5}
    assert parse_screen(report) == Screen(1280, 720, 1248, 60, 48, 28.1, 9.5)
    assert parse_screen("1280x720x1248x60x48x28.1x9.5") == parse_screen(report)
    assert parse_screen("1440x900x980") == Screen(1440, 900, 980)  # an older cookie: sizes only
    assert parse_screen("1280x720x1248x60x48x28.1x9.5x35") == Screen(1280, 720, 1248, 60, 48, 28.1, 9.5, title=35)


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


PROJECTOR = Screen(1280, 720, 1248, top=60, bar=46, line=28.0, char=10.0)


def test_presenter_mode_on_a_wide_screen_may_put_the_player_beside_the_figure():
    over, *sides = placements(PROJECTOR, presenter=True, captions=["a short caption"])
    assert over.side == 0 and over.box == figure_box(PROJECTOR, True, over.caption_px)
    assert [s.side for s in sides] == side_widths(PROJECTOR) == [300, int(0.3 * 1248)]
    assert side_widths(Screen(1920, 1080, 1888)) == [300, 520]  # 30 % of the column, at most 520 px
    for side in sides:
        # Beside the player, the figure has the column's width left and the screen's height under the page's title.
        assert side.box.width == 1248 - side.side - COLUMN_GAP_PX - 2
        assert side.box.height == 720 - 60 - FIGURE_AIR_PX > over.box.height
        assert side.caption_px == PROJECTOR.caption_px(["a short caption"], width=side.side)


def test_beside_the_figure_the_player_takes_the_page_title_with_it():
    """With the presenter's title measured (35 px with its gap), the column beside the figure shows the title over the
    player, and the figure starts that much higher: 35 px taller than beside a title left over the page."""
    titled = dataclasses.replace(PROJECTOR, title=35)
    over, *sides = placements(titled, presenter=True, captions=["a short caption"])
    assert over == placements(PROJECTOR, True, ["a short caption"])[0] and not over.title  # over it: as before
    for side, untitled in zip(sides, placements(PROJECTOR, True, ["a short caption"])[1:]):
        assert side.title and not untitled.title
        assert side.box.height == 720 - 60 + 35 - FIGURE_AIR_PX == untitled.box.height + 35
    # The column must hold the title (two lines at most) over the bar's three rows and the caption.
    roomy = 720 - 60 + 35 - FIGURE_AIR_PX - 3 * 46 - 9
    lines = (roomy - 2 * 35) // 28  # caption lines that still fit with the title
    per_line = int(300 / (10.0 * 1.08))
    assert [p.side for p in placements(titled, True, ["a" * (per_line * (lines - 1))])][1] == 300
    assert 300 not in [p.side for p in placements(titled, True, ["a" * (per_line * (lines + 1))])]


def test_over_the_figure_the_player_takes_the_page_title_into_its_bar():
    """The page's title beside the bar's controls, in two lines at most, frees its row over the page: the figure
    starts that much higher (35 px). A title too long for the bar, or a screen too narrow for both, keeps the title's
    row; so does a page that gives no title."""
    titled = dataclasses.replace(PROJECTOR, title=35)
    title = "Forward pass: the sliding window"
    over = placements(titled, True, ["a short caption"], heading=title)[0]
    untitled = placements(titled, True, ["a short caption"])[0]
    assert over.title and over.side == 0 and not untitled.title
    assert over.box.height == untitled.box.height + 35 == 720 - 60 + 35 - 46 - 30 - 9 - ELEMENT_GAP_PX
    # The bar's controls take 830 px of the 1,248 px column: the title gets 418 px, two lines of 10 px characters.
    assert placements(titled, True, ["a short caption"], heading="x" * 75)[0].title  # 412 px
    assert not placements(titled, True, ["a short caption"], heading="x" * 77)[0].title  # 424 px
    narrow = Screen(1000, 720, 968, top=60, bar=46, line=28.0, char=10.0, title=35)  # 138 px for 176
    assert not placements(narrow, True, ["a short caption"], heading=title)[0].title
    assert not placements(PROJECTOR, True, ["a short caption"], heading=title)[0].title  # no title measured


@pytest.mark.parametrize("screen, presenter", [
    (PROJECTOR, False),  # a laptop in normal mode: the player stays over the figure
    (Screen(900, 720, 868, top=60, bar=46, line=28.0, char=10.0), True),  # too narrow for a column beside it
    (Screen(1280, 720, 1248), True),  # the player has not measured itself yet
    (None, True),
])
def test_the_player_stays_over_the_figure_elsewhere(screen, presenter):
    assert [p.side for p in placements(screen, presenter, captions=["a caption"])] == [0]


def test_a_caption_too_long_for_the_side_column_keeps_the_player_over_the_figure():
    assert len(placements(PROJECTOR, True, captions=["word " * 900])) == 1
    # One that fits only the wider column leaves that one.
    per_line = int(374 / (10.0 * 1.08))  # characters in a line of the 374 px column (char 10 px, bold 8 % wider)
    fits_wide = ["a" * (per_line * 17)]  # 17 lines of 28 px at 374 px; 22 at 300 px
    assert [p.side for p in placements(PROJECTOR, True, captions=fits_wide)] == [0, 374]


def test_the_player_goes_beside_a_tall_figure_not_beside_a_wide_one():
    shapes = STAGES["shapes"].trace_for(Settings(), build_arrays)  # one 6 x 6 panel: as tall as it is wide
    forward = STAGES["forward"].trace_for(Settings(), build_arrays)  # four panels in a row: wider than tall
    chosen = {}
    for trace in (shapes, forward):
        rows, captions = STAGES[trace.stage].rows_of(trace), caption_texts(trace, list(range(len(trace.steps))))
        chosen[trace.stage] = placement(trace, rows, PROJECTOR, True, captions)
        # It is the placement whose cells cover more.
        areas = {p.side: covered_px(grid_of(trace, rows, p.box)) for p in placements(PROJECTOR, True, captions)}
        assert areas[chosen[trace.stage].side] == max(areas.values())
    assert chosen["shapes"].side > 0 and chosen["forward"].side == 0


def test_the_room_chosen_is_arranged_once_and_its_figure_drawn_on_that_arrangement(monkeypatch):
    """Presenter mode compares each placement's grid, then draws the figure of the one chosen: the arrangement (up to
    30 ms a room on Gradient check) runs once per room, not again for the figure, and the figure is the one the same
    arguments give from scratch."""
    import convviz.ui.trace_view as tv

    trace_figure_module = importlib.import_module("convviz.figures.trace_figure")  # the package re-exports the function

    trace = STAGES["gradcheck"].trace_for(Settings(), build_arrays)
    rows, captions = STAGES["gradcheck"].rows_of(trace), caption_texts(trace, list(range(len(trace.steps))))
    tv.figure_store().clear()
    tv.grid_store().clear()
    calls = []

    def counted(*args, **kw):
        calls.append(kw["max_width"])
        return figure_grid(*args, **kw)

    for module in (tv, trace_figure_module):  # the page's comparisons, and the figure's own arrangement
        monkeypatch.setattr(module, "figure_grid", counted)
    chosen = placement(trace, rows, PROJECTOR, True, captions)
    rooms = len(placements(PROJECTOR, True, captions))
    assert rooms >= 2 and len(calls) == rooms
    fig = tv.figure_for(trace, rows, 0, None, chosen.box)
    assert len(calls) == rooms  # drawn on the grid placement arranged
    fresh = trace_figure(trace, rows=[list(r) for r in rows], cell_px=chosen.box.cell_px,
                         font_size=chosen.box.font_size, max_width=chosen.box.width, max_height=chosen.box.height,
                         controls=False, rearrange=True)
    assert fig.to_json() == fresh.to_json()
