"""Methods & speed: the same layer by loops, im2col and strided views (and PyTorch), timed and compared."""
import streamlit as st

from convviz.figures.timing_figure import memory_figure, size_text, timing_figure
from convviz.geometry import ConvSpec
from convviz.timing import LOOP_BUDGET_SECONDS, budget_problems, time_methods, torch_version, work_of
from convviz.ui.controls import stop_page
from convviz.ui.methods import (
    REPORT_KEY,
    RUN_KEY,
    agreement_lines,
    padding_arg,
    request_run,
    size_inputs,
    timing_rows,
    timing_table,
)
from convviz.ui.page import escape_md, page_figure_box, page_header, settings_of_session

# The page's own layer sizes, not the sidebar's: no sidebar geometry here, and sidebar settings that make no valid
# layer must not stop it (page_context did, before its size inputs were drawn).
page_header(
    "Methods & speed",
    "The engine computes every pass several ways: the naive loops (the definition, one window at a time), "
    "im2col (copy every window into a column, then one matrix product) and strided windows (an `as_strided` "
    "view, no copy, then `einsum`); backward by loops, col2im (scatter-add) and the transposed convolution. "
    "Choose a layer size below (its own sizes, not the sidebar's) and press Run: each method is timed (best of a "
    "few runs) and checked against the loops. PyTorch runs too when it is installed (optional).",
)
try:
    settings_of_session().spec()
except ValueError as err:  # said, so the other pages' error is no surprise; this page goes on with its own sizes
    st.info(f"The sidebar's settings make no valid layer: {err} This page times a layer of its own sizes, below; "
            "the other pages need the sidebar fixed.")  # the engine's own message, as the other pages show it
values = size_inputs()
try:
    spec = ConvSpec.create(values["h"], values["w"], (values["kh"], values["kw"]), values["stride"],
                           padding_arg(values["padding"]), values["dilation"], n=values["n"], c=values["c"], f=values["f"])
except ValueError as err:
    st.error(f"These sizes do not make a valid layer. {err}")
    stop_page()
work = work_of(spec)
st.caption(escape_md(f"x {spec.input_shape} · w {spec.weight_shape} · padding (t, b, l, r) {spec.padding} → y {spec.output_shape} · "
                     f"{work.macs:,} multiply-adds · naive loops: {work.loop_windows:,} window products per pass"))
chart_width = page_figure_box().width  # the page's column, as the browser reported it (980 before it has)
st.plotly_chart(memory_figure(work, spec.kh, spec.kw, chart_width), key="cv_methods_memory", width="stretch",
                theme=None, config={"displaylogo": False, "staticPlot": True})
problems = budget_problems(spec)
if problems:
    for p in problems:
        st.error("✗ Too large to time here: " + escape_md(p))
else:
    st.success(f"✓ This layer fits the page's budget ({work.macs:,} multiply-adds, im2col matrix "
               f"{size_text(work.column_bytes)}); the naive loops run only if they fit {LOOP_BUDGET_SECONDS:g} s per pass.")
version = torch_version()
with_torch = st.checkbox(f"Include PyTorch {version} (optional)" if version else "Include PyTorch (not installed)",
                         value=bool(version), disabled=not version, key="cv_methods_torch")
# A callback records the press: a plain `if st.button(...)` would lose it if the run restarts (see shell.py's guard).
st.button("▶️ Run the timings", key="cv_methods_run", type="primary", disabled=bool(problems), on_click=request_run)
if st.session_state.pop(RUN_KEY, False) and not problems:
    bar = st.progress(0.0, text="Starting…")
    report = time_methods(spec, include_torch=with_torch and bool(version),
                          progress=lambda frac, text: bar.progress(min(max(frac, 0.0), 1.0), text=f"Timing {text}…"))
    bar.empty()
    st.session_state[REPORT_KEY] = report
report = st.session_state.get(REPORT_KEY)
if report is not None:
    st.header("Results")
    if report.spec != spec:
        st.info("These results are for the sizes of the last run: x " + escape_md(str(report.spec.input_shape)) + ", w "
                + escape_md(str(report.spec.weight_shape)) + ". Press Run to time the sizes above.")
    for ok, text in agreement_lines(report):
        (st.success if ok else st.error)(("✓ " if ok else "✗ ") + escape_md(text))
    rows = timing_rows(report)
    st.table(timing_table(rows))
    st.plotly_chart(timing_figure(rows, chart_width), key="cv_methods_times", width="stretch", theme=None,
                    config={"displaylogo": False, "displayModeBar": False})
    st.caption("Times are wall clock on this server, best of up to 5 runs, so other users' work can slow them. "
               "Loops are skipped when one (sample, filter) pair, timed first, projects over the budget.")
