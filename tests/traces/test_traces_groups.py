"""Every convolution trace on grouped and depthwise layers: the live checks pass, the numbers the panels end on are
PyTorch's (float64, torch.nn.functional.conv2d with groups, autograd for the gradients) or an independent loop
written here (never the trace's own arithmetic), the captions name the group, and groups = 1 changes nothing.

Groups G split the C input channels into G blocks of CG = C/G and the F output channels into G blocks of FG = F/G;
output channel f (group g = f // FG) reads only the input channels g*CG .. (g+1)*CG - 1, so w is (F, CG, KH, KW).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convviz as cv
from convviz import traces as T
from convviz.data import make_bias, make_dout, make_input, make_kernel
from convviz.timing import loop_projection, make_data, time_methods

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# ---------------------------------------------------------------------------------------------------
# the layers: C, F in 2..8 with groups dividing both, depthwise, strides that do not divide, every padding form,
# dilation, even and non-square kernels
# ---------------------------------------------------------------------------------------------------
CASES = {
    "g2 c4 f6, stride (2,3) not dividing, asymmetric pad, dilation (1,2), 2x3 kernel": dict(
        h=7, w=6, kernel_size=(2, 3), stride=(2, 3), padding=(1, 0, 2, 1), dilation=(1, 2), n=2, c=4, f=6, groups=2),
    "depthwise c3 f6 (multiplier 2), same, stride 2": dict(
        h=7, w=5, kernel_size=3, stride=2, padding="same", n=1, c=3, f=6, groups=3),
    "depthwise c=f=4, full, dilation 2, 3x2 kernel": dict(
        h=5, w=6, kernel_size=(3, 2), stride=(1, 2), padding="full", dilation=2, n=1, c=4, f=4, groups=4),
    "g4 c8 f8, valid, even kernel, stride 3 with remainder": dict(
        h=8, w=8, kernel_size=2, stride=3, padding="valid", n=2, c=8, f=8, groups=4),
    "g2 c6 f4, 1x3 kernel, padding 1, dilation (2,1)": dict(
        h=6, w=5, kernel_size=(1, 3), stride=1, padding=1, dilation=(2, 1), n=1, c=6, f=4, groups=2),
    "depthwise c=f=2, 4x4 kernel, stride (3,2), padding (2,1)": dict(
        h=7, w=6, kernel_size=4, stride=(3, 2), padding=(2, 1), n=1, c=2, f=2, groups=2),
    "g3 c6 f3 (one output channel per group), same, stride 2": dict(
        h=6, w=7, kernel_size=3, stride=2, padding="same", n=2, c=6, f=3, groups=3),
    "g2 c8 f2, 2x2 kernel, asymmetric pad, stride (2,1), dilation (1,2)": dict(
        h=5, w=6, kernel_size=2, stride=(2, 1), padding=(0, 1, 1, 0), dilation=(1, 2), n=1, c=8, f=2, groups=2),
}

PADDINGS = st.one_of(
    st.sampled_from(["valid", "same", "full"]),
    st.integers(0, 2),
    st.tuples(st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
)


@st.composite
def grouped_specs(draw):
    """A grouped layer (groups > 1) anywhere in the teaching space, C and F in 2..8, depthwise one time in three."""
    while True:
        c = draw(st.integers(2, 8))
        if draw(st.integers(0, 2)) == 0:  # depthwise: groups = C, F a multiple of C
            groups, f = c, c * draw(st.integers(1, 8 // c))
        else:
            f = draw(st.integers(2, 8))
            divisors = [g for g in range(2, min(c, f) + 1) if c % g == 0 and f % g == 0]
            if not divisors:
                continue
            groups = draw(st.sampled_from(divisors))
        try:
            return cv.ConvSpec.create(
                draw(st.integers(1, 8)), draw(st.integers(1, 8)), (draw(st.integers(1, 4)), draw(st.integers(1, 4))),
                (draw(st.integers(1, 3)), draw(st.integers(1, 3))), draw(PADDINGS),
                (draw(st.integers(1, 2)), draw(st.integers(1, 2))), n=draw(st.integers(1, 2)), c=c, f=f, groups=groups)
        except ValueError:
            continue


def make(kw):
    return cv.ConvSpec.create(**kw)


def arrays(spec, seed=0):
    return (make_input(spec, "random", seed), make_kernel(spec, "random", seed), make_bias(spec, "random", seed),
            make_dout(spec.output_shape, seed))


# ---------------------------------------------------------------------------------------------------
# references: PyTorch float64, and loops written here from the definition
# ---------------------------------------------------------------------------------------------------
def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def torch_forward(x, w, b, spec):
    top, bottom, left, right = spec.padding
    y = TF.conv2d(TF.pad(_t(x), (left, right, top, bottom)), _t(w), _t(b), stride=spec.stride, dilation=spec.dilation,
                  groups=spec.groups)
    return y.numpy()


def torch_grads(x, w, b, dout, spec):
    """dx, dw, db of L = sum(y * dout) by autograd."""
    top, bottom, left, right = spec.padding
    xt, wt, bt = (_t(a).requires_grad_(True) for a in (x, w, b))
    y = TF.conv2d(TF.pad(xt, (left, right, top, bottom)), wt, bt, stride=spec.stride, dilation=spec.dilation,
                  groups=spec.groups)
    return tuple(g.numpy() for g in torch.autograd.grad(y, (xt, wt, bt), _t(dout)))


def torch_columns(x, spec):
    """torch's unfold of the padded input: (N, C*KH*KW, OH*OW), rows (c, u, v)."""
    top, bottom, left, right = spec.padding
    return TF.unfold(TF.pad(_t(x), (left, right, top, bottom)), spec.kernel_size, dilation=spec.dilation,
                     stride=spec.stride).numpy()


def block_diagonal(w, c, groups):
    """(F, C*KH*KW) with W[f, (g*CG + k)*KH*KW + u*KW + v] = w[f, k, u, v] for f's group g, zero elsewhere."""
    F, CG, KH, KW = w.shape
    FG = F // groups
    out = np.zeros((F, c * KH * KW))
    for f in range(F):
        g = f // FG
        for k in range(CG):
            for u in range(KH):
                for v in range(KW):
                    out[f, ((g * CG + k) * KH + u) * KW + v] = w[f, k, u, v]
    return out


def dcols_loop(w, dout_n, c, groups):
    """dcols[(ch, u, v), l] = sum over the output channels f of ch's group of w[f, ch - g*CG, u, v] * dout[f, l]."""
    F, CG, KH, KW = w.shape
    FG = F // groups
    d = dout_n.reshape(F, -1)
    out = np.zeros((c * KH * KW, d.shape[1]))
    for ch in range(c):
        g = ch // CG
        for u in range(KH):
            for v in range(KW):
                for f in range(g * FG, (g + 1) * FG):
                    out[(ch * KH + u) * KW + v] += w[f, ch - g * CG, u, v] * d[f]
    return out


def channels_named(a, stop):
    """How a caption names the input channels a .. stop-1."""
    return f"input channel {a}" if stop - a == 1 else f"input channels {a}..{stop - 1}"


def group_phrase(spec, f):
    g, CG = f // (spec.f // spec.groups), spec.c // spec.groups
    return f"group {g} reads {channels_named(g * CG, (g + 1) * CG)}"


def assert_checks_pass(tr, spec):
    assert tr.steps and tr.checks, tr.stage
    for check in tr.checks:
        assert check.ok, f"{tr.stage}: {check.text} for {spec}"


def close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------------------------------
# one verification per trace, run over the cases and under hypothesis
# ---------------------------------------------------------------------------------------------------
def verify_shapes(spec, *_):
    tr = T.shapes_trace(spec)
    layer = torch.nn.Conv2d(spec.c, spec.f, spec.kernel_size, groups=spec.groups)
    params = sum(p.numel() for p in layer.parameters())
    x = np.zeros(spec.input_shape)
    oh, ow = torch_forward(x, np.zeros(spec.weight_shape), np.zeros(spec.f), spec).shape[2:]
    macs = spec.n * spec.f * oh * ow * (spec.c // spec.groups) * spec.kh * spec.kw
    text = " ".join(tr.notes)
    assert f"Parameters: F*(C/groups)*KH*KW + F = {spec.f}*({spec.c}/{spec.groups})*" in text
    assert f" = {params} (with groups = 1 it would be {spec.f * spec.c * spec.kh * spec.kw + spec.f}" in text
    assert f"Multiply-adds: N*F*OH*OW*(C/groups)*KH*KW = {spec.n}*{spec.f}*{oh}*{ow}*" in text
    assert f" = {macs} (1/{spec.groups} of the {macs * spec.groups} with groups = 1)" in text
    assert f"Groups: {spec.groups}" in text and f"group 0 reads {channels_named(0, spec.c // spec.groups)}" in text
    assert ("depthwise" in text) == (spec.groups == spec.c)


def verify_forward(spec, x, w, b, d, n, f, c):
    tr = T.forward_trace(x, w, b, spec, n=n, f=f)
    assert_checks_pass(tr, spec)
    y = torch_forward(x, w, b, spec)
    close(tr.panel("y").values, y[n, f])
    close(tr.panel("w").values, w[f])
    assert tr.panel("w").values.shape == (spec.c // spec.groups, spec.kh, spec.kw)
    CG = spec.c // spec.groups
    g = f // (spec.f // spec.groups)
    assert len(tr.steps) == spec.oh * spec.ow
    for t, s in enumerate(tr.steps):
        i, j = divmod(t, spec.ow)
        close(s.values["products"].sum() + b[f], y[n, f, i, j])
        assert group_phrase(spec, f) in s.caption and f"Output channel {f} is in group {g} of {spec.groups}" in s.caption
        read = next(h for h in s.highlights if h.panel == "xpad").mask
        assert read.shape == (spec.c, spec.hp, spec.wp)
        np.testing.assert_array_equal(read[g * CG : (g + 1) * CG], np.broadcast_to(spec.window_mask(i, j), (CG, spec.hp, spec.wp)))
        assert not read[: g * CG].any() and not read[(g + 1) * CG :].any()  # the other groups' channels are not read


def verify_im2col_index(spec, *_):
    tr = T.im2col_index_trace(spec)
    CG, K = spec.c // spec.groups, spec.kh * spec.kw
    k_step = next(s for s in tr.steps if s.title == "k: channels")
    assert f"With groups = {spec.groups} the rows come in {spec.groups} blocks of CG*KH*KW = {CG}*{K} = {CG * K}" in k_step.caption
    assert f"group 0 reads {channels_named(0, CG)}" in k_step.caption
    np.testing.assert_array_equal(tr.panel("k").values[:, 0], np.repeat(np.arange(spec.c), K))  # rows grouped by channel


def verify_im2col_gather(spec, x, w, b, d, n, f, c):
    tr = T.im2col_gather_trace(x, spec, n=n)
    assert_checks_pass(tr, spec)
    close(tr.panel("cols").values, torch_columns(x, spec)[n])
    assert any(f"With groups = {spec.groups} the rows come in" in note for note in tr.notes)


def verify_im2col_product(spec, x, w, b, d, n, f, c):
    tr = T.im2col_product_trace(x, w, b, spec, n=n)
    assert_checks_pass(tr, spec)
    assert len(tr.checks) == 2  # the loop reference and the block-diagonal product
    y = torch_forward(x, w, b, spec)[n]  # (F, OH, OW)
    close(tr.panel("y").values, y)
    close(tr.panel("Y").values, y.reshape(spec.f, -1))
    close(tr.panel("W").values, block_diagonal(w, spec.c, spec.groups))
    close(tr.panel("cols").values, torch_columns(x, spec)[n])
    CG, R = spec.c // spec.groups, (spec.c // spec.groups) * spec.kh * spec.kw
    assert "block-diagonal" in tr.panel("W").title
    for s in tr.steps[:-1]:
        assert f"For f = 0, group 0 reads rows 0..{R - 1} ({channels_named(0, CG)})" in s.caption
        w_read = next(h for h in s.highlights if h.panel == "W").mask
        np.testing.assert_array_equal(w_read, block_diagonal(np.ones(w.shape), spec.c, spec.groups) != 0)
    assert f"{spec.groups} matrix products, one per group" in tr.steps[-1].caption


def verify_strided(spec, x, w, b, d, n, f, c):
    tr = T.strided_trace(x, spec, n=n)
    assert_checks_pass(tr, spec)
    cols = torch_columns(x, spec)[n]  # (C*KH*KW, L)
    for s in tr.steps[:-1]:
        i, j = s.key
        close(s.values["window"].reshape(-1), cols[:, i * spec.ow + j])
    assert any(f"With groups = {spec.groups} the view is the same" in note for note in tr.notes)


def verify_transposed(spec, x, w, b, d, n, f, c):
    tr = T.transposed_trace(x, w, d, spec, n=n, c=c)
    assert_checks_pass(tr, spec)
    dx, _, _ = torch_grads(x, w, b, d, spec)
    close(tr.panel("dx").values, dx[n, c])
    dxpad = tr.panel("dxpad").values
    close(dxpad[spec.top : spec.top + spec.h, spec.left : spec.left + spec.w], dx[n, c])  # the slide, cropped
    CG, FG = spec.c // spec.groups, spec.f // spec.groups
    g = c // CG
    expected = np.stack([w[g * FG + k, c - g * CG, ::-1, ::-1] for k in range(FG)])  # the rotated kernels touching c
    close(tr.panel("wflip").values, expected)
    outs = f"output channel {g * FG}" if FG == 1 else f"output channels {g * FG}..{g * FG + FG - 1}"
    assert f"Input channel {c} is in group {g} of {spec.groups}: it is read only by group {g}'s {outs}," in tr.steps[0].caption
    assert f"group {g} reads {channels_named(g * CG, (g + 1) * CG)}" in tr.steps[0].caption
    slides = [s for s in tr.steps if s.title.startswith("4. Slide")]
    assert len(slides) == spec.hp * spec.wp
    for s in slides:
        assert f"sum over f in group {g} ({outs})" in s.caption
        read = next(h for h in s.highlights if h.panel == "padded").mask
        assert read.shape[0] == spec.f and read[g * FG : (g + 1) * FG].any()
        assert not read[: g * FG].any() and not read[(g + 1) * FG :].any()  # other groups' dout does not reach c


def verify_col2im(spec, x, w, b, d, n, f, c):
    tr = T.col2im_trace(x, w, d, spec, n=n)
    assert_checks_pass(tr, spec)
    dx, _, _ = torch_grads(x, w, b, d, spec)
    close(tr.panel("dx").values, dx[n])
    close(tr.panel("dcols").values, dcols_loop(w, d[n], spec.c, spec.groups))
    acc = tr.values_at(len(tr.steps) - 1, "acc")
    close(acc[:, spec.top : spec.top + spec.h, spec.left : spec.left + spec.w], dx[n])
    CG, FG = spec.c // spec.groups, spec.f // spec.groups
    first = tr.steps[0].caption
    assert "One product per group" in first and f"{spec.groups} blocks in all" in first
    assert f"reaches only its {channels_named(0, CG)}" in first
    assert f"from group {spec.groups - 1}'s, only {channels_named(spec.c - CG, spec.c)}" in first
    assert ("group 0's output channel 0 reaches" if FG == 1 else f"group 0's output channels 0..{FG - 1} reaches") in first


def verify_weight_grad(spec, x, w, b, d, n, f, c):
    tr = T.weight_grad_trace(x, w, d, spec, n=n, f=f)
    assert_checks_pass(tr, spec)
    _, dw, db = torch_grads(x, w, b, d, spec)
    close(tr.panel("dw").values, dw[f])
    assert tr.panel("dw").values.shape == (spec.c // spec.groups, spec.kh, spec.kw)
    close(tr.panel("db").values, db[None, :])
    CG = spec.c // spec.groups
    g = f // (spec.f // spec.groups)
    taps = [s for s in tr.steps if s.title.startswith("Tap")]
    assert len(taps) == spec.kh * spec.kw
    for s in taps:
        assert group_phrase(spec, f) in s.caption and f"For k = 0 (x's channel {g * CG})" in s.caption
        read = next(h for h in s.highlights if h.panel == "xpad").mask
        assert read.shape[0] == spec.c and not read[: g * CG].any() and not read[(g + 1) * CG :].any()
        assert read[g * CG : (g + 1) * CG].all(axis=0).any()


def verify_gradcheck(spec, x, w, b, d, n, f, c):
    tr = T.gradcheck_trace(x, w, b, d, spec, n=n, f=f, max_entries=25)
    assert_checks_pass(tr, spec)
    assert [r[-1] for r in tr.table[1:]] == ["passes"] * 3  # every backward method, grouped
    dx, dw, db = torch_grads(x, w, b, d, spec)
    close(tr.panel("dx_a").values, dx[n])
    close(tr.panel("dw_a").values, dw[f])
    close(tr.panel("db_a").values, db[None, :])
    numeric = tr.panel("dw_n").values
    seen = np.isfinite(numeric)
    np.testing.assert_allclose(numeric[seen], dw[f][seen], rtol=1e-5, atol=1e-6)  # central differences of the grouped layer
    dw_step = next(s for s in tr.steps if s.title.startswith("dw"))
    assert f"With groups = {spec.groups}, w and dw are (F, C/groups, KH, KW)" in dw_step.caption
    assert group_phrase(spec, f) in dw_step.caption
    assert any(group_phrase(spec, f) in note for note in tr.notes)


VERIFIERS = {
    "shapes": verify_shapes, "forward": verify_forward, "im2col_indices": verify_im2col_index,
    "im2col_gather": verify_im2col_gather, "im2col_product": verify_im2col_product, "strided": verify_strided,
    "transposed": verify_transposed, "col2im": verify_col2im, "weight_grad": verify_weight_grad,
    "gradcheck": verify_gradcheck,
}


def picks(spec):
    """(n, f, c) pairs worth showing: the last of everything, and the first channels of group 1 (a middle group)."""
    out = [(spec.n - 1, spec.f - 1, spec.c - 1), (0, spec.f // spec.groups, spec.c // spec.groups)]
    return list(dict.fromkeys(out))


@pytest.mark.parametrize("stage", list(VERIFIERS))
@pytest.mark.parametrize("case", list(CASES))
def test_grouped_trace_matches_pytorch(stage, case):
    spec = make(CASES[case])
    x, w, b, d = arrays(spec, seed=len(case))
    for n, f, c in picks(spec):
        VERIFIERS[stage](spec, x, w, b, d, n, f, c)


@settings(max_examples=25, **SETTINGS)
@given(spec=grouped_specs(), seed=st.integers(0, 50), data=st.data())
def test_every_grouped_trace_anywhere(spec, seed, data):
    x, w, b, d = arrays(spec, seed)
    x = x + np.random.default_rng(seed).standard_normal(x.shape) / 8  # not only small integers: real rounding
    n, f, c = data.draw(st.integers(0, spec.n - 1)), data.draw(st.integers(0, spec.f - 1)), data.draw(st.integers(0, spec.c - 1))
    for verify in VERIFIERS.values():
        verify(spec, x, w, b, d, n, f, c)


def test_a_depthwise_forward_caption_by_hand():
    """3 channels, 6 filters, groups 3: filter 5 is in group 2 (filters 4, 5) and reads channel 2 alone."""
    spec = cv.ConvSpec.create(4, 4, 2, n=1, c=3, f=6, groups=3)
    x = np.arange(48, dtype=np.float64).reshape(1, 3, 4, 4)
    w = np.ones((6, 1, 2, 2))
    tr = T.forward_trace(x, w, np.zeros(6), spec, f=5)
    # y[0, 5, 0, 0] = x[0, 2, 0:2, 0:2].sum() = 32 + 33 + 36 + 37
    assert tr.steps[0].caption == (
        "y[0,5,0,0] = b[5] + sum(window * w) = 0 + (32*1 + 33*1 + 36*1 + 37*1 = 138) = 138. The window starts at padded "
        "row 0 = 0*1, column 0 = 0*1. Output channel 5 is in group 2 of 3 (output channels 4..5), and group 2 reads "
        "input channel 2 only (depthwise: groups = C).")
    assert tr.panel("w").title == "kernel w[5]: its channel k meets x's channel 2 + k (group 2: input channel 2)"


# ---------------------------------------------------------------------------------------------------
# groups = 1: the same trace as a spec made without the groups argument
# ---------------------------------------------------------------------------------------------------
def assert_same_trace(a, b):
    assert (a.stage, a.title, a.notes, a.table, a.total_steps, a.click) == (b.stage, b.title, b.notes, b.table, b.total_steps, b.click)
    assert a.checks == b.checks
    assert len(a.panels) == len(b.panels)
    for p, q in zip(a.panels, b.panels):
        assert (p.name, p.title, p.kind, p.row_start, p.col_start, p.row_label, p.col_label, p.channel_label) == \
            (q.name, q.title, q.kind, q.row_start, q.col_start, q.row_label, q.col_label, q.channel_label)
        assert p.values.dtype == q.values.dtype and np.array_equal(p.values, q.values, equal_nan=True)
        assert (p.padding is None and q.padding is None) or np.array_equal(p.padding, q.padding)
    assert len(a.steps) == len(b.steps)
    for s, t in zip(a.steps, b.steps):
        assert (s.title, s.caption, s.key) == (t.title, t.caption, t.key)
        assert s.highlights == t.highlights
        assert set(s.values) == set(t.values) and all(np.array_equal(s.values[k], t.values[k]) for k in s.values)


BUILDERS = {
    "shapes": lambda spec, x, w, b, d: T.shapes_trace(spec),
    "forward": lambda spec, x, w, b, d: T.forward_trace(x, w, b, spec, n=spec.n - 1, f=spec.f - 1),
    "im2col_indices": lambda spec, x, w, b, d: T.im2col_index_trace(spec),
    "im2col_gather": lambda spec, x, w, b, d: T.im2col_gather_trace(x, spec, n=spec.n - 1),
    "im2col_product": lambda spec, x, w, b, d: T.im2col_product_trace(x, w, b, spec, n=spec.n - 1, max_steps=6),
    "strided": lambda spec, x, w, b, d: T.strided_trace(x, spec, n=spec.n - 1),
    "transposed": lambda spec, x, w, b, d: T.transposed_trace(x, w, d, spec, n=spec.n - 1, c=spec.c - 1, max_steps=8),
    "col2im": lambda spec, x, w, b, d: T.col2im_trace(x, w, d, spec, n=spec.n - 1),
    "weight_grad": lambda spec, x, w, b, d: T.weight_grad_trace(x, w, d, spec, n=spec.n - 1, f=spec.f - 1),
    "gradcheck": lambda spec, x, w, b, d: T.gradcheck_trace(x, w, b, d, spec, f=spec.f - 1, max_entries=15),
}
UNGROUPED = [
    dict(h=7, w=6, kernel_size=(2, 3), stride=(2, 3), padding=(1, 0, 2, 1), dilation=(1, 2), n=2, c=2, f=3),
    dict(h=6, w=6, kernel_size=3, stride=2, padding="same", n=1, c=3, f=2),
]


@pytest.mark.parametrize("stage", list(BUILDERS))
def test_groups_1_is_the_trace_of_a_spec_made_without_groups(stage):
    for kw in UNGROUPED:
        plain, one = cv.ConvSpec.create(**kw), cv.ConvSpec.create(**kw, groups=1)
        x, w, b, d = arrays(plain, 5)
        a, b_ = BUILDERS[stage](plain, x, w, b, d), BUILDERS[stage](one, x, w, b, d)
        assert_same_trace(a, b_)
        text = " ".join([*a.notes, *(s.caption for s in a.steps)])
        assert "group" not in text.lower()  # nothing about groups on an ordinary layer


def test_groups_1_forward_highlights_stay_flat():
    """The ungrouped input highlight is the 2-D window on every channel, as before groups existed."""
    spec = cv.ConvSpec.create(**UNGROUPED[0])
    x, w, b, _ = arrays(spec, 1)
    tr = T.forward_trace(x, w, b, spec)
    assert all(h.mask.ndim == 2 for s in tr.steps for h in s.highlights)
    assert tr.panel("w").title == "kernel w[0]" and tr.panel("w").channel_label == "c"


# ---------------------------------------------------------------------------------------------------
# the timing page: PyTorch runs the grouped layer too, and the loops' projection works with groups
# ---------------------------------------------------------------------------------------------------
def test_timing_compares_with_pytorch_on_a_grouped_layer():
    spec = cv.ConvSpec.create(8, 7, 3, 2, "same", n=2, c=6, f=4, groups=2)
    report = time_methods(spec, seed=3, loop_budget=10.0)
    assert report.torch_version is not None
    for t in report.timings:
        assert t.seconds is not None and t.max_diff is not None and t.max_diff < 1e-9, t
    assert {t.method for t in report.timings if t.pass_name == "forward"} >= {"loops", "im2col", "strided", "pytorch"}
    x, w, _, dout = make_data(spec, 3)
    assert w.shape == (4, 3, 3, 3)
    assert loop_projection(spec, x, w, dout, "forward") > 0 and loop_projection(spec, x, w, dout, "backward") > 0
