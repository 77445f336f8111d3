"""Max pooling: forward maxima, backward routing, ties, overlapping windows."""
import streamlit as st

from convviz.ui.controls import stop_page
from convviz.ui.page import geometry_line, options_of, page_context, pick_indices, show_trace
from convviz.stages import pooling_of

ctx = page_context(
    "Max pooling: maxima forward, routing backward",
    "Max pooling keeps each window's largest value. Backward, each upstream gradient goes to the cell that was "
    "the maximum and nowhere else; on a tie the first maximum in row-major order takes it (PyTorch's rule). "
    "With a stride smaller than the window, one cell can win several windows and its gradients add up. "
    "Padding counts as minus infinity. This page uses the kernel size, stride and dilation from the sidebar "
    "(padding is limited to half the window, as in PyTorch). Try the 'ones' data to see ties.",
    formula=r"y[i,j] = \max_{u,v}\ x_{pad}[iS_H + uD_H,\ jS_W + vD_W],\qquad dx[\arg\max] \mathrel{+}= dout[i,j]",
    geometry=False,  # the facts below describe the pooling layer, not the sidebar's convolution
)
try:
    pool = pooling_of(ctx.spec)
except ValueError as err:
    st.error(f"These settings make no max-pooling layer. {err}")
    stop_page()
facts = [geometry_line(pool, pooling=True)]
if pool.padding != ctx.spec.padding:
    facts.append(f"Pooling pads each side like its top/left, at most half the window (PyTorch's rule): the sidebar's "
                 f"padding {ctx.spec.padding} becomes {pool.padding}.")
n, c = pick_indices("mp", n=("sample n", ctx.spec.n), c=("channel c", ctx.spec.c))
show_trace("maxpool", ctx.settings, options_of(n=n, c=c), about=ctx.about.with_facts(facts))
