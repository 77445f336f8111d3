"""Shapes & edge cases: output size, padding modes, the cells no window covers."""
from convviz.ui.page import page_context, show_trace

ctx = page_context(
    "Shapes & edge cases",
    "How big is the output, and which input cells does no window ever read? With stride above 1 the last "
    "`r = (H + top + bottom - EKH) mod SH` rows (and columns) of the padded input are skipped: they do not "
    "affect the output and get zero gradient. Rows in between can be skipped too: a stride longer than the effective "
    "kernel (a 1 x 1 kernel at stride 2) steps past them, and with stride 2 and dilation 2 every tap lands on an even "
    "padded row. Padding modes and even kernels change the numbers below.",
    formula=r"OH = \left\lfloor \frac{H + p_{top} + p_{bottom} - (D_H (K_H - 1) + 1)}{S_H} \right\rfloor + 1",
)
spec = ctx.spec
show_trace("shapes", ctx.settings, about=ctx.about)
from convviz.ui.quiz import quiz_box

quiz_box("output_size", ctx)
