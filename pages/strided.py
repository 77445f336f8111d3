"""Strided windows: the as_strided view, its shape and byte strides, memory shared with the input."""
from convviz.ui.page import options_of, page_context, pick_indices, show_trace

ctx = page_context(
    "Strided windows: every window as a view, no copy",
    "`numpy.lib.stride_tricks.as_strided` can present the padded input as a 6-D array "
    "(N, C, OH, OW, KH, KW) without copying a byte: it only changes how indices turn into memory addresses. "
    "Moving one window down jumps SH rows of bytes; moving one kernel tap down jumps DH rows. Wrong strides read "
    "the wrong memory with no error, so the view is made read-only.",
    formula=r"\mathrm{address}(n,c,i,j,u,v) = n\,s_N + c\,s_C + i\,S_H s_H + j\,S_W s_W + u\,D_H s_H + v\,D_W s_W",
)
(n,) = pick_indices("strided", n=("sample n", ctx.spec.n))
show_trace("strided", ctx.settings, options_of(n=n), about=ctx.about)
