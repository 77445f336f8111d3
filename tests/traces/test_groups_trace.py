"""The grouped / depthwise trace (convviz/traces/grouped.py): its output is PyTorch's grouped convolution, each step
reads exactly the channels of its output channel's group, the captions name the group with the real numbers, the
depthwise and groups = 1 cases say what they are, and the checks pass (and can fail)."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convviz.traces.grouped as grouped_module
from convviz.geometry import ConvSpec
from convviz.traces.grouped import groups_trace

SETTINGS = dict(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])


def make(n=1, c=4, f=4, h=5, w=5, k=3, stride=1, padding=1, dilation=1, groups=2, seed=0, ints=False):
    rng = np.random.default_rng(seed)
    spec = ConvSpec.create(h, w, k, stride, padding, dilation, n=n, c=c, f=f, groups=groups)
    draw = (lambda *s: rng.integers(-3, 4, s).astype(float)) if ints else (lambda *s: rng.normal(size=s))
    return draw(n, c, h, w), draw(f, c // groups, spec.kh, spec.kw), draw(f), spec


def torch_y(x, w, b, spec):
    t = torch.from_numpy
    top, bottom, left, right = spec.padding
    xp = TF.pad(t(x), (left, right, top, bottom))
    return TF.conv2d(xp, t(w), t(b), spec.stride, 0, spec.dilation, groups=spec.groups).numpy()


def group_channels(f, c, fo, g):
    """The input channels output channel f reads, from the definition: f's group is f // (F/g), of C/g channels."""
    grp = f // (fo // g)
    return set(range(grp * (c // g), (grp + 1) * (c // g)))


def check_trace(tr, x, w, b, spec, n=0):
    """Everything the trace must get right, for any settings."""
    N, C, H, W = x.shape
    F, G = w.shape[0], spec.groups
    assert tr.stage == "groups"
    assert [p.name for p in tr.panels] == ["connections", "x", "w", "y"]
    conn = tr.panel("connections")
    assert conn.kind in ("index", "count") and (conn.row_label, conn.col_label) == ("f", "c")
    assert conn.values.shape == (F, C)
    assert tr.panel("x").values.shape == (C, H, W) and tr.panel("y").values.shape == (F, spec.oh, spec.ow)
    np.testing.assert_array_equal(tr.panel("x").values, x[n])
    # the final y is PyTorch's grouped convolution
    np.testing.assert_allclose(tr.values_at(len(tr.steps) - 1, "y"), torch_y(x, w, b, spec)[n], atol=1e-10)
    assert all(c.ok for c in tr.checks), [c.text for c in tr.checks]
    assert len(tr.steps) <= F + 1 and tr.total_steps == F + 1
    # the first step shows the whole matrix
    first = tr.steps[0]
    assert first.title == "The connection matrix"
    assert f"groups = {G}" in first.caption
    np.testing.assert_array_equal(first.highlights[0].mask, conn.values.astype(bool))
    seen = []
    for t, step in enumerate(tr.steps[1:], start=1):
        (f,) = step.key
        seen.append(f)
        reads = group_channels(f, C, F, G)
        marks = {(h.panel, h.role): h.mask for h in step.highlights}
        xm = marks[("x", "read")]
        assert {c for c in range(C) if xm[c].all()} == reads
        assert not xm[[c for c in range(C) if c not in reads]].any()  # no other channel is read at all
        ym = marks[("y", "write")]
        assert [k for k in range(F) if ym[k].any()] == [f] and ym[f].all()
        row = marks[("connections", "write")]
        assert np.flatnonzero(row.any(axis=1)).tolist() == [f] and row[f].all()
        block = marks[("connections", "focus")]
        grp = f // (F // G)
        rows = set(range(grp * (F // G), (grp + 1) * (F // G)))
        assert set(np.flatnonzero(block.any(axis=1))) == rows and set(np.flatnonzero(block.any(axis=0))) == reads
        # the read channels are exactly the ones of f's row of the matrix
        assert set(np.flatnonzero(conn.values[f])) == reads
        np.testing.assert_array_equal(tr.values_at(t, "w"), w[f])
        # the caption's numbers: the channel, its kernel's shape, and a real output value
        assert f"f = {f}" in step.caption and f"w[{f}] of shape ({C // G}, {spec.kh}, {spec.kw})" in step.caption
        ci, cj = spec.oh // 2, spec.ow // 2
        m = re.search(rf"y\[{n},{f},{ci},{cj}\] = .*\) = ([^;]+);", step.caption)
        assert m, step.caption
        assert float(m.group(1)) == pytest.approx(torch_y(x, w, b, spec)[n, f, ci, cj], rel=1e-3, abs=1e-3)
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == F - 1
    return tr


def test_the_sample_of_the_issue_names_the_group():
    # C = F = 4, groups = 2: output channel 3 is in group 1 and reads input channels 2..3 with w[3] of shape (2, 3, 3)
    x, w, b, spec = make(ints=True)
    tr = check_trace(groups_trace(x, w, b, spec), x, w, b, spec)
    assert len(tr.steps) == 5
    cap = tr.steps[4].caption
    assert cap.startswith("Output channel f = 3 is in group 1 of 2: it reads input channels 2..3 (C/groups = 2 of 4) "
                          "with its kernel w[3] of shape (2, 3, 3)")
    assert "Σ over c = 2..3 of w[3, c - 2] ⋆ x[0, c]" in cap
    assert "the other input channels (0..1) never reach it" in cap
    assert "group 0 of 2" in tr.steps[1].caption and "(2..3) never reach it" in tr.steps[1].caption
    assert "2 groups of 2 input and 2 output channels" in tr.steps[0].caption
    assert "kernels (2, 3, 3), not (4, 3, 3)" in tr.steps[0].caption
    # 4·2·3·3 + 4 = 76 parameters; 1·4·5·5·2·3·3 = 1,800 multiply-adds, half of groups = 1's 3,600
    assert "= 76" in tr.notes[0] and "1,800, 1/2 of the 3,600" in tr.notes[0]
    np.testing.assert_array_equal(tr.panel("connections").values, [[1, 1, 0, 0]] * 2 + [[0, 0, 1, 1]] * 2)
    assert tr.table[0][0] == "block" and [r[0] for r in tr.table[1:]] == ["ordinary", "grouped (g = 2)",
                                                                           "depthwise-separable"]
    # a click on a row of the connection matrix picks that output channel's step
    assert tr.click_map("connections")[(3, 0)] == 4


def test_depthwise_with_a_depth_multiplier():
    # C = 3, F = 6, groups = 3: depthwise with M = 2; output channels 2c and 2c+1 read input channel c alone
    x, w, b, spec = make(c=3, f=6, h=6, w=4, groups=3, padding=0, seed=1)
    tr = check_trace(groups_trace(x, w, b, spec), x, w, b, spec)
    assert "Depthwise (groups = C)" in tr.steps[0].caption and "M = F/C = 2" in tr.steps[0].caption
    for f in range(6):
        cap = tr.steps[1 + f].caption
        assert f"reads input channel {f // 2} (C/groups = 1 of 3)" in cap
        assert f"Depthwise: y[0, {f}] filters input channel {f // 2} alone" in cap
    np.testing.assert_array_equal(tr.panel("connections").values, np.repeat(np.eye(3, dtype=int), 2, axis=0))
    assert any("depthwise" in note for note in tr.notes)


def test_depthwise_with_one_output_channel_per_input():
    x, w, b, spec = make(c=4, f=4, groups=4, seed=2)
    tr = check_trace(groups_trace(x, w, b, spec), x, w, b, spec)
    np.testing.assert_array_equal(tr.panel("connections").values, np.eye(4, dtype=int))
    assert "M = " not in tr.steps[0].caption and "Depthwise" in tr.steps[0].caption


def test_groups_one_reads_every_channel():
    x, w, b, spec = make(c=3, f=2, groups=1, seed=3)
    tr = check_trace(groups_trace(x, w, b, spec), x, w, b, spec)
    assert (tr.panel("connections").values == 1).all()
    assert "groups = 1: an ordinary convolution" in tr.steps[0].caption
    assert all("all C = 3 input channels" in s.caption and " in group " not in s.caption for s in tr.steps[1:])


def test_a_step_budget_keeps_the_first_and_last_channel_and_the_overview():
    x, w, b, spec = make(c=4, f=8, groups=4, seed=4)
    tr = check_trace(groups_trace(x, w, b, spec, max_steps=3), x, w, b, spec)
    assert [s.key for s in tr.steps] == [(), (0,), (4,), (7,)] and tr.total_steps == 9


def test_another_sample_of_the_batch():
    x, w, b, spec = make(n=3, c=6, f=4, groups=2, stride=2, dilation=2, padding=2, seed=5)
    check_trace(groups_trace(x, w, b, spec, n=2), x, w, b, spec, n=2)


@settings(**SETTINGS)
@given(st.data())
def test_any_grouped_layer(data):
    g = data.draw(st.integers(1, 4))
    c, f = g * data.draw(st.integers(1, 3)), g * data.draw(st.integers(1, 3))
    k, s, d, p = (data.draw(st.integers(lo, hi)) for lo, hi in ((1, 3), (1, 2), (1, 2), (0, 2)))
    size = max(1, d * (k - 1) + 1 - 2 * p)
    h, w_ = data.draw(st.integers(size, size + 4)), data.draw(st.integers(size, size + 4))
    x, w, b, spec = make(c=c, f=f, h=h, w=w_, k=k, stride=s, padding=p, dilation=d, groups=g,
                         seed=data.draw(st.integers(0, 999)))
    check_trace(groups_trace(x, w, b, spec), x, w, b, spec)


def test_the_checks_can_fail(monkeypatch):
    x, w, b, spec = make()
    real = grouped_module.conv2d
    monkeypatch.setattr(grouped_module, "conv2d", lambda *a, **k: real(*a, **k) + 0.5)
    tr = groups_trace(x, w, b, spec)
    assert not tr.checks[0].ok and tr.checks[0].value == pytest.approx(0.5)
    assert "groups=2" in tr.checks[0].label
    monkeypatch.setattr(grouped_module, "connection_matrix", lambda c, f, g: np.ones((f, c), dtype=int))
    tr = groups_trace(x, w, b, spec)
    assert not tr.checks[1].ok and "C/groups = 2" in tr.checks[1].label
