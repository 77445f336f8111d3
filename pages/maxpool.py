"""Max pooling: forward maxima, backward routing, ties, overlapping windows."""
import streamlit as st

from convviz.pool import max_pool2d_argmax, max_pool2d_backward_spec
from convviz.ui.page import options_of, page_context, pick_indices, show_trace

ctx = page_context(
    "Max pooling: maxima forward, routing backward",
    "Max pooling keeps each window's largest value. Backward, each upstream gradient goes to the cell that was "
    "the maximum and nowhere else; on a tie the first maximum in row-major order takes it (PyTorch's rule). "
    "With a stride smaller than the window, one cell can win several windows and its gradients add up. "
    "Padding counts as minus infinity. This page uses the kernel size, stride and dilation from the sidebar "
    "(padding is limited to half the window, as in PyTorch). Try the 'ones' data to see ties.",
)
st.latex(r"y[i,j] = \max_{u,v}\ x_{pad}[iS_H + uD_H,\ jS_W + vD_W],\qquad dx[\arg\max] \mathrel{+}= dout[i,j]")
n, c = pick_indices("mp", n=("sample n", ctx.spec.n), c=("channel c", ctx.spec.c))
show_trace("maxpool", ctx.settings, options_of(n=n, c=c), rows=[["x", "y", "dout"], ["dx"]], clickable="y",
           code=[max_pool2d_argmax, max_pool2d_backward_spec])
