"""The Methods & speed page under AppTest: inputs, the budget check, a run with its table, chart and agreement."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from convviz.timing import torch_version

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_methods(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    at.switch_page("pages/methods.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def set_sizes(at: AppTest, **sizes) -> AppTest:
    for key, value in sizes.items():
        if key == "padding":
            at.selectbox(key="cv_methods_padding").set_value(value)
        else:
            at.number_input(key=f"cv_methods_{key}").set_value(value)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_shows_inputs_memory_chart_and_budget_before_any_run():
    at = open_methods({"h": "7"})
    assert at.title[0].value == "Methods & speed"
    assert {n.key for n in at.number_input} >= {f"cv_methods_{k}" for k in ("n", "c", "h", "w", "f", "kh", "kw", "stride", "dilation")}
    assert len(at.get("plotly_chart")) == 1, "the memory chart"
    assert any("fits the page's budget" in s.value for s in at.success)
    assert not at.table, "no timings before Run"


def test_sidebar_settings_that_make_no_layer_do_not_stop_the_page():
    """The page times a layer of its own sizes: the sidebar's settings (here a 7 x 7 kernel over a 2 x 2 input, no
    valid layer) stopped it with "These settings do not make a valid layer" before its size inputs were drawn, and its
    geometry caption described the sidebar's layer, not the one timed."""
    at = open_methods({"h": "2", "w": "2", "kh": "7", "kw": "7"})
    assert not at.error, [e.value for e in at.error]
    assert any("sidebar's settings make no valid layer" in i.value for i in at.info)  # said, not an error box
    assert {n.key for n in at.number_input} >= {f"cv_methods_{k}" for k in ("n", "c", "h", "w", "f", "kh", "kw")}
    captions = " ".join(c.value for c in at.caption)
    assert "x (2, 8, 32, 32)" in captions  # the page's own default layer
    assert "(1, 1, 2, 2)" not in captions and "OH = " not in captions  # nothing about the sidebar's layer
    assert len(at.get("plotly_chart")) == 1, "the memory chart"


def test_run_times_every_method_and_they_agree():
    at = set_sizes(open_methods(), n=1, c=2, h=12, w=10, f=3, kh=3, kw=2, stride=2, padding="same")
    # By hand: 'same' at stride 2 gives OH = ceil(12/2) = 6, OW = ceil(10/2) = 5.
    assert any("→ y (1, 3, 6, 5)" in c.value for c in at.caption), [c.value for c in at.caption]
    at.button(key="cv_methods_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.table[0].value
    methods = list(zip(table["pass"], table["method"]))
    expected = [("forward", "loops"), ("forward", "im2col"), ("forward", "strided"),
                ("backward", "loops"), ("backward", "col2im"), ("backward", "transposed")]
    if torch_version():
        expected += [("forward", "pytorch (optional)"), ("backward", "pytorch (optional)")]
    assert sorted(methods) == sorted(expected)
    assert "not run" not in set(table["best time"]), "a small layer runs every method, loops included"
    assert all(t.endswith(" ms") and float(t.split()[0]) > 0 for t in table["best time"])
    assert set(table.loc[table["method"] == "loops", "max |diff| vs reference"]) == {"reference"}
    diffs = [float(d) for d in table["max |diff| vs reference"] if d != "reference"]
    assert diffs and max(diffs) < 1e-9
    agree = [s.value for s in at.success if "agree with loops" in s.value]
    assert len(agree) == 2, [s.value for s in at.success]
    assert not at.error
    assert len(at.get("plotly_chart")) == 2, "memory chart and timing chart"
    assert "cv_methods_report" in at.session_state


def test_results_say_when_they_belong_to_other_sizes():
    at = set_sizes(open_methods(), n=1, c=1, h=8, w=8, f=1)
    at.button(key="cv_methods_run").click().run()
    set_sizes(at, h=9)
    assert any("sizes of the last run" in i.value for i in at.info)


def test_a_layer_over_the_budget_is_refused_with_the_reason():
    at = set_sizes(open_methods(), n=8, c=32, h=128, w=128, f=32, kh=7, kw=7)
    assert any("Too large to time here" in e.value and "multiply-adds" in e.value for e in at.error)
    assert at.button(key="cv_methods_run").disabled


def test_an_impossible_layer_is_explained_not_raised():
    at = set_sizes(open_methods({"h": "9"}), h=3, w=3, kh=7, kw=7, padding="valid")
    assert any("do not make a valid layer" in e.value and "kernel_size" in e.value for e in at.error)
    # The page stopped early; the shared controls are still drawn and keep their values (a control left undrawn
    # in a run would lose its state, resetting the user's settings).
    assert at.sidebar.slider(key="cv_h").value == 9
    at.run()
    assert at.sidebar.slider(key="cv_h").value == 9


def test_small_sizes_and_slow_ratios_keep_their_digits():
    """A layer's copy under 10 KB read '0.00 MB' and a method slower than the loops '0x' (a 0.41x ratio)."""
    from convviz.figures.timing_figure import memory_figure, size_text
    from convviz.geometry import ConvSpec
    from convviz.timing import work_of
    from convviz.ui.methods import ratio_text

    assert [size_text(n) for n in (288, 2304, 1_600_000)] == ["288 B", "2.25 KB", "1.53 MB"]
    assert [ratio_text(x) for x in (0.4113, 3.14, 45.6, 1234.4)] == ["0.41x", "3.1x", "46x", "1,234x"]
    spec = ConvSpec.create(6, 6, 3)
    work = work_of(spec)
    text = memory_figure(work, 3, 3).data[0].text
    assert text[0] == size_text(work.input_bytes) == f"{6 * 6 * 8} B"
    assert text[1].startswith(f"{size_text(work.column_bytes)}<br>(") and "0.00" not in text[1]
    assert memory_figure(work, 3, 3).data[0].textposition == "outside"  # the zero-length bars show theirs too


def test_the_charts_take_the_columns_width_and_a_phones_times_stand_across_their_bars():
    """On a phone the timing chart's bars are a few pixels wide: side by side, their times ran into each other. The
    charts take the page column's width (at most 860 px); below 600 px each time is turned across its bar."""
    from convviz.figures.timing_figure import memory_figure, timing_figure
    from convviz.geometry import ConvSpec
    from convviz.timing import work_of

    rows = [{"pass": p, "method": m, "seconds": s} for p in ("forward", "backward")
            for m, s in (("loops", 0.07), ("im2col", 2e-4), ("strided", 2.2e-4))]
    phone, laptop = timing_figure(rows, 366), timing_figure(rows, 1200)
    assert phone.layout.width == 366 and laptop.layout.width == 860
    assert {t.textangle for t in phone.data} == {-90} and {t.textangle for t in laptop.data} == {None}
    assert all(t.cliponaxis is False for t in phone.data)  # the tallest bar's time may stand over the plot
    assert memory_figure(work_of(ConvSpec.create(6, 6, 3)), 3, 3, 366).layout.width == 366
