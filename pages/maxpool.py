"""Pooling: max (forward maxima, backward routing, ties) and average (divisors, gradients spread evenly)."""
import streamlit as st

from convviz.stages import pooling_of
from convviz.ui.controls import page_controls, stop_page
from convviz.ui.page import geometry_line, options_of, page_context, pick_indices, settings_of_session, show_trace

MAX_INTRO = (
    "Max pooling keeps each window's largest value. Backward, each upstream gradient goes to the cell that was "
    "the maximum and nowhere else; on a tie the first maximum in row-major order takes it (PyTorch's rule). "
    "With a stride smaller than the window, one cell can win several windows and its gradients add up. "
    "Padding counts as minus infinity. Try the 'ones' data to see ties."
)
AVG_INTRO = (
    "Average pooling replaces each window by its mean. Backward, each upstream gradient is spread evenly over its "
    "window: every cell gets `dout / divisor`, and where windows overlap the shares add up. At a padded border the "
    "divisor is the whole window (`count_include_pad=True`, PyTorch's default: the padding's share of the gradient is "
    "lost) or only the real cells (`False`: every share reaches the input)."
)
SHARED = (" This page uses the kernel size, stride and dilation from the sidebar (padding is limited to half the window, "
          "as in PyTorch).")
FORMULAS = {
    "max": r"y[i,j] = \max_{u,v}\ x_{pad}[iS_H + uD_H,\ jS_W + vD_W],\qquad dx[\arg\max] \mathrel{+}= dout[i,j]",
    "avg": (r"y[i,j] = \frac{1}{d_{ij}} \sum_{u,v} x_{pad}[iS_H + u,\ jS_W + v],\qquad "
            r"dx[iS_H + u,\ jS_W + v] \mathrel{+}= \frac{dout[i,j]}{d_{ij}}"),
}

kind = settings_of_session().pool


def own_controls() -> None:
    page_controls("pool", *(("cip",) if kind == "avg" else ()),
                  pool={"format_func": {"max": "Max", "avg": "Average"}.get,
                        "help": "max: the largest value of each window; avg: the mean"},
                  cip={"format_func": {"true": "padding counts", "false": "real cells only"}.get,
                       "help": "count_include_pad: what a window at a padded border is divided by"})


ctx = page_context(
    "Pooling: max and average",
    (MAX_INTRO if kind == "max" else AVG_INTRO) + SHARED,
    formula=FORMULAS[kind],
    geometry=False,  # the facts below describe the pooling layer, not the sidebar's convolution
    controls=own_controls,
)
try:
    pool = pooling_of(ctx.spec)
except ValueError as err:
    st.error(f"These settings make no pooling layer. {err}")
    stop_page()
facts = [geometry_line(pool, pooling=True)]
if pool.padding != ctx.spec.padding:
    facts.append(f"Pooling pads each side like its top/left, at most half the window (PyTorch's rule): the sidebar's "
                 f"padding {ctx.spec.padding} becomes {pool.padding}.")
n, c = pick_indices("mp", n=("sample n", ctx.spec.n), c=("channel c", ctx.spec.c))
if kind == "max":
    show_trace("maxpool", ctx.settings, options_of(n=n, c=c), about=ctx.about.with_facts(facts))
else:
    show_trace("avgpool", ctx.settings, options_of(n=n, c=c, cip=ctx.settings.cip), about=ctx.about.with_facts(facts))
