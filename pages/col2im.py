"""col2im: the input gradient by scatter-add, overlaps accumulating."""
from convviz.ui.page import options_of, page_context, pick_indices, show_trace

ctx = page_context(
    "col2im: the same gradient by scatter-add",
    "Backward through im2col: `dcols = W.T @ dout_cols` gives one gradient column per window, and col2im adds "
    "each column back where im2col read it. Where windows overlap (stride smaller than the kernel) the "
    "contributions must accumulate; plain fancy-index assignment keeps only one and silently loses gradient. "
    "The result equals the transposed-convolution gradient.",
    formula=r"dx_{pad}[n, c, iS_H + uD_H, jS_W + vD_W] \mathrel{+}= dcols[n, (c,u,v), (i,j)]",
)
(n,) = pick_indices("c2i", n=("sample n", ctx.spec.n))
show_trace("col2im", ctx.settings, options_of(n=n), about=ctx.about)
