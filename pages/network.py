"""A small network: every layer's output, an output cell's receptive field, and backpropagation layer by layer."""
import numpy as np
import streamlit as st

from convviz.network import (
    MAX_LAYERS,
    NetSpec,
    backward,
    forward,
    group_channels,
    init_params,
    net_text,
    one_hot,
    parse_net,
)
from convviz.stages import network_cell, network_of
from convviz.ui.controls import apply_settings, current_settings, page_control, stop_page, text_page_control
from convviz.ui.page import escape_md, options_of, page_context, pick_indices, settings_of_session, show_trace

GRAMMAR = ("Layers separated by commas (up to four): c3 is a 3x3 convolution (options s stride, p padding, d dilation, "
           "f output channels, g groups, in any order, each once: c3s2p1); relu; max2 and avg2 are 2x2 pooling "
           "(stride = window unless s is given; p pads at most half the window)")
INTRO = (
    "A stack of up to four layers on the sidebar's input: convolutions (small random weights from the sidebar's "
    "seed; each bias centres its output, so a ReLU after it blocks about half the cells), ReLU, max and average "
    "pooling, set in the sidebar (\"Layers\"). Forward, each layer's output follows with its shape; the **receptive "
    "field** of one output cell is outlined on every earlier map. Backward, "
    "a **one-hot** upstream gradient at that cell goes back one layer at a time by the chain rule: the ReLU's mask "
    "blocks it where the input was <= 0, max pooling routes it to each window's maximum, average pooling spreads it, "
    "a convolution's input gradient fans it out over the window. What reaches the input is the **effective "
    "receptive field**: inside the receptive field, weighted towards its centre (more paths lead there), with a "
    "checkerboard where strided windows overlap unevenly.")
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
        if name == label:  # from the controls' state: the session's settings have this page's hidden ones at defaults
            apply_settings(current_settings().with_(net=net, h=size, w=size, ri=0, rj=0, rf=0, rc=0, data="random"))
    st.session_state[PICK] = None  # the box offers the examples again, not a label the stack may no longer match


def canonical_net(text: str) -> str:
    """A stack's canonical text (options as s p d f g, defaults left out); NetError for one that does not parse."""
    return net_text(parse_net(text))


def own_controls() -> None:
    """The stack's text, the examples and the output cell in the sidebar; an impossible stack stops the page."""
    with st.sidebar:
        st.markdown("**This page**")
        text_page_control("net", "Layers (net)", GRAMMAR, "c3,relu,c3", canonical=canonical_net)
        st.selectbox("or load an example stack", [e[0] for e in EXAMPLES], index=None, key=PICK,
                     placeholder="Examples…", on_change=_load_example,
                     help="Sets the layers, the input size (H = W) and random data.")
        st.caption("The upstream gradient is a one-hot at the output cell below.")
        try:
            ns = network_of(settings_of_session())
        except ValueError as err:
            problem = err
        else:
            problem = None
            cell_controls(ns)
    if problem is not None:
        explain_stack(problem)


def cell_controls(ns: NetSpec) -> None:
    """The output cell (row, column, and channel when the last map has several) and the channel each convolution's
    path follows (when a group reads several): every map is drawn as one channel, so its cells stay readable."""
    _, fo, oh, ow = ns.output_shape
    page_control("ri", range(oh), help="the output cell whose receptive field and gradient are drawn")
    page_control("rj", range(ow), help="the output cell whose receptive field and gradient are drawn")
    if fo > 1:
        page_control("rf", range(fo), help="the output cell's channel: its one-hot starts the backward pass")
    if group_channels(ns.planned) > 1:
        page_control("rc", range(group_channels(ns.planned)),
                     help="each map shows one channel, on a path down from the chosen cell: at each convolution the "
                          "path follows this input channel of its group (ReLU and pooling keep the channel); each "
                          "panel's title names its channel")


def explain_stack(err: ValueError) -> None:
    """Why the stack cannot run, where page_context would say it of a layer, then stop the page."""
    st.markdown(INTRO)
    st.error(f"These settings do not make a valid stack. {err}")
    st.info("Change the layers or the input in the sidebar (or press 'Reset to defaults').")
    stop_page()


ctx = page_context(
    "A small network: receptive fields and backpropagation",
    INTRO,
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
_, f, i, j = network_cell(ctx.settings, ns)
rc = min(ctx.settings.rc, group_channels(ns.planned) - 1)  # a larger choice draws the same paths: one cache entry
facts = [f"Input x {ns.input_shape} · {len(ns.layers)} layer(s) ({ns.text}) → output {ns.output_shape} · "
         f"{ns.params} parameters · receptive field {ns.field.size} x {ns.field.size}, jump {ns.field.jump}"]
chosen = (ctx.settings.rf, ctx.settings.ri, ctx.settings.rj)
if (f, i, j) != chosen:
    facts.append(f"The output has {F} channel(s) of {OH} x {OW} cells, so the chosen cell (f, i, j) = {chosen} is "
                 f"drawn as ({f}, {i}, {j}).")
if max(p.out_shape[1] for p in ns.planned) > 1 or ns.input_shape[1] > 1:
    facts.append("Each map is drawn as one channel, named in its title (a1[c=2]): the channel on a path down from the "
                 "chosen cell. Its channel f, and the input channel each convolution's path follows, are in the sidebar.")
c = ns.input_shape[1]
facts.append(f"Classic: two 3x3 convolutions (c3,relu,c3) see 5 x 5 input cells, as one 5x5 (c5) does, with "
             f"2 (9C² + C) = {2 * (9 * c * c + c)} parameters against 25C² + C = {25 * c * c + c} for C = {c} channels, "
             "and a ReLU between them. Load both from the examples in the sidebar.")
(n,) = pick_indices("net", n=("sample n", N))
show_trace("network", ctx.settings, options_of(n=n, f=f, i=i, j=j, seed=ctx.settings.seed, rc=rc),
           about=ctx.about.with_facts(facts))


def show_layer_numbers(l: int, token: str, w: np.ndarray, b: np.ndarray, dw: np.ndarray, db: np.ndarray) -> None:
    """Convolution l's weights w (F, C/groups, K, K) and biases b (F,), then its gradients dw, db."""
    st.markdown(f"**Layer {l}** ({escape_md(token)}): w{l} and dw{l} {tuple(w.shape)} (F, C/groups, K, K), "
                f"b{l} and db{l} ({b.size},)")
    st.code(f"w{l} = {np.array2string(w, formatter=WHOLE)}\n"
            f"b{l} = {np.array2string(b, formatter=WHOLE)}\n"
            f"dw{l} = {np.array2string(dw, precision=4, suppress_small=True, formatter=WHOLE)}\n"
            f"db{l} = {np.array2string(db, precision=4, formatter=WHOLE)}", language=None)


box = st.expander("Weights and biases of every convolution, and their gradients", key="cv_net_dw", on_change="rerun")
if box.open:
    with box:
        st.caption("By hand, layer l (stride s, padding p, dilation d): `a_l[f, y, x] = b_l[f] + Σ w_l[f, c, u, v] · "
                   "a_(l-1)[g + c, y·s + u·d − p, x·s + v·d − p]`, summed over the taps (u, v) and the C/groups input "
                   "channels c of f's group (g its first channel), 0 in the padding. The gradients are for the "
                   f"one-hot at a{len(ns.layers)}[{f}, {i}, {j}] of sample {n}.")
        params = init_params(ns.planned, ctx.settings.seed, ctx.arrays.x)
        acts = forward(ns.planned, ctx.arrays.x, params)
        bw = backward(ns.planned, acts, params, one_hot(ns.output_shape, n, f, i, j))
        for l, p in enumerate(ns.planned, 1):
            if p.layer.kind == "conv":
                show_layer_numbers(l, p.layer.token, *params[l - 1], bw.dw[l - 1], bw.db[l - 1])
        if not any(p.layer.kind == "conv" for p in ns.planned):
            st.caption("No convolution in this stack: nothing has weights.")

if len(ns.layers) < MAX_LAYERS:
    st.caption(f"Up to {MAX_LAYERS} layers: add one in the sidebar's \"Layers\" box.")
from convviz.ui.quiz import quiz_box

quiz_box("receptive_field", ctx, spec=ns)
