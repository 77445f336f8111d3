"""The figure follows the room it has: the arrangement of panels, the cells fitted to a width and a height, and the
figure for the page's player (no Plotly player or titles of its own)."""
import json

import pytest

from convviz.figures import trace_figure
from convviz.figures.arrange import arrange, covered_px, fit_height, row_splits, short_titles, stacked
from convviz.figures.encoding import meta_of
from convviz.figures.grid import MIN_CELL_PX, grid_layout, layout_cells, stack_px, stacks, subplots, title_lines
from convviz.stages import STAGES
from tests.figure_support import px_per_cell

FORWARD_ROWS = [["xpad", "w"], ["products", "y"]]


def default_trace(stage: str):
    """The stage's trace at the app's default settings."""
    from convviz import data as cvdata
    from convviz.ui.context import Arrays
    from convviz.ui.settings import Settings

    s = Settings()
    spec = s.spec()
    a = Arrays(cvdata.make_input(spec, s.data, s.seed), cvdata.make_kernel(spec, s.kernel, s.seed),
               cvdata.make_bias(spec, s.kernel, s.seed), cvdata.make_dout(spec.output_shape, s.seed))
    return STAGES[stage].build(spec, a)


@pytest.fixture(scope="module")
def forward():
    return default_trace("forward")


def names(grid) -> list[list[str]]:
    return [list(dict.fromkeys(c.panel.name for c in row)) for row in grid.rows]


def test_row_splits_keep_reading_order_and_start_with_the_pages_rows():
    splits = row_splits([["a", "b"], ["c", "d", "e"]])
    assert splits[0] == [["a", "b"], ["c", "d", "e"]]
    assert splits[1] == [["a", "b", "c", "d", "e"]]  # the page's rows joined come before any other split
    three = row_splits([["a"], ["b", "c"], ["d"]])
    assert three[:4] == [[["a"], ["b", "c"], ["d"]], [["a", "b", "c", "d"]], [["a", "b", "c"], ["d"]],
                         [["a"], ["b", "c", "d"]]]
    assert [["a", "b", "c", "d", "e"]] in splits and [["a"], ["b"], ["c"], ["d"], ["e"]] in splits
    for split in splits:
        assert [n for row in split for n in row] == ["a", "b", "c", "d", "e"]
    assert len(splits) == len({json.dumps(s) for s in splits})


def test_a_wide_short_screen_gets_the_panels_side_by_side_and_a_phone_gets_them_stacked(forward):
    def best(width, height):
        return arrange(forward, FORWARD_ROWS, 0, width=width, height=height, cell_px=140.0, font_size=18, text=None,
                       max_cells=12_800, max_side=256)

    assert names(best(1888, 600)) == [["xpad", "w", "products", "y"]]
    assert all(len(row) == 1 for row in names(best(360, None)))
    # Whatever is chosen covers at least as much as the page's own rows.
    own = arrange(forward, FORWARD_ROWS, 0, width=1888, height=600, cell_px=140.0, font_size=18, text=None,
                  max_cells=12_800, max_side=256, rearrange=False)
    assert names(own) == FORWARD_ROWS and covered_px(best(1888, 600)) >= covered_px(own)


@pytest.mark.parametrize("width, height", [(1888, 880), (1248, 480), (1100, 600), (700, 420)])
def test_the_figure_fits_its_room_with_the_largest_cells_that_do(forward, width, height):
    fig = trace_figure(forward, rows=FORWARD_ROWS, max_width=width, max_height=height, cell_px=140.0, font_size=18,
                       controls=False, rearrange=True)
    assert fig.layout.width <= width and fig.layout.height <= height
    # one size larger would not fit: the layout's cells are the largest the room allows (or the cap)
    cells = max(min(v) for v in px_per_cell(json.loads(fig.to_json())).values())  # a grid is drawn at its smaller scale
    bigger = trace_figure(forward, rows=FORWARD_ROWS, max_width=width, max_height=height + 40, cell_px=140.0,
                          font_size=18, controls=False, rearrange=True)
    assert max(min(v) for v in px_per_cell(json.loads(bigger.to_json())).values()) >= cells


def test_the_height_never_shrinks_cells_below_the_floor(forward):
    fig = trace_figure(forward, rows=FORWARD_ROWS, max_width=1200, max_height=120, min_cell_px=24.0, cell_px=72.0,
                       controls=False)
    assert min(v[0] for v in px_per_cell(json.loads(fig.to_json())).values()) >= 24.0 - 1e-6
    assert fig.layout.height > 120  # taller than asked: readable cells come first
    cells = layout_cells(forward, FORWARD_ROWS, 0)
    assert all(c.shape[0] > 0 for row in cells for c in row) and MIN_CELL_PX < 24.0


def test_the_pages_figure_leaves_playing_and_captions_to_the_player(forward):
    """On the page the player steps the figure and shows the caption: no Plotly buttons, slider or title, frames that
    change only cells and outlines; a file keeps Plotly's player and each frame's step title."""
    bare = json.loads(trace_figure(forward, clickable="y", controls=False).to_json())
    lay = bare["layout"]
    assert "updatemenus" not in lay and "sliders" not in lay and "title" not in lay
    assert all("title" not in f["layout"] for f in bare["frames"]) and len(bare["frames"]) > 1
    assert meta_of(bare)["frame_steps"] == [int(f["name"]) for f in bare["frames"]]
    full = json.loads(trace_figure(forward, clickable="y").to_json())
    assert full["layout"]["updatemenus"] and full["layout"]["sliders"]
    assert all(f["layout"]["title"]["text"].startswith(f"<b>Step {int(f['name']) + 1}/") for f in full["frames"])
    assert lay["height"] < full["layout"]["height"]  # the room for Plotly's player and titles is given to the cells


def test_a_short_wide_room_keeps_long_titles_of_narrow_panels_to_two_lines():
    """The gradient check's panels in a 1248 x 440 room: its bias panels are one cell wide under titles such as
    "db: central difference". As narrow as their words allow, those titles take three lines and make their row taller;
    in two lines the panels are a little wider and the rows shorter, and the cells come out larger."""
    trace = default_trace("gradcheck")
    rows = [list(r) for r in STAGES["gradcheck"].rows]
    grid = arrange(trace, rows, 0, width=1248, height=440, cell_px=140.0, font_size=15, text=None, max_cells=12_800,
                   max_side=256)
    assert all(len(title_lines(sub, px, dpx, 15)) <= 2
               for row, px, dpx in zip(grid.rows, grid.px, grid.drawn_px) for sub in subplots(row))
    kept = [[c.panel.name for c in r] for r in grid.rows]
    narrow = grid_layout(layout_cells(trace, kept, 0), width=1248, cell_px=min(grid.px), font_size=15, text=None)
    assert max(len(title_lines(sub, px, dpx, 15)) for row, px, dpx in zip(narrow.rows, narrow.px, narrow.drawn_px)
               for sub in subplots(row)) == 3, "the case no longer needs short titles: pick another"
    short = grid_layout(short_titles(layout_cells(trace, kept, 0)), width=1248, cell_px=min(grid.px), font_size=15,
                        text=None)
    assert short.plot_h < narrow.plot_h  # same cells, shorter rows


def test_short_panels_go_one_under_the_other_beside_a_tall_one(forward):
    """On a projector's 1888 x 800 room Forward's kernel and its window's products (3 x 3 each) share a column beside
    the 6 x 6 input: the cells are then larger than with the four panels in a row."""
    def best(**kw):
        return arrange(forward, FORWARD_ROWS, 0, width=1888, height=800, cell_px=180.0, font_size=18, text=None,
                       max_cells=12_800, max_side=256, **kw)

    grid = best()
    assert names(grid) == [["xpad", "w", "products", "y"]]
    assert [c.panel.name for c in grid.rows[0] if c.under] == ["products"]
    assert len(stacks(grid.rows[0])) == 3
    # The column is as tall as its two grids and the lower one's title room, and fits the room with the row's title.
    col = stacks(grid.rows[0])[1]
    assert grid.body_px[0] == pytest.approx(max(6 * grid.drawn_px[0], stack_px(col, grid.px[0], grid.drawn_px[0], 18)))
    assert stack_px(col, grid.px[0], grid.drawn_px[0], 18) > 6 * grid.drawn_px[0]
    assert grid.plot_h <= 800
    flat = arrange(forward, [["xpad", "w", "products", "y"]], 0, width=1888, height=800, cell_px=180.0, font_size=18,
                   text=None, max_cells=12_800, max_side=256, rearrange=False)
    assert grid.drawn_px[0] > flat.drawn_px[0]
    assert stacked(layout_cells(forward, [["xpad", "y"]])) is None  # nothing short enough to share a column


def test_two_short_panels_share_a_column_taller_than_their_row_when_the_width_held_the_cells_back():
    """Max pooling on a projector's 1888 x 880 room: x (6 x 6), y and dout (4 x 4 each), dx (6 x 6) in one row are
    held by the width; y over dout (8 rows, taller than x) beside x and dx makes the row narrower, and the cells
    cover clearly more than in any arrangement whose columns stay within the tallest panel."""
    trace = default_trace("maxpool")
    rows = [list(r) for r in STAGES["maxpool"].rows]
    cells = layout_cells(trace, [["x", "y", "dout", "dx"]])
    assert stacked(cells) is None  # y and dout together (8) are taller than x (6)
    taller = stacked(cells, taller=True)
    assert [[(c.panel.name, c.under) for c in row] for row in taller] == [
        [("x", False), ("y", False), ("dout", True), ("dx", False)]]
    assert stacked(layout_cells(trace, [["x", "dx"]]), taller=True) is None  # neither is shorter than the other

    grid = arrange(trace, rows, 0, width=1888, height=880, cell_px=180.0, font_size=18, text=None, max_cells=12_800,
                   max_side=256)
    assert names(grid) == [["x", "y", "dout", "dx"]]
    assert [c.panel.name for c in grid.rows[0] if c.under] == ["dout"]
    assert grid.plot_h <= 880
    # The best the arrangements without such a column reach: the page's rows and every split of them, as they are.
    flat = max((fit_height(layout_cells(trace, split), width=1888, height=880, cell_px=180.0, font_size=18, text=None,
                           min_px=MIN_CELL_PX) for split in row_splits(rows)), key=covered_px)
    assert covered_px(grid) > 1.15 * covered_px(flat) and min(grid.drawn_px) > min(flat.drawn_px)


@pytest.mark.parametrize("room", [(1888, 880, 180.0, 18), (1400, 700, 72.0, 13), (1100, 600, 72.0, 13)])
def test_gradient_check_keeps_each_gradients_three_panels_in_one_row(room):
    """Analytic, numeric and their relative error side by side for dx, dw and db alike, in whatever rows the room
    gives them: a split of nine panels into even rows would leave dw's analytic panel above its numeric one."""
    trace = default_trace("gradcheck")
    rows = [list(r) for r in STAGES["gradcheck"].rows]
    width, height, cell_px, font_size = room
    grid = arrange(trace, rows, 0, width=width, height=height, cell_px=cell_px, font_size=font_size, text=None,
                   max_cells=12_800, max_side=256)
    row_of = {name: k for k, row in enumerate(names(grid)) for name in row}
    for page_row in rows:
        assert len({row_of[n] for n in page_row}) == 1, names(grid)
    assert len(grid.rows) < len(rows)  # wide rooms join the page's rows


def _domains(fig) -> dict[str, tuple[list[float], list[float]]]:
    """Each panel's subplot (x domain, y domain), by the panel name its value heatmap carries."""
    lay = fig.layout.to_plotly_json()
    return {t["meta"]: (lay["xaxis" + t["xaxis"][1:]]["domain"], lay["yaxis" + t["yaxis"][1:]]["domain"])
            for t in fig.to_dict()["data"] if t["type"] == "heatmap" and t.get("hovertemplate")}


@pytest.mark.parametrize("room", [(1248, 470, 140.0, 15), (1100, 600, 72.0, 13), (1334, 520, 72.0, 13),
                                  (980, 530, 72.0, 13)])
def test_im2col_draws_each_broadcast_sum_as_an_addition_table(room):
    """i = i0 + i1: i sits under i1 (the same columns) and beside i0 (the same rows), and likewise j, so each entry
    reads off its row's and column's terms, in a projector's room and a laptop's alike (on a laptop j0 once went
    under k, below j's rows, for a little more area)."""
    trace = default_trace("im2col_indices")
    rows = [list(r) for r in STAGES["im2col_indices"].rows]
    width, height, cell_px, font_size = room
    fig = trace_figure(trace, rows=rows, cell_px=cell_px, font_size=font_size, max_width=width, max_height=height,
                       controls=False, rearrange=True)
    dom = _domains(fig)
    for total, row_terms, col_terms in (("i", "i0", "i1"), ("j", "j0", "j1")):
        (x, y), (x_rows, y_rows), (x_cols, y_cols) = dom[total], dom[row_terms], dom[col_terms]
        assert x[0] == pytest.approx(x_cols[0]) and x[1] == pytest.approx(x_cols[1])  # same columns, one over the other
        assert y_cols[0] > y[1]
        assert y == pytest.approx(y_rows)  # same rows, side by side
        assert x_rows[1] < x[0]
    assert dom["k"][1] == pytest.approx(dom["j0"][1])  # the channel index, level with the kernel column index


def test_im2col_fits_its_seven_arrays_in_one_row_on_a_projector():
    """In a projector's room the seven arrays fit one row, with larger cells than in the page's two rows; i1's and
    j1's tops are the only ones above the other five."""
    trace = default_trace("im2col_indices")
    rows = [list(r) for r in STAGES["im2col_indices"].rows]
    fig = trace_figure(trace, rows=rows, cell_px=140.0, font_size=15, max_width=1248, max_height=470, controls=False,
                       rearrange=True)
    assert len({round(y[1], 6) for _, y in _domains(fig).values()}) == 2

    def best(**kw):
        return arrange(trace, rows, 0, width=1248, height=470, cell_px=140.0, font_size=15, text=None,
                       max_cells=12_800, max_side=256, **kw)

    grid, page_rows = best(), best(rearrange=False)
    assert len(grid.rows) == 1 and min(grid.drawn_px) > min(page_rows.drawn_px)


def _rects(fig) -> list[tuple[float, float, float, float]]:
    lay = fig.layout.to_plotly_json()
    return [(*lay[k]["domain"], *lay["yaxis" + k[5:]]["domain"]) for k in lay if k.startswith("xaxis")]


@pytest.mark.parametrize("stage", sorted(STAGES))
@pytest.mark.parametrize("room", [(1888, 800), (1248, 470), (1334, 520), (366, None)])
def test_no_two_subplots_overlap_whatever_the_arrangement(stage, room):
    """Every subplot (x domain x y domain, in paper coordinates) is clear of every other, in whatever rows and columns
    the room gave the panels, stacked columns included."""
    from convviz.ui.context import build_arrays
    from convviz.ui.settings import Settings

    trace = STAGES[stage].trace_for(Settings(), build_arrays)
    fig = trace_figure(trace, rows=[list(r) for r in STAGES[stage].rows_of(trace)], cell_px=140.0, font_size=15,
                       max_width=room[0], max_height=room[1], controls=False, rearrange=True)
    rects = _rects(fig)
    assert rects
    for i, (x0, x1, y0, y1) in enumerate(rects):
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1, rects[i]
        for a0, a1, b0, b1 in rects[:i]:
            assert x1 <= a0 + 1e-9 or a1 <= x0 + 1e-9 or y1 <= b0 + 1e-9 or b1 <= y0 + 1e-9, (rects[i], (a0, a1, b0, b1))
