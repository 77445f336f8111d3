"""Bug lab: classic backward bugs switched on in the engine's real code, beside the correct result."""
import pandas as pd
import streamlit as st

from convviz.bugs import BUGS
from convviz.data import INPUT_PRESETS, KERNEL_PRESETS
from convviz.ui.bug_lab import bug_lab, bug_lab_figure
from convviz.ui.controls import apply_settings
from convviz.ui.page import escape_md, page_context, page_figure_box, pick_indices, show_about
from convviz.ui.settings import CHOICE_FIELDS, INT_BY_KEY, parse_query, to_query

ctx = page_context(
    "Bug lab: six classic mistakes",
    "Each bug below is one wrong line switched on inside the engine's own backward code (nothing here runs user "
    "code). Some settings hide a bug completely; the gradient check catches it as soon as the settings expose it. "
    "To test your own implementation, run `convviz.testing.check_conv2d` in a notebook.",
)
show_about(ctx.about)  # before the bug's lines: the figure here comes after the choice of bug
bug_id = st.selectbox("Bug", list(BUGS), format_func=lambda k: BUGS[k].title, key="bug_lab_bug")
bug = BUGS[bug_id]
left, right = st.columns(2)
with left:
    st.markdown("**Wrong line**")
    st.code(bug.wrong, language="python")
with right:
    st.markdown("**Right line**")
    st.code(bug.right, language="python")
st.markdown(escape_md(bug.why) + f"  \nMethod: `{bug.method}` backward.")

lab = bug_lab(ctx.settings, bug_id)  # cached on the settings and the bug (a spinner while it computes)
run, check = lab.run, lab.check
if lab.exposed:
    st.warning("⚠️ The current settings expose this bug.")
else:
    exposing, _ = parse_query({**to_query(ctx.settings), **bug.expose})  # the same validation as a URL's
    shown = {"kernel": KERNEL_PRESETS, "data": INPUT_PRESETS}  # as the sidebar names a preset
    changes = ", ".join(f"{INT_BY_KEY[k].label if k in INT_BY_KEY else CHOICE_FIELDS[k][0]} = {shown.get(k, {}).get(v, v)}"
                        for k, v in bug.expose.items())
    st.info("🙈 The current settings hide this bug. The button below switches to settings that expose it.")
    st.button(f"Switch to {escape_md(changes)}", key="bug_lab_expose", on_click=apply_settings, args=(exposing,),
              help="Changes the sidebar's settings here, keeping this bug selected.")

(st.success if lab.live_ok else st.error)(("✓ " if lab.live_ok else "✗ ") + escape_md(lab.live_line))
st.markdown(escape_md(run.outcome))
n, c = pick_indices("bug", n=("sample n", ctx.spec.n), c=("input channel c", ctx.spec.c))
box = page_figure_box()
fig = bug_lab_figure(ctx.settings, bug_id, n, c, width=box.width, cell_px=int(min(box.cell_px, 96)))
st.plotly_chart(fig, key="bug_lab_fig", width="content", theme=None, config={"displaylogo": False, "scrollZoom": False})

# Errors as 2.00e-09, as the Gradient check page prints them (a float column showed 0.000000002).
rows = [("correct dx", f"{check.correct.max_rel_error:.2e}", "✅ pass" if check.correct.passed else "❌ fail")]
if check.buggy is None:
    rows.append(("buggy dx", "–", "❌ fail: " + check.note))
else:
    rows.append(("buggy dx", f"{check.buggy.max_rel_error:.2e}", "✅ pass" if check.buggy.passed else "❌ fail"))
st.markdown(f"**Gradient check** (central differences, {check.correct.checked} dx entries, tolerance 1e-6)")
st.dataframe(pd.DataFrame(rows, columns=["gradient", "max relative error", "verdict"]), hide_index=True)
