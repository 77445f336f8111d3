"""Forward pass as a sliding window."""
from convviz.ui.page import options_of, page_context, pick_indices, show_trace

ctx = page_context(
    "Forward pass: the sliding window",
    "Each output cell is the bias plus the sum of a window of the padded input multiplied element-wise by the "
    "kernel (deep learning's convolution is cross-correlation: the kernel is not flipped). The window moves by "
    "the stride; dilation spreads its taps apart. Click an output cell to jump to it.",
    formula=r"y[n,f,i,j] = b[f] + \sum_{c,u,v} w[f,c,u,v]\; x_{pad}[n,\, c,\, i S_H + u D_H,\, j S_W + v D_W]",
)
n, f = pick_indices("fwd", n=("sample n", ctx.spec.n), f=("output channel f", ctx.spec.f))
show_trace("forward", ctx.settings, options_of(n=n, f=f), about=ctx.about)
from convviz.ui.quiz import quiz_box

quiz_box("window_cells", ctx)
