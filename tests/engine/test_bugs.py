"""Bug lab: each bug, on settings that expose it, fails its check and differs from the reference; switched off it
passes; on settings that hide it the buggy result equals the reference.

The six conv2d-backward bugs are checked against tests/reference.py; the transposed, grouped, average-pooling and
network bugs against PyTorch in float64."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from convviz.bugs import BUGS, KINDS, BugCase, buggy_backward, check_bug, live_check, run_bug
from convviz.conv import conv2d_backward_spec, conv2d_spec
from convviz.data import make_dout
from convviz.geometry import ConvSpec
from convviz.gradcheck import numerical_gradient
from convviz.network import NetSpec, forward, init_params
from convviz.pool import avg_pool2d_backward_spec, pool_spec
from convviz.transposed import TransposedSpec, direct_transposed
from tests.reference import conv_backward

BASE = {"h": 6, "w": 6, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "pads": (0, 0, 0, 0)}
EXPOSING = {  # chosen by hand from each bug's description
    "no_dilate": {"h": 7, "w": 7, "sh": 2, "sw": 2},
    "no_remainder": {"sh": 2, "sw": 2},
    "col2im_assign": {},
    "crop_negative": {},
    "height_for_width": {"w": 8},
    "no_flip": {},
}
HIDING = {  # settings under which the wrong line computes the right thing
    "no_dilate": {},
    "no_remainder": {"h": 7, "w": 7, "sh": 2, "sw": 2},
    "col2im_assign": {"sh": 3, "sw": 3},
    "crop_negative": {"pads": (1, 1, 1, 1)},
    "height_for_width": {"h": 7, "w": 7},
}


def setup(overrides: dict, symmetric_kernel: bool = False):
    s = {**BASE, **overrides}
    spec = ConvSpec.create(s["h"], s["w"], (s["kh"], s["kw"]), (s["sh"], s["sw"]), s["pads"], 1, n=2, c=2, f=3)
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)
    if symmetric_kernel:
        w = w + w[:, :, ::-1, ::-1]
    return spec, x, w, rng.standard_normal(spec.output_shape)


def reference_dx(spec, x, w, dout):
    return conv_backward(dout, x, w, spec.stride, spec.padding, spec.dilation)[0]


NEW_BUGS = {"tconv_no_flip": "transposed", "tconv_output_padding": "transposed", "group_offset": "grouped",
            "avgpool_divisor": "avgpool", "relu_no_mask": "network"}


def test_registry_covers_the_six_issue_bugs_the_four_of_issue_22_and_the_networks():
    assert set(BUGS) == set(EXPOSING) | set(NEW_BUGS)
    for bug in BUGS.values():
        assert bug.wrong != bug.right and bug.why and bug.title and bug.expose and bug.kind in KINDS
        assert bug.kind == NEW_BUGS.get(bug.id, "conv_backward")
        if bug.kind == "conv_backward":
            assert bug.method in ("loops", "col2im", "transposed")


@pytest.mark.parametrize("bug_id", list(EXPOSING))
def test_exposed_bug_fails_gradient_check_and_differs_from_reference(bug_id):
    spec, x, w, dout = setup(EXPOSING[bug_id])
    assert BUGS[bug_id].exposed(spec, w)
    run = buggy_backward(bug_id, dout, x, w, spec)
    ref = reference_dx(spec, x, w, dout)
    np.testing.assert_allclose(run.dx_ok, ref, atol=1e-9)  # the fix: the same code with the bug off is right
    assert run.dx is None or run.dx.shape != ref.shape or np.abs(run.dx - ref).max() > 1e-3
    assert run.wrong_mask.any()
    check = check_bug(run, BugCase(spec, x, w, dout))
    assert check.correct.passed
    assert not check.buggy_passed


@pytest.mark.parametrize("bug_id", list(HIDING))
def test_hidden_bug_gives_the_reference_result(bug_id):
    spec, x, w, dout = setup(HIDING[bug_id])
    assert not BUGS[bug_id].exposed(spec, w)
    run = buggy_backward(bug_id, dout, x, w, spec)
    np.testing.assert_allclose(run.dx, reference_dx(spec, x, w, dout), atol=1e-9)
    assert not run.wrong_mask.any()
    assert check_bug(run, BugCase(spec, x, w, dout)).buggy_passed


def test_symmetric_kernel_hides_missing_flip():
    spec, x, w, dout = setup({}, symmetric_kernel=True)
    assert not BUGS["no_flip"].exposed(spec, w)
    run = buggy_backward("no_flip", dout, x, w, spec)
    np.testing.assert_allclose(run.dx, reference_dx(spec, x, w, dout), atol=1e-9)


def test_tall_input_makes_height_for_width_raise_and_it_is_reported():
    spec, x, w, dout = setup({"h": 8, "w": 6})
    run = buggy_backward("height_for_width", dout, x, w, spec)
    assert run.error is not None and "IndexError" in run.error
    assert "raises" in run.outcome
    assert check_bug(run, BugCase(spec, x, w, dout)).buggy is None


def test_sampled_check_still_catches_a_bug_confined_to_a_few_cells():
    # 4x4x32x33 input, wide by one column: only the last column's windows are lost (a few percent of dx)
    spec, x, w, dout = setup({"h": 32, "w": 33})
    run = buggy_backward("height_for_width", dout, x, w, spec)
    assert 0 < run.wrong_mask.mean() < 0.1
    check = check_bug(run, BugCase(spec, x, w, dout), max_entries=100)
    assert check.correct.passed and not check.buggy_passed


# ---------------------------------------------------------------------------------------------------
# the four bugs of issue 22 part 5: transposed convolution, grouped convolution, average pooling
# ---------------------------------------------------------------------------------------------------
def t64(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def transposed_case(stride=2, padding=1, output_padding=1, dilation=1, symmetric=False):
    spec = TransposedSpec.create(4, 5, (3, 2), stride, padding, output_padding, dilation, n=2, cin=2, cout=3)
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)
    if symmetric:
        w = w + w[:, :, ::-1, ::-1]
    return BugCase(spec, x, w)


def torch_transposed(case):
    s = case.spec
    return TF.conv_transpose2d(t64(case.x), t64(case.w), stride=s.stride, padding=s.padding,
                               output_padding=s.output_padding, dilation=s.dilation).numpy()


def grouped_case(groups=2, same_groups=False, f=6):
    spec = ConvSpec.create(6, 7, 3, (1, 2), (1, 0, 1, 1), 1, n=2, c=4, f=f, groups=groups)
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)
    if same_groups:  # every group's input channels equal the first group's: the offset makes no difference
        x[:, spec.cg:] = np.tile(x[:, : spec.cg], (1, spec.groups - 1, 1, 1))
    return BugCase(spec, x, w)


def torch_grouped(case):
    s = case.spec
    xp = np.pad(case.x, ((0, 0), (0, 0), (s.top, s.bottom), (s.left, s.right)))
    return TF.conv2d(t64(xp), t64(case.w), stride=s.stride, dilation=s.dilation, groups=s.groups).numpy()


def avgpool_case(count_include_pad=False, padding=1, stride=1):
    spec = pool_spec((2, 3, 6, 7), 3, stride, padding)
    rng = np.random.default_rng(5)
    return BugCase(spec, rng.standard_normal(spec.input_shape), None, rng.standard_normal(spec.output_shape),
                   count_include_pad)


def torch_avgpool_dx(case):
    s = case.spec
    x = t64(case.x).requires_grad_(True)
    y = TF.avg_pool2d(x, s.kernel_size, s.stride, (s.top, s.left), count_include_pad=case.count_include_pad)
    y.backward(t64(case.dout))
    return x.grad.numpy()


def network_case(net: str, shape=(2, 2, 7, 6), data: str = "normal", seed: int = 0) -> BugCase:
    """The stack on an input of `shape`: data "normal" (no ReLU input or max-window tie is exactly hit), "int" (small
    integers, as the app's random preset: zeros and ties happen), "positive" (0.5 .. 1.5); weights init_params(seed)
    (integers -1..1), dout make_dout (integers -2..2)."""
    ns = NetSpec.create(net, shape)
    rng = np.random.default_rng(seed)
    x = {"normal": lambda: rng.standard_normal(shape), "int": lambda: rng.integers(-3, 4, shape).astype(float),
         "positive": lambda: rng.uniform(0.5, 1.5, shape)}[data]()
    return BugCase(ns, x, None, make_dout(ns.output_shape, seed), params=init_params(ns.planned, seed))


def torch_network_dx(case):
    """dL/dx for L = sum(net(x) * dout) by torch autograd, the layers as torch.nn.functional's."""
    x = t64(case.x).requires_grad_(True)
    a = x
    for p, prm in zip(case.spec.planned, case.params):
        L = p.layer
        if L.kind == "conv":
            a = TF.conv2d(a, t64(prm[0]), t64(prm[1]), L.s, L.p, L.d, L.g)
        elif L.kind == "relu":
            a = TF.relu(a)
        elif L.kind == "max":
            a = TF.max_pool2d(a, L.k, L.s, L.p)
        else:
            a = TF.avg_pool2d(a, L.k, L.s, L.p)  # count_include_pad=True, as convviz.network's
    a.backward(t64(case.dout))
    return x.grad.numpy()


CASES = {  # bug: (exposing cases, hiding cases, PyTorch's right result)
    "tconv_no_flip": ([transposed_case(), transposed_case(1, 0, 0), transposed_case(2, 1, 1, 2)],
                      [transposed_case(symmetric=True), transposed_case(1, 0, 0, symmetric=True)], torch_transposed),
    "tconv_output_padding": ([transposed_case(), transposed_case(2, 0, 1), transposed_case(1, 1, 1, 2)],
                             [transposed_case(2, 1, 0), transposed_case(1, 0, 0)], torch_transposed),
    "group_offset": ([grouped_case(), grouped_case(groups=4, f=8)],  # two groups; depthwise
                     [grouped_case(groups=1), grouped_case(same_groups=True)], torch_grouped),
    "avgpool_divisor": ([avgpool_case(), avgpool_case(stride=2)],
                        [avgpool_case(count_include_pad=True), avgpool_case(padding=0)], torch_avgpool_dx),
    "relu_no_mask": ([network_case("c3,relu,c3"), network_case("relu,c2s2"), network_case("c3p1,relu,max2,c3s2", (1, 2, 8, 8)),
                      network_case("c3p1f4g2,relu,avg3s1p1,c2d2", (2, 2, 7, 7)), network_case("c3,max2,relu,c2")],
                     [network_case("c3,c3"), network_case("c3p1,max2,avg2"),  # no ReLU: no mask to forget
                      network_case("relu,c3", data="positive"), network_case("max2,relu,c2s1", data="positive")],
                     torch_network_dx),
}
EXPOSED_CASES = [(b, i) for b, (exposing, _, _) in CASES.items() for i in range(len(exposing))]
HIDDEN_CASES = [(b, i) for b, (_, hiding, _) in CASES.items() for i in range(len(hiding))]


@pytest.mark.parametrize("bug_id, i", EXPOSED_CASES)
def test_new_bug_exposed_differs_from_pytorch_and_fails_its_check(bug_id, i):
    case = CASES[bug_id][0][i]
    assert BUGS[bug_id].exposed_in(case)
    run = run_bug(bug_id, case)
    ref = CASES[bug_id][2](case)
    np.testing.assert_allclose(run.result_ok, ref, atol=1e-10)  # the fix: the same code with the bug off is right
    assert run.error is None and run.result.shape == ref.shape and np.abs(run.result - ref).max() > 1e-3
    assert run.wrong_mask.any() and "wrong" in run.outcome
    check = check_bug(run, case)
    assert check.correct.passed and check.buggy is not None and not check.buggy_passed
    ok, line = live_check(run, case)
    assert ok and "equals" in line


@pytest.mark.parametrize("bug_id, i", HIDDEN_CASES)
def test_new_bug_hidden_gives_pytorchs_result_and_passes_its_check(bug_id, i):
    case = CASES[bug_id][1][i]
    assert not BUGS[bug_id].exposed_in(case)
    run = run_bug(bug_id, case)
    np.testing.assert_allclose(run.result, CASES[bug_id][2](case), atol=1e-10)
    assert not run.wrong_mask.any() and "hide" in run.outcome
    assert check_bug(run, case).buggy_passed


def test_exposed_takes_the_arrays_each_rule_needs():
    t = transposed_case()
    assert BUGS["tconv_no_flip"].exposed(t.spec, t.w) and BUGS["tconv_output_padding"].exposed(t.spec)
    g = grouped_case(same_groups=True)
    assert BUGS["group_offset"].exposed(g.spec) and not BUGS["group_offset"].exposed(g.spec, x=g.x)
    p = avgpool_case()
    assert BUGS["avgpool_divisor"].exposed(p.spec, count_include_pad=False)
    assert not BUGS["avgpool_divisor"].exposed(p.spec, count_include_pad=True)


def test_grouped_bug_reads_the_first_groups_channels():
    """The wrong line computes exactly the layer whose every group's input is the first group's channels."""
    case = grouped_case()
    s = case.spec
    x_first = np.tile(case.x[:, : s.cg], (1, s.groups, 1, 1))
    np.testing.assert_allclose(run_bug("group_offset", case).result, torch_grouped(BugCase(s, x_first, case.w)), atol=1e-10)


def test_output_padding_bug_shifts_the_output_by_a():
    case = transposed_case(2, 0, 1)
    run = run_bug("tconv_output_padding", case)
    np.testing.assert_allclose(run.result[..., 1:, 1:], run.result_ok[..., :-1, :-1], atol=1e-12)


def test_bug_switches_refuse_bugs_of_other_code_paths():
    spec = ConvSpec.create(5, 5, 3, n=1, c=2, f=2, groups=2)
    x, w, dout = np.ones(spec.input_shape), np.ones(spec.weight_shape), np.ones(spec.output_shape)
    with pytest.raises(ValueError, match="not a bug of the 'loops' backward"):
        conv2d_backward_spec(dout, x, w, spec, "loops", _bug="group_offset")
    with pytest.raises(ValueError, match="not a bug of the 'im2col' forward"):
        conv2d_spec(x, w, None, spec, "im2col", _bug="group_offset")
    t = transposed_case()
    with pytest.raises(ValueError, match="not a bug of direct_transposed"):
        direct_transposed(t.x, t.w, t.spec, _bug="no_flip")
    p = avgpool_case()
    with pytest.raises(ValueError, match="not a bug of avg_pool2d_backward_spec"):
        avg_pool2d_backward_spec(p.dout, p.x, p.spec, False, _bug="no_flip")


# ---------------------------------------------------------------------------------------------------
# the network's bug: the ReLU mask forgotten in the backward
# ---------------------------------------------------------------------------------------------------
def test_forgotten_relu_mask_differs_from_central_differences_exactly_where_the_relu_input_is_negative():
    """relu first: dx = mask * (the convolution's dx), so without the mask dx is wrong exactly at the negative inputs
    (where the convolution's dx is not 0); the central differences of the network (evaluated plainly here, with
    convviz.gradcheck) agree with the correct dx and not with the buggy one there."""
    case = network_case("relu,c3p1", (1, 2, 6, 6))
    x, ns = case.x, case.spec
    run = run_bug("relu_no_mask", case)

    def loss() -> float:
        return float(np.sum(forward(ns.planned, xv, case.params)[-1] * case.dout))

    xv = np.array(x)
    numeric = numerical_gradient(loss, xv)
    np.testing.assert_allclose(run.result_ok, numeric, atol=1e-6)
    differs = np.abs(run.result - numeric) > 1e-4
    assert differs.any() and not differs[x > 0].any()
    np.testing.assert_array_equal(differs, (x < 0) & (np.abs(run.result) > 1e-4))
    np.testing.assert_array_equal(run.wrong_mask, differs)
    np.testing.assert_allclose(run.result_ok, torch_network_dx(case), atol=1e-10)
    check = check_bug(run, case, max_entries=None)
    assert check.correct.passed and not check.buggy_passed and check.correct.checked == x.size


def test_forgotten_relu_mask_deep_in_the_stack_fails_plain_central_differences():
    """c3,relu,c3 on data with no ReLU input at 0: plain central differences of L = sum(forward(x) * dout) match the
    correct dx and not the buggy one."""
    case = network_case("c3,relu,c3", (2, 2, 7, 6))
    ns = case.spec
    relu_in = forward(ns.planned, case.x, case.params)[1]
    assert (relu_in < 0).any() and (relu_in > 0).any()
    run = run_bug("relu_no_mask", case)
    xv = np.array(case.x)
    numeric = numerical_gradient(lambda: float(np.sum(forward(ns.planned, xv, case.params)[-1] * case.dout)), xv)
    np.testing.assert_allclose(run.result_ok, numeric, atol=1e-6)
    assert np.abs(run.result - numeric).max() > 1e-2


def test_buggy_dx_is_the_gradient_of_the_stack_without_its_relu():
    """Without the mask the ReLU is not there for the backward: c3,relu,c2's buggy dx is c3,c2's dx (same weights)."""
    case = network_case("c3,relu,c2", (1, 2, 6, 6))
    plain = BugCase(NetSpec.create("c3,c2", (1, 2, 6, 6)), case.x, None, case.dout, params=(case.params[0], case.params[2]))
    np.testing.assert_allclose(run_bug("relu_no_mask", case).result, torch_network_dx(plain), atol=1e-10)


def test_relu_input_exactly_zero_is_no_gradient_and_the_check_holds_the_kink():
    """Integer data puts ReLU inputs at exactly 0, where a plain central difference gives half the slope; the check
    holds each ReLU's on/off as at x (PyTorch's rule: no gradient at 0), so the correct dx passes and the buggy fails."""
    ns = NetSpec.create("relu,c3", (1, 1, 5, 5))
    x = np.abs(np.random.default_rng(1).integers(-3, 4, (1, 1, 5, 5))).astype(float)
    x[0, 0, 2, 2] = 0.0  # non-negative everywhere, one input exactly 0 (under every window)
    case = BugCase(ns, x, None, make_dout(ns.output_shape, 0), params=init_params(ns.planned, 0))
    assert BUGS["relu_no_mask"].exposed_in(case)
    run = run_bug("relu_no_mask", case)
    assert run.result_ok[0, 0, 2, 2] == 0 and run.wrong_mask.sum() >= 1
    assert not run.wrong_mask[x > 0].any()
    np.testing.assert_allclose(run.result_ok, torch_network_dx(case), atol=1e-12)
    check = check_bug(run, case, max_entries=None)
    assert check.correct.passed and not check.buggy_passed


@pytest.mark.parametrize("net, shape", [("c3,max2,relu,c2", (2, 2, 8, 8)), ("c3p1,relu,max2,c3s2", (2, 1, 8, 8)),
                                        ("relu,avg2,relu,c2", (1, 2, 9, 9))])
def test_network_check_on_integer_data_passes_the_correct_dx_whatever_the_kinks(net, shape):
    """The app's random preset (integers) puts ReLU inputs at exactly 0 (and ties in max windows), where a plain
    central difference is off (half the slope); the check holds them as at x: the correct dx (PyTorch's rules)
    passes, the buggy fails, and the live check holds."""
    case = network_case(net, shape, data="int")
    ns = case.spec
    acts = forward(ns.planned, case.x, case.params)
    assert any((acts[i] == 0).any() for i, p in enumerate(ns.planned) if p.layer.kind == "relu")
    run = run_bug("relu_no_mask", case)
    xv = np.array(case.x)
    plain = numerical_gradient(lambda: float(np.sum(forward(ns.planned, xv, case.params)[-1] * case.dout)), xv)
    assert np.abs(plain - run.result_ok).max() > 0.1  # the kink: plain differences disagree with any rule there
    np.testing.assert_allclose(run.result_ok, torch_network_dx(case), atol=1e-10)
    check = check_bug(run, case, max_entries=None)
    assert check.correct.passed and not check.buggy_passed
    assert live_check(run, case)[0]


def test_network_bug_exposure_needs_a_relu_and_data_that_reaches_its_negative_side():
    bug = BUGS["relu_no_mask"]
    assert bug.exposed(NetSpec.create("c3,relu,c3", (1, 1, 6, 6)))  # no data: a ReLU is enough
    assert not bug.exposed(NetSpec.create("c3,max2", (1, 1, 6, 6)))
    positive = network_case("relu,c3", data="positive")
    assert not bug.exposed(positive.spec, x=positive.x, params=positive.params, dout=positive.dout)
    assert not bug.exposed(positive.spec, x=positive.x)  # default weights (seed 0) and an all-ones dout
    negative = network_case("relu,c3")
    assert bug.exposed(negative.spec, x=negative.x, params=negative.params, dout=negative.dout)
    zero_dout = BugCase(negative.spec, negative.x, None, np.zeros(negative.spec.output_shape), params=negative.params)
    assert not bug.exposed_in(zero_dout)  # no gradient at all: nothing for a mask to stop


def test_network_kind_refuses_other_bugs():
    case = network_case("c3,relu,c3")
    with pytest.raises(ValueError, match="not a bug of the network's backward"):
        KINDS["network"].run(case, "backward", "no_flip")
