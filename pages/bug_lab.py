"""Bug lab: classic mistakes switched on in the engine's real code, beside the correct result."""
import numpy as np
import pandas as pd
import streamlit as st

from convviz.bugs import BUGS, KINDS
from convviz.data import INPUT_PRESETS, KERNEL_PRESETS
from convviz.geometry import common_divisors
from convviz.ui.bug_lab import bug_lab, bug_lab_figure, exposing_settings
from convviz.ui.controls import apply_settings, page_controls, stop_page
from convviz.ui.page import escape_md, page_context, page_figure_box, show_about
from convviz.ui.settings import CHOICE_FIELDS, INT_BY_KEY

ctx = page_context(
    f"Bug lab: {len(BUGS)} classic mistakes",
    "Each bug below is one wrong line switched on inside the engine's own code (nothing here runs user code): "
    "convolution backward, the transposed convolution, grouped convolution, average pooling and a small network's "
    "backward. Some settings hide a bug completely; the check catches it as soon as the settings expose it. To test "
    "your own implementation, run `convviz.testing.check_conv2d` in a notebook.",
)
show_about(ctx.about)  # before the bug's lines: the figure here comes after the choice of bug
bug_id = st.selectbox("Bug", list(BUGS), format_func=lambda k: BUGS[k].title, key="bug_lab_bug")
bug = BUGS[bug_id]
kind = KINDS[bug.kind]
s = ctx.settings
if bug.kind == "transposed":  # the kind's own settings, as the page of that layer offers them
    tip = "a: extra rows/columns at the bottom/right of the output, smaller than the stride or the dilation"
    page_controls("oph", "opw", oph={"help": tip}, opw={"help": tip})
elif bug.kind == "grouped":
    page_controls("groups", groups={"options": common_divisors(s.cin, s.cout),
                                    "help": f"the numbers that divide both C = {s.cin} and F = {s.cout}"})
elif bug.kind == "avgpool":
    page_controls("cip", cip={"format_func": {"true": "padding counts", "false": "real cells only"}.get,
                              "help": "count_include_pad: what a window at a padded border is divided by"})
left, right = st.columns(2)
with left:
    st.markdown("**Wrong line**")
    st.code(bug.wrong, language="python")
with right:
    st.markdown("**Right line**")
    st.code(bug.right, language="python")
st.markdown(escape_md(bug.why) + f"  \nCode: {bug.where}.")


def pick_indices(prefix: str, **axes: tuple[str, int, int]) -> tuple[int, ...]:
    """Side-by-side selectors (label, count, the index shown first); an axis of size 1 gets none (index 0)."""
    shown = {name: axis for name, axis in axes.items() if axis[1] > 1}
    picked = dict.fromkeys(axes, 0)
    for column, (name, (label, count, first)) in zip(st.columns(max(len(shown), 1)), shown.items()):
        with column:
            picked[name] = int(st.selectbox(label, range(count), index=first, key=f"{prefix}_{name}"))
    return tuple(picked.values())


def expose_button() -> None:
    exposing = exposing_settings(s, bug_id)  # the same validation as a URL's
    shown = {"kernel": KERNEL_PRESETS, "data": INPUT_PRESETS}  # as the sidebar names a preset
    labels = {k: f.label for k, f in INT_BY_KEY.items()} | {k: c[0] for k, c in CHOICE_FIELDS.items()} | {"net": "network"}
    changes = ", ".join(f"{labels.get(k, k)} = {shown.get(k, {}).get(v, v)}" for k, v in bug.expose.items())
    st.button(f"Switch to {escape_md(changes)}", key="bug_lab_expose", on_click=apply_settings, args=(exposing,),
              help="Changes the settings here, keeping this bug selected.")


try:
    lab = bug_lab(s, bug_id)  # cached on the settings and the bug (a spinner while it computes)
except ValueError as err:  # the settings make a convolution but no layer of this bug's kind
    st.error(escape_md(f"These settings make no layer for this bug's code. {err}"))
    st.info("The button below switches to settings that expose the bug.")
    expose_button()
    stop_page()
run, check, name = lab.run, lab.check, lab.run.name
st.caption(escape_md(lab.layer))
if lab.exposed:
    st.warning("⚠️ The current settings expose this bug.")
else:
    st.info("🙈 The current settings hide this bug. The button below switches to settings that expose it.")
    expose_button()

(st.success if lab.live_ok else st.error)(("✓ " if lab.live_ok else "✗ ") + escape_md(lab.live_line))
st.markdown(escape_md(run.outcome))
samples, channels = run.result_ok.shape[:2]
wrong_at = np.argwhere(run.wrong_mask.any(axis=(2, 3)))  # (sample, channel) pairs with a wrong cell, in order
first_n, first_c = (int(i) for i in wrong_at[0]) if len(wrong_at) else (0, 0)  # open on one (a grouped bug spares group 0)
n, c = pick_indices(f"bug_{bug_id}", n=("sample n", samples, first_n), c=(kind.channel, channels, first_c))
box = page_figure_box()
fig = bug_lab_figure(s, bug_id, n, c, width=box.width, cell_px=int(min(box.cell_px, 96)))
st.plotly_chart(fig, key="bug_lab_fig", width="content", theme=None, config={"displaylogo": False, "scrollZoom": False})

# Errors as 2.00e-09, as the Gradient check page prints them (a float column showed 0.000000002).
rows = [(f"correct {name}", f"{check.correct.max_rel_error:.2e}", "✅ pass" if check.correct.passed else "❌ fail")]
if check.buggy is None:
    rows.append((f"buggy {name}", "–", "❌ fail: " + check.note))
else:
    rows.append((f"buggy {name}", f"{check.buggy.max_rel_error:.2e}", "✅ pass" if check.buggy.passed else "❌ fail"))
st.markdown(f"**{escape_md(kind.check)}**: {check.correct.checked} {escape_md(name)} entries, tolerance 1e-6")
st.dataframe(pd.DataFrame(rows, columns=["result", "max relative error", "verdict"]), hide_index=True)
