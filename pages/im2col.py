"""im2col: index generation, the gather, one matrix product."""
import streamlit as st

from convviz.ui.page import options_of, page_context, pick_indices, show_trace

PARTS = ("1. Generating the index arrays", "2. Gathering the columns", "3. One matrix product")

ctx = page_context(
    "im2col: windows as columns, then one matrix product",
    "im2col copies every window into one column of a matrix, so the whole convolution becomes a single matrix "
    "product. The copy is driven by index arrays: `i0`/`j0` say where a tap sits inside the window, `i1`/`j1` "
    "where each window starts, and `k` which channel a row belongs to. Same layout as `torch.nn.functional.unfold`.",
)


(n,) = pick_indices("im2col", n=("sample n", ctx.spec.n))
# One part at a time, as tabs: only the open tab's figure is built and sent (opening another reruns the page), so a
# change of settings redraws one chart, not three (at the largest settings each is ~200 KB of plotly.js work).
index_tab, gather_tab, product_tab = st.tabs(list(PARTS), key="cv_im2col_part", on_change="rerun")
if index_tab.open:
    with index_tab:
        show_trace("im2col_indices", ctx.settings,
                   about=ctx.about.with_formula(r"i = i_0[:, \mathrm{None}] + i_1[\mathrm{None}, :],\quad "
                                                r"j = j_0[:, \mathrm{None}] + j_1[\mathrm{None}, :]"))
if gather_tab.open:
    with gather_tab:
        show_trace("im2col_gather", ctx.settings, options_of(n=n),
                   about=ctx.about.with_formula(r"\mathrm{cols}[n, r, l] = x_{pad}[n,\ k[r],\ i[r, l],\ j[r, l]]"))
if product_tab.open:
    with product_tab:
        show_trace("im2col_product", ctx.settings, options_of(n=n),
                   about=ctx.about.with_formula(r"Y = W_{(F,\ C K_H K_W)}\ \mathrm{cols}_{(C K_H K_W,\ OH \cdot OW)} + b,"
                                                r"\quad y = Y.\mathrm{reshape}(F, OH, OW)"))
from convviz.ui.quiz import quiz_box

quiz_box("im2col_column", ctx)
