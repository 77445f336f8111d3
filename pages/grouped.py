"""Grouped and depthwise convolution: which input channels each output channel reads, and what it saves."""
import streamlit as st

from convviz.geometry import common_divisors
from convviz.stages import STAGES
from convviz.ui.controls import apply_settings, page_controls
from convviz.ui.page import geometry_line, options_of, page_context, pick_indices, settings_of_session, show_trace


def own_controls() -> None:
    s = settings_of_session()
    page_controls("groups", groups={
        "options": common_divisors(s.cin, s.cout),
        "help": f"the numbers that divide both C = {s.cin} and F = {s.cout} (set C and F below); groups = C is "
                "depthwise"})


ctx = page_context(
    "Grouped and depthwise convolution",
    "With `groups = g`, the C input channels and the F output channels are split into g groups: output channel f "
    "reads only the C/g input channels of its group, so each kernel has C/g channels and the layer g times fewer "
    "weights and multiply-adds. `groups = C` is **depthwise**: each output channel filters one input channel alone "
    "(F = M·C gives M outputs per channel). MobileNet's depthwise-separable block follows a depthwise convolution "
    "with a 1×1 **pointwise** convolution that mixes the channels: the table under the figure sets it beside an "
    "ordinary convolution and this grouped layer, with the same input and output shapes. Set C and F (up to 8) in "
    "the sidebar and the groups above them.",
    formula=r"y[n, f] = b[f] + \sum_{c \in \mathrm{group}(f)} w[f, c - g\,C/g] \star x[n, c],\qquad "
            r"g = \lfloor f / (F/g) \rfloor",
    controls=own_controls,
)
(n,) = pick_indices("grp", n=("sample n", ctx.spec.n))
shown, about = STAGES["groups"].shown_settings(ctx.settings), ctx.about
if shown is not ctx.settings:  # the sidebar's defaults: one channel, nothing to group; an example instead
    about = about.with_facts([geometry_line(shown.spec()),
                              f"The sidebar's layer, x {ctx.spec.input_shape} and w {ctx.spec.weight_shape}, has one "
                              "input or output channel: nothing to group. So the figure shows C = 2, F = 4, groups = 2 on "
                              f"a {shown.h} x {shown.w} input (random data); the button below puts them in the sidebar."])
show_trace("groups", shown, options_of(n=n), about=about)
if shown is not ctx.settings:
    st.button("Use C = 2, F = 4, groups = 2", key="cv_grouped_example", on_click=apply_settings, args=(shown,))
from convviz.ui.quiz import quiz_box

quiz_box("grouped_params", ctx, spec=ctx.spec if shown is ctx.settings else shown.spec())  # the layer the figure draws
