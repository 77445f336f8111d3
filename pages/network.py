"""A small network: every layer's output, an output cell's receptive field, and backpropagation layer by layer."""
import numpy as np
import streamlit as st

from convviz.network import MAX_LAYERS, NetSpec, backward, forward, init_params, one_hot
from convviz.stages import network_cell, network_of
from convviz.ui.controls import apply_settings, page_control, text_page_control
from convviz.ui.page import escape_md, options_of, page_context, pick_indices, settings_of_session, show_trace

GRAMMAR = ("Layers separated by commas (up to four): c3 is a 3x3 convolution (options s stride, p padding, d dilation, "
           "f output channels, g groups, in that order: c3s2p1); relu; max2 and avg2 are 2x2 pooling (stride = window "
           "unless s is given; p pads at most half the window)")
# Stacks worth seeing, each on an input it fits: (label, net, H = W).
EXAMPLES = (
    ("Two 3x3 convolutions (see as far as one 5x5)", "c3,relu,c3", 6),
    ("One 5x5 convolution", "c5", 6),
    ("Conv, ReLU, max pool, conv", "c3p1,relu,max2,c3", 8),
    ("Three 3x3 convolutions: centre-weighted", "c3,c3,c3", 9),
    ("Strided 3x3 twice: a checkerboard", "c3s2,c3s2", 11),
    ("Dilated stack 1, 2, 4: field 15", "c3,c3d2,c3d4", 16),
    ("Average pooling between convolutions", "c3p1,avg2,c3", 8),
)
PICK = "cv_net_example"
WHOLE = {"float": lambda v: str(int(v)) if v == int(v) else f"{v:.4g}"}  # 5 and 0.25, not "5." and "0.25"


def _load_example() -> None:
    label = st.session_state.get(PICK)
    for name, net, size in EXAMPLES:
        if name == label:
            apply_settings(settings_of_session().with_(net=net, h=size, w=size, ri=0, rj=0, data="random"))
    st.session_state[PICK] = None  # the box offers the examples again, not a label the stack may no longer match


def own_controls() -> None:
    with st.sidebar:
        st.markdown("**This page**")
        text_page_control("net", "Layers (net)", GRAMMAR, "c3,relu,c3")
        st.selectbox("or load an example stack", [e[0] for e in EXAMPLES], index=None, key=PICK,
                     placeholder="Examples…", on_change=_load_example,
                     help="Sets the layers, the input size (H = W) and random data.")
        st.caption("This page reads the sidebar's input (H, W, C, N, data) and seed; its layers' kernels, strides "
                   "and padding are in the text above, and the upstream gradient is the one-hot at the cell below.")
        s = settings_of_session()
        try:
            _, _, oh, ow = network_of(s).output_shape
        except ValueError:
            return
        page_control("ri", range(oh), help="the output cell whose receptive field and gradient are drawn")
        page_control("rj", range(ow), help="the output cell whose receptive field and gradient are drawn")


ctx = page_context(
    "A small network: receptive fields and backpropagation",
    "A stack of up to four layers on the sidebar's input: convolutions (small random weights from the sidebar's "
    "seed; each bias centres its output, so a ReLU after it blocks about half the cells), ReLU, max and average "
    "pooling, set in the sidebar (\"Layers\"). Forward, each layer's output follows with its shape; the **receptive "
    "field** of one output cell is outlined on every earlier map. Backward, "
    "a **one-hot** upstream gradient at that cell goes back one layer at a time by the chain rule: the ReLU's mask "
    "blocks it where the input was <= 0, max pooling routes it to each window's maximum, average pooling spreads it, "
    "a convolution's input gradient fans it out over the window. What reaches the input is the **effective "
    "receptive field**: inside the receptive field, weighted towards its centre (more paths lead there), with a "
    "checkerboard where strided windows overlap unevenly.",
    formula=r"r_L = 1 + \sum_{l=1}^{L} d_l (k_l - 1) \prod_{i<l} s_i,\qquad "
            r"\mathrm{start}(u) = u \prod_{l} s_l - \sum_{l=1}^{L} p_l \prod_{i<l} s_i,\qquad "
            r"\frac{\partial L}{\partial a_{l-1}} = \Big(\frac{\partial a_l}{\partial a_{l-1}}\Big)^{\!\top} "
            r"\frac{\partial L}{\partial a_l}",
    geometry=False,
    layer=network_of,
    controls=own_controls,
)
ns: NetSpec = ctx.spec
N, F, OH, OW = ns.output_shape
_, _, i, j = network_cell(ctx.settings, ns)
facts = [f"Input x {ns.input_shape} · {len(ns.layers)} layer(s) ({ns.text}) → output {ns.output_shape} · "
         f"{ns.params} parameters · receptive field {ns.field.size} x {ns.field.size}, jump {ns.field.jump}"]
if (i, j) != (ctx.settings.ri, ctx.settings.rj):
    facts.append(f"The output has {OH} x {OW} cells, so the chosen cell ({ctx.settings.ri}, {ctx.settings.rj}) is "
                 f"drawn as ({i}, {j}).")
c = ns.input_shape[1]
facts.append(f"Classic: two 3x3 convolutions (c3,relu,c3) see 5 x 5 input cells, as one 5x5 (c5) does, with "
             f"2 (9C² + C) = {2 * (9 * c * c + c)} parameters against 25C² + C = {25 * c * c + c} for C = {c} channels, "
             "and a ReLU between them. Load both from the examples in the sidebar.")
n, f = pick_indices("net", n=("sample n", N), f=("output channel f", F))
show_trace("network", ctx.settings, options_of(n=n, f=f, i=i, j=j, seed=ctx.settings.seed),
           about=ctx.about.with_facts(facts))

box = st.expander("Every layer's weight gradient (for the one-hot upstream gradient)", key="cv_net_dw",
                  on_change="rerun")
if box.open:
    with box:
        params = init_params(ns.planned, ctx.settings.seed, ctx.arrays.x)
        acts = forward(ns.planned, ctx.arrays.x, params)
        bw = backward(ns.planned, acts, params, one_hot(ns.output_shape, n, f, i, j))
        for l, p in enumerate(ns.planned, 1):
            if p.layer.kind != "conv":
                continue
            st.markdown(f"**Layer {l}** ({escape_md(p.layer.token)}): dw{l} {tuple(bw.dw[l - 1].shape)} "
                        "(F, C/groups, K, K) and db")
            st.code(f"dw{l} = {np.array2string(bw.dw[l - 1], precision=4, suppress_small=True, formatter=WHOLE)}\n"
                    f"db{l} = {np.array2string(bw.db[l - 1], precision=4, formatter=WHOLE)}", language=None)
        if not any(p.layer.kind == "conv" for p in ns.planned):
            st.caption("No convolution in this stack: nothing has weights.")

if len(ns.layers) < MAX_LAYERS:
    st.caption(f"Up to {MAX_LAYERS} layers: add one in the sidebar's \"Layers\" box.")
from convviz.ui.quiz import quiz_box

quiz_box("receptive_field", ctx, spec=ns)
