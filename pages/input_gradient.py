"""Input gradient as a transposed convolution: dilate, pad, rotate, slide, crop."""
from convviz.ui.page import options_of, page_context, pick_indices, show_trace

ctx = page_context(
    "Input gradient: dilate, pad, rotate 180°, slide, crop",
    "The gradient with respect to the input is the upstream gradient `dout` spread back through the same "
    "windows. Written as a convolution: put SH-1 zeros between its rows (dilate), pad it by EKH-1, plus the "
    "remainder rows no window reached, slide the 180°-rotated kernel over it with stride 1, and crop the forward "
    "padding off. Each of the five steps is a classic place for a bug.",
    formula=(r"dx = \mathrm{crop}\Big(\mathrm{conv}_{stride=1}\big(\mathrm{pad}_{EK-1,\ EK-1+r}(\mathrm{dilate}_S(dout)),\ "
         r"\mathrm{rot}_{180}(w)^{T}\big)\Big)"),
)
n, c = pick_indices("tr", n=("sample n", ctx.spec.n), c=("input channel c", ctx.spec.c))
show_trace("transposed", ctx.settings, options_of(n=n, c=c), about=ctx.about)
from convviz.ui.quiz import quiz_box

quiz_box("gradient", ctx)
