"""The generated "Code for this view" scripts run on their own and print the engine's numbers.

Each script is written to a temporary file and run with a fresh Python (no convviz on its path); its printed
arrays are parsed back and compared with the engine's public API (and PyTorch's unfold for im2col). The
expected values never come from the script text.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import convviz as cv
from convviz.codegen import SCRIPTS, script_for
from convviz.data import make_bias, make_dout, make_input, make_kernel
from convviz.stages import STAGE_LIST
from convviz.transposed import TransposedSpec
from convviz.ui.settings import Settings

CASES = {
    "defaults": Settings(),
    "stride does not divide": Settings(h=8, sh=2),
    "even non-square kernel, same": Settings(kh=2, kw=4, w=7, pad="same"),
    "asymmetric custom padding": Settings(pad="custom", pt=1, pb=0, pl=2, pr=1, data="random", seed=5),
    "dilation and stride": Settings(h=9, w=8, dh=2, dw=2, sh=2, sw=3, pad="full"),
    "channels and batch, picture, box": Settings(n=2, cin=2, cout=3, data="image", kernel="box"),
    "1x1 kernel": Settings(kh=1, kw=1, h=3, w=4, cin=3, cout=2, data="random"),
}
HEADER = re.compile(r"^(\w+) \(([\d, ]*)\):$")


def layer(settings: Settings):
    spec = settings.spec()
    x = make_input(spec, settings.data, settings.seed)
    w = make_kernel(spec, settings.kernel, settings.seed)
    b = make_bias(spec, settings.kernel, settings.seed)
    dout = make_dout(spec.output_shape, settings.seed)
    return spec, x, w, b, dout


def pool_args(spec, x):
    """The app's pooling rule for a page (half-kernel padding at most), computed here from the spec."""
    pad = (min(spec.top, spec.kh // 2), min(spec.left, spec.kw // 2))
    ps = cv.spec_for(x.shape, (spec.c, spec.c, spec.kh, spec.kw), spec.stride, pad, spec.dilation)
    return pad, make_dout((spec.n, spec.c, ps.oh, ps.ow), 7)


def run_script(source: str, tmp_path: Path) -> dict[str, np.ndarray]:
    """Run the script with a bare interpreter (-I: isolated, no PYTHONPATH, no cwd) and parse what it prints."""
    path = tmp_path / "view.py"
    path.write_text(source)
    done = subprocess.run([sys.executable, "-I", str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return parse_printed(done.stdout)


def parse_printed(text: str) -> dict[str, np.ndarray]:
    out, name, shape, body = {}, None, None, []

    def flush():
        if name is not None:
            value = ast.literal_eval(" ".join(body).replace("nan", "None"))
            a = np.array(value, dtype=float)
            out[name] = a.reshape(shape)

    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            flush()
            name, body = m.group(1), []
            shape = tuple(int(s) for s in m.group(2).replace(" ", "").split(",") if s)
        elif name is not None and (body or line.strip()) and not _plain_text(line):
            body.append(line)
        elif name is not None:
            flush()
            name = None
    flush()
    return out


def _plain_text(line: str) -> bool:
    """A sentence the script prints between arrays (arrays are lines of brackets, numbers and commas)."""
    return bool(re.search(r"[a-zA-Z]", line.replace("nan", "").replace("e+", "").replace("e-", "")))


def close(a, b, tol=1e-7) -> None:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, atol=tol, rtol=1e-7)


@pytest.fixture(params=list(CASES))
def case(request):
    return layer(CASES[request.param])


def script(stage: str, spec, x, w, b, dout) -> str:
    pad, dpool = pool_args(spec, x)
    if stage == "conv_transpose":  # the sidebar's H x W as a transposed layer's input, kernels read as (CIN, COUT)
        t = TransposedSpec.create(spec.h, spec.w, spec.kernel_size, spec.stride, 0, 0, spec.dilation, n=spec.n,
                                  cin=spec.c, cout=spec.f)
        return script_for(stage, None, x, w.transpose(1, 0, 2, 3), None, None, "test", transposed=t)
    return script_for(stage, spec, x, w, b, dout, "test", pool_padding=pad, pool_dout=dpool)


def test_the_script_imports_nothing_but_numpy(case):
    spec, x, w, b, dout = case
    for stage in SCRIPTS:
        tree = ast.parse(script(stage, spec, x, w, b, dout))
        imported = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert imported == {"numpy"}, (stage, imported)


def test_shapes_script(case, tmp_path):
    spec, x, w, b, dout = case
    got = run_script(script("shapes", spec, x, w, b, dout), tmp_path)
    close(got["output_shape"], spec.output_shape)
    close(got["padding"], spec.padding)
    close(got["uncovered"], (spec.rem_h, spec.rem_w))
    close(got["params"], spec.f * spec.c * spec.kh * spec.kw + spec.f)
    close(got["macs"], np.prod(spec.output_shape) * spec.c * spec.kh * spec.kw)
    # Coverage, counted here window by window from the spec's window masks.
    expected = sum(spec.window_mask(i, j).astype(int) for i in range(spec.oh) for j in range(spec.ow))
    close(got["coverage"], expected)
    rows = {i * spec.sh + u * spec.dh for i in range(spec.oh) for u in range(spec.kh)}  # every tap's padded row
    cols = {j * spec.sw + v * spec.dw for j in range(spec.ow) for v in range(spec.kw)}
    close(got["never_read"], (spec.hp - len(rows), spec.wp - len(cols)))


def test_forward_script(case, tmp_path):
    spec, x, w, b, dout = case
    got = run_script(script("forward", spec, x, w, b, dout), tmp_path)
    close(got["y"], cv.conv2d(x, w, b, spec.stride, spec.padding, spec.dilation, method="loops"))


def test_im2col_script_matches_torch_unfold(case, tmp_path):
    torch = pytest.importorskip("torch")
    spec, x, w, b, dout = case
    got = run_script(script("im2col", spec, x, w, b, dout), tmp_path)
    xpad = np.pad(x, ((0, 0), (0, 0), (spec.top, spec.bottom), (spec.left, spec.right)))
    unfold = torch.nn.functional.unfold(torch.from_numpy(xpad), (spec.kh, spec.kw), dilation=spec.dilation, stride=spec.stride)
    close(got["cols"], unfold.numpy())
    idx = cv.im2col_indices(spec)
    for name in ("i0", "i1", "j0", "j1", "k", "i", "j"):
        close(got[name], getattr(idx, name))
    close(got["y"], cv.conv2d(x, w, b, spec.stride, spec.padding, spec.dilation, method="loops"))


def test_strided_script(case, tmp_path):
    spec, x, w, b, dout = case
    got = run_script(script("strided", spec, x, w, b, dout), tmp_path)
    xpad = np.pad(x, ((0, 0), (0, 0), (spec.top, spec.bottom), (spec.left, spec.right)))
    view = cv.window_view(np.ascontiguousarray(xpad), spec)
    close(got["windows"], view)
    close(got["strides"], view.strides)
    # Byte offsets: element (n, c, r, s) of a C-contiguous float64 array sits at 8 * its flat index.
    close(got["offsets"].ravel(), 8 * np.arange(xpad.size))
    close(got["window_offsets"], 8 * _flat_index_of_windows(xpad, spec))
    close(got["y"], cv.conv2d(x, w, b, spec.stride, spec.padding, spec.dilation, method="loops"))


def _flat_index_of_windows(xpad, spec) -> np.ndarray:
    flat = np.arange(xpad.size, dtype=float).reshape(xpad.shape)
    return cv.window_view(flat, spec)


@pytest.mark.parametrize("stage", ["transposed", "col2im"])
def test_input_gradient_scripts(case, tmp_path, stage):
    spec, x, w, b, dout = case
    got = run_script(script(stage, spec, x, w, b, dout), tmp_path)
    dx, _, _ = cv.conv2d_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, method="loops")
    close(got["dx"], dx)
    if stage == "col2im":
        close(got["count"], spec.coverage())
        # The bug keeps one write per cell: it equals dx exactly where at most one window covers a cell.
        covered_once = spec.coverage()[spec.top:spec.top + spec.h, spec.left:spec.left + spec.w] <= 1
        close(got["wrong"][..., covered_once], dx[..., covered_once])
    else:
        close(got["wflip"], np.flip(w, axis=(2, 3)).transpose(1, 0, 2, 3))


def test_weight_gradient_script(case, tmp_path):
    spec, x, w, b, dout = case
    got = run_script(script("weight_grad", spec, x, w, b, dout), tmp_path)
    _, dw, db = cv.conv2d_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, method="loops")
    close(got["dw"], dw)
    close(got["db"], db)


def test_maxpool_script(case, tmp_path):
    spec, x, w, b, dout = case
    pad, dpool = pool_args(spec, x)
    try:
        y = cv.max_pool2d(x, spec.kernel_size, spec.stride, pad, spec.dilation)
    except ValueError:
        pytest.skip("the page itself refuses pooling here (a window would hold only padding)")
    got = run_script(script("maxpool", spec, x, w, b, dout), tmp_path)
    close(got["y"], y)
    close(got["dx"], cv.max_pool2d_backward(dpool, x, spec.kernel_size, spec.stride, pad, spec.dilation))


@pytest.mark.parametrize("include_pad", [True, False])
def test_avgpool_script_equals_torch(case, tmp_path, include_pad):
    spec, x, w, b, dout = case
    if spec.dilation != (1, 1):
        return  # the page refuses average pooling with dilation (avg_pool2d has none); nothing to reproduce
    pad, dpool = pool_args(spec, x)
    src = script_for("avgpool", spec, x, w, b, dout, "test", pool_padding=pad, pool_dout=dpool,
                     count_include_pad=include_pad)
    got = run_script(src, tmp_path)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.avg_pool2d(xt, spec.kernel_size, spec.stride, pad, count_include_pad=include_pad)
    y.backward(torch.tensor(dpool, dtype=torch.float64))
    close(got["y"], y.detach().numpy())
    close(got["dx"], xt.grad.numpy())


@pytest.mark.parametrize("p, a", [(0, 0), (1, 1)])
def test_conv_transpose_script_equals_torch_both_ways(case, tmp_path, p, a):
    spec, x, w, b, dout = case
    wt = w.transpose(1, 0, 2, 3)  # (CIN, COUT, KH, KW)
    try:
        t = TransposedSpec.create(spec.h, spec.w, spec.kernel_size, spec.stride, p, a, spec.dilation, n=spec.n,
                                  cin=spec.c, cout=spec.f)
    except ValueError:  # an output padding below neither stride nor dilation: no such layer (PyTorch agrees)
        return
    got = run_script(script_for("conv_transpose", None, x, wt, None, None, "test", transposed=t), tmp_path)
    y = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(wt), None, spec.stride, p, a, 1,
                                             spec.dilation).numpy()
    close(got["y_scatter"], y)
    close(got["y_direct"], y)


def test_gradcheck_script(case, tmp_path):
    spec, x, w, b, dout = case
    got = run_script(script("gradcheck", spec, x, w, b, dout), tmp_path)
    dx, dw, db = cv.conv2d_backward(dout, x, w, spec.stride, spec.padding, spec.dilation, method="loops")
    close(got["dx"], dx)
    close(got["dw"], dw)
    close(got["db"], db)
    assert got["max_rel_error"].max() < 1e-6
    for name, analytic in (("dx", dx), ("dw", dw), ("db", db)):
        numeric = got[name + "_numeric"]
        checked = ~np.isnan(numeric)
        assert checked.any()
        close(numeric[checked], analytic[checked], tol=1e-5)


def test_every_stage_has_a_script_every_script_a_stage_and_unknown_scripts_are_refused():
    spec, x, w, b, dout = layer(Settings())
    assert {s.script for s in STAGE_LIST} == set(SCRIPTS)
    with pytest.raises(ValueError, match="script"):
        script_for("nope", spec, x, w, b, dout)
    with pytest.raises(ValueError, match="pool"):
        script_for("maxpool", spec, x, w, b, dout)


def test_settings_text_cannot_end_the_docstring():
    spec, x, w, b, dout = layer(Settings())
    src = script_for("forward", spec, x, w, b, dout, 'x"""\nimport os; os.system("boom")  #')
    tree = ast.parse(src)
    assert not any(isinstance(n, ast.Import) and n.names[0].name == "os" for n in ast.walk(tree))
    assert "os.system" not in src.split('"""')[2]


@pytest.mark.parametrize("stage", ["forward", "transposed", "gradcheck"])
def test_scripts_at_the_largest_settings_run_in_seconds(stage, tmp_path):
    spec, x, w, b, dout = layer(Settings(h=32, w=32, cin=4, cout=4, n=4, kh=7, kw=7, pad="same", data="random"))
    got = run_script(script(stage, spec, x, w, b, dout), tmp_path)
    dx, _, _ = cv.conv2d_backward(dout, x, w, spec.stride, spec.padding, spec.dilation)
    if stage == "forward":
        close(got["y"], cv.conv2d(x, w, b, spec.stride, spec.padding, spec.dilation))
    else:
        close(got["dx"], dx)
