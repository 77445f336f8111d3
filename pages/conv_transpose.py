"""Transposed convolution: as a scatter, as a direct convolution, and as the input gradient of a convolution."""
from urllib.parse import urlencode

import streamlit as st

from convviz.ui.controls import page_controls
from convviz.ui.page import escape_md, options_of, page_context, pick_indices, show_trace
from convviz.ui.settings import INT_BY_KEY, Settings, to_query

PARTS = ("1. As a scatter", "2. As a direct convolution", "3. As the gradient of a convolution")
# Dumoulin & Visin, "A guide to convolution arithmetic for deep learning" (2016), chapter 4: each transposed case as
# this page's settings (the transposed layer's own input i', kernel k, stride s, padding p, output padding a).
GUIDE = (
    ("No padding, unit strides (relationship 8)", dict(h=2, k=3, s=1, p=0, a=0), 4),
    ("Zero padding, unit strides (relationship 9)", dict(h=6, k=4, s=1, p=2, a=0), 5),
    ("Half padding (relationship 10)", dict(h=5, k=3, s=1, p=1, a=0), 5),
    ("Full padding (relationship 11)", dict(h=7, k=3, s=1, p=2, a=0), 5),
    ("No padding, non-unit strides (relationship 12)", dict(h=2, k=3, s=2, p=0, a=0), 5),
    ("Padding, non-unit strides (relationship 13)", dict(h=3, k=3, s=2, p=1, a=0), 5),
    ("Padding, non-unit strides, odd case (relationship 14)", dict(h=3, k=3, s=2, p=1, a=1), 6),
)


def guide_query(h: int, k: int, s: int, p: int, a: int) -> dict[str, str]:
    """A guide case as this page's URL query: square input, kernel, stride, padding and output padding."""
    case = Settings(h=h, w=h, kh=k, kw=k, sh=s, sw=s, pad="custom" if p else "valid", pt=p, pb=p, pl=p, pr=p,
                    oph=a, opw=a)
    return to_query(case)


def own_controls() -> None:
    tip = ("a: extra rows/columns at the bottom/right of the output, smaller than the stride or the dilation; picks "
           "which forward input size the layer inverts")
    page_controls("oph", "opw", oph={"help": tip}, opw={"help": tip})


ctx = page_context(
    "Transposed convolution: scatter, direct, gradient",
    "A transposed convolution maps a small input x' to a larger output y'. Three views give the same numbers: every "
    "input cell **stamps** a copy of the kernel, scaled by its value, onto the output S cells apart (overlaps add "
    "up); or insert S−1 zeros between the input cells, pad, and slide the **180°-rotated** kernel with stride 1; or "
    "take x' as the upstream gradient of the forward convolution whose shapes it inverts: its input gradient is y'. "
    "The sidebar's H × W is the transposed layer's own input i', C its input channels and F its output channels; "
    "padding p crops rows from each side of the output, and the output padding a (below) adds rows at the bottom "
    "and right.",
    formula=r"o' = S\,(i' - 1) + D\,(K - 1) + 1 - 2p + a",
    geometry=False,
    layer=Settings.transposed,
    controls=own_controls,
    grouped=False,  # a transposed layer with groups is in the engine (conv_transpose2d), not drawn here
)
t = ctx.spec  # the TransposedSpec of these settings
fs = t.forward_spec()
facts = [f"x {t.input_shape} is the layer's input x' · w {t.weight_shape} (CIN, COUT, KH, KW) · stride {t.stride} · "
         f"padding p {t.padding} · "
         f"output padding a {t.output_padding} · dilation {t.dilation} → y' {t.output_shape}  \n"
         f"{t.output_size_formula('h')} (rows) · {t.output_size_formula('w')} (columns)"]
for axis, name, size in (("h", "rows", t.h), ("w", "columns", t.w)):
    back = t.forward_inputs_mapping_back(axis)
    if len(back) > 1:
        facts.append(f"Why output padding exists ({name}): forward convolutions with inputs of "
                     f"{', '.join(map(str, back))} {name} (this kernel, stride and padding) all give {size} {name}, so "
                     f"the transposed layer cannot know which to restore; a picks one (a = 0 gives {back[0]}).")
forward = Settings(h=fs.h, w=fs.w, kh=t.kh, kw=t.kw, sh=t.sh, sw=t.sw, dh=t.dh, dw=t.dw, cin=t.cout, cout=t.cin,
                   n=t.n, pad="custom" if (t.ph or t.pw) else "valid", pt=t.ph, pb=t.ph, pl=t.pw, pr=t.pw)
if fs.h <= INT_BY_KEY["h"].high and fs.w <= INT_BY_KEY["w"].high:
    facts.append(f"The forward convolution it inverts (input {fs.h} × {fs.w} → output {fs.oh} × {fs.ow}): "
                 f"[open it on the Input gradient page](input_gradient?{urlencode(to_query(forward))}) "
                 "(with its own random upstream gradient; part 3 here uses x').")

n, c, f = pick_indices("tconv", n=("sample n", t.n), c=("input channel of x'", t.cin), f=("output channel of y'", t.cout))
options = options_of(n=n, c=c, f=f)
about = ctx.about.with_facts(facts)
scatter_tab, direct_tab, gradient_tab = st.tabs(list(PARTS), key="cv_tconv_part", on_change="rerun")
if scatter_tab.open:
    with scatter_tab:
        show_trace("tconv_scatter", ctx.settings, options, about=about)
if direct_tab.open:
    with direct_tab:
        show_trace("tconv_direct", ctx.settings, options, about=about)
if gradient_tab.open:
    with gradient_tab:
        show_trace("tconv_gradient", ctx.settings, options, about=about)

st.markdown("**The guide's transposed cases** (Dumoulin & Visin 2016, chapter 4), each a link to this page:")
st.markdown("\n".join(f"- [{escape_md(title)}](conv_transpose?{urlencode(guide_query(**case))}): i' = {case['h']}, "
                      f"k = {case['k']}, s = {case['s']}, p = {case['p']}, a = {case['a']} → o' = {out}"
                      for title, case, out in GUIDE))
from convviz.ui.quiz import quiz_box

quiz_box("transposed_size", ctx)
