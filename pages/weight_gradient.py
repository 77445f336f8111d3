"""Weight and bias gradients."""
from convviz.ui.page import options_of, page_context, pick_indices, show_trace

ctx = page_context(
    "Weight & bias gradients",
    "Each kernel tap (u, v) touched a whole grid of input cells, one per output position, spaced by the stride. "
    "Its gradient is the sum of those inputs weighted by the upstream gradient: a correlation of the input with "
    "`dout` dilated by the stride, summed over the batch. The bias touched every output cell, so its gradient "
    "is the sum of `dout`.",
    formula=(r"dw[f,c,u,v] = \sum_{n,i,j} dout[n,f,i,j]\; x_{pad}[n,c,\, iS_H + uD_H,\, jS_W + vD_W],\qquad "
         r"db[f] = \sum_{n,i,j} dout[n,f,i,j]"),
)
n, f = pick_indices("wg", n=("sample n (shown; dw sums all samples)", ctx.spec.n), f=("output channel f", ctx.spec.f))
show_trace("weight_grad", ctx.settings, options_of(n=n, f=f), about=ctx.about)
