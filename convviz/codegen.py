"""Code for this view: a self-contained NumPy script that reproduces one stage for the page's exact data.

The script imports only NumPy (never convviz), embeds x, w, b and dout as literals (so random and picture
presets reproduce exactly), computes the stage step by step in the plain form docs/teaching.md describes, with a
shape comment on every array, and prints every array the page draws with `show(name, array)`:

    y (1, 1, 4, 4):
    [[[[ 0., 1., ...]]]]

The printed form is valid Python (after the header line), so tests parse it back and compare with the engine.
Engine layer: NumPy only, no Streamlit or Plotly.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .geometry import ConvSpec

GRADCHECK_ENTRIES = 200  # entries per array the script estimates numerically (two forward passes each)


def literal(a: np.ndarray) -> str:
    """A NumPy array as a Python literal that round-trips exactly (shortest repr of every float)."""
    a = np.asarray(a)
    if a.dtype.kind in "iub":
        return np.array2string(a.astype(np.int64), separator=", ", threshold=a.size + 1, max_line_width=120)
    return np.array2string(a.astype(np.float64), separator=", ", threshold=a.size + 1, max_line_width=120,
                           floatmode="unique")


def _array_line(name: str, a: np.ndarray, shape_note: str) -> str:
    body = literal(a).replace("\n", "\n" + " " * (len(name) + 13))
    return f"{name} = np.array({body}, dtype=np.float64)  # {shape_note}\n"


HELPERS = '''\
import numpy as np


def show(name, a):
    """Print a whole array the way the page shows it: a header line, then the values as a Python literal."""
    a = np.asarray(a)
    print(f"{name} {a.shape}:")
    print(np.array2string(a, separator=", ", threshold=a.size + 1, max_line_width=140, precision=8,
                          floatmode="maxprec", suppress_small=False))
'''


def _geometry(spec: ConvSpec) -> str:
    return f'''

# ---- the layer (docs/teaching.md, Shapes): OH = floor((H + top + bottom - EKH) / SH) + 1, likewise OW
N, C, H, W = {spec.n}, {spec.c}, {spec.h}, {spec.w}  # input x (N, C, H, W)
F, KH, KW = {spec.f}, {spec.kh}, {spec.kw}  # kernels w (F, C, KH, KW), bias b (F,)
SH, SW = {spec.sh}, {spec.sw}  # stride
DH, DW = {spec.dh}, {spec.dw}  # dilation
PT, PB, PL, PR = {spec.top}, {spec.bottom}, {spec.left}, {spec.right}  # padding top, bottom, left, right ('{spec.mode}')
EKH, EKW = DH * (KH - 1) + 1, DW * (KW - 1) + 1  # effective (dilated) kernel size
HP, WP = H + PT + PB, W + PL + PR  # padded input size
OH, OW = (HP - EKH) // SH + 1, (WP - EKW) // SW + 1  # output size
REM_H, REM_W = (HP - EKH) % SH, (WP - EKW) % SW  # bottom rows / right columns no window reaches
'''


def _transposed_geometry(t) -> str:
    return f'''

# ---- the transposed layer (docs/teaching.md, Transposed convolution): H x W is its own input x' (i')
N, CIN, H, W = {t.n}, {t.cin}, {t.h}, {t.w}  # its input x' (N, CIN, H, W)
COUT, KH, KW = {t.cout}, {t.kh}, {t.kw}  # kernels w (CIN, COUT, KH, KW), PyTorch's transposed layout
SH, SW = {t.sh}, {t.sw}  # stride: input cells stamp S apart
PH, PW = {t.ph}, {t.pw}  # padding p: rows/columns cropped from each side of the full output
OPH, OPW = {t.oph}, {t.opw}  # output padding a: extra rows/columns at the bottom/right
DH, DW = {t.dh}, {t.dw}  # dilation
EKH, EKW = DH * (KH - 1) + 1, DW * (KW - 1) + 1  # effective (dilated) kernel size
OH, OW = SH * (H - 1) + EKH - 2 * PH + OPH, SW * (W - 1) + EKW - 2 * PW + OPW  # o' = S(i'-1) + D(K-1) + 1 - 2p + a
'''


def _data(arrays: Mapping[str, np.ndarray], shapes: Mapping[str, str]) -> str:
    out = "\n# ---- the page's data, exactly\n"
    for name, a in arrays.items():
        out += _array_line(name, a, shapes[name])
    return out


PAD = "xpad = np.pad(x, ((0, 0), (0, 0), (PT, PB), (PL, PR)))  # (N, C, HP, WP) zero padding\n"

INDICES = '''
# im2col's index arrays (docs/teaching.md, im2col): row index = kernel offset + window origin
i0 = np.tile(np.repeat(DH * np.arange(KH), KW), C)  # (C*KH*KW,) kernel row offsets
j0 = np.tile(DW * np.arange(KW), KH * C)  # (C*KH*KW,) kernel column offsets
k = np.repeat(np.arange(C), KH * KW)  # (C*KH*KW,) channel of each row
i1 = np.repeat(SH * np.arange(OH), OW)  # (OH*OW,) window origin rows
j1 = np.tile(SW * np.arange(OW), OH)  # (OH*OW,) window origin columns
i = i0[:, None] + i1[None, :]  # (C*KH*KW, OH*OW) padded row read by each column-matrix entry
j = j0[:, None] + j1[None, :]  # (C*KH*KW, OH*OW) padded column read by each entry
'''

_BODIES = {  # the computation of each script, after the shared helpers, layer and data

    "shapes": '''
coverage = np.zeros((HP, WP), dtype=np.int64)  # (HP, WP) how many windows read each padded cell
for oh in range(OH):
    for ow in range(OW):
        coverage[oh * SH : oh * SH + EKH : DH, ow * SW : ow * SW + EKW : DW] += 1
print(f"OH = floor(({H} + {PT} + {PB} - {EKH}) / {SH}) + 1 = {OH}")
print(f"OW = floor(({W} + {PL} + {PR} - {EKW}) / {SW}) + 1 = {OW}")
show("padding", np.array([PT, PB, PL, PR]))
show("output_shape", np.array([N, F, OH, OW]))
show("uncovered", np.array([REM_H, REM_W]))  # rows at the bottom, columns at the right: zero gradient
show("params", np.array(F * C * KH * KW + F))
show("macs", np.array(N * F * OH * OW * C * KH * KW))
show("coverage", coverage)
# rows and columns no tap reads at all: the remainder, and any the stride steps past before it (zero gradient too)
show("never_read", np.array([(coverage.sum(axis=1) == 0).sum(), (coverage.sum(axis=0) == 0).sum()]))
''',
    "forward": PAD + '''
# y[n, f, i, j] = b[f] + sum over (c, u, v) of w[f, c, u, v] * xpad[n, c, i*SH + u*DH, j*SW + v*DW]
y = np.zeros((N, F, OH, OW))  # (N, F, OH, OW)
for n in range(N):
    for f in range(F):
        for oh in range(OH):
            for ow in range(OW):
                window = xpad[n, :, oh * SH : oh * SH + EKH : DH, ow * SW : ow * SW + EKW : DW]  # (C, KH, KW)
                y[n, f, oh, ow] = b[f] + np.sum(window * w[f])
show("y", y)
''',
    "im2col": PAD + INDICES + '''
cols = xpad[:, k[:, None], i, j]  # (N, C*KH*KW, OH*OW) one column per window: the gather
Y = w.reshape(F, -1) @ cols + b[:, None]  # (F, C*KH*KW) @ (N, C*KH*KW, OH*OW) -> (N, F, OH*OW)
y = Y.reshape(N, F, OH, OW)  # (N, F, OH, OW)
show("i0", i0)
show("i1", i1)
show("j0", j0)
show("j1", j1)
show("k", k)
show("i", i)
show("j", j)
show("cols", cols)
show("y", y)
print(f"column matrix: {cols[0].size} numbers per sample for an input of {x[0].size}: {cols[0].size / x[0].size:.2f}x")
''',
    "strided": PAD + '''
from numpy.lib.stride_tricks import as_strided

xpad = np.ascontiguousarray(xpad)  # (N, C, HP, WP) as_strided needs to know the real memory layout
sN, sC, sH, sW = xpad.strides  # bytes to step one sample, channel, row, column
strides = (sN, sC, SH * sH, SW * sW, DH * sH, DW * sW)  # next window row jumps SH rows; next tap DH rows
windows = as_strided(xpad, shape=(N, C, OH, OW, KH, KW), strides=strides, writeable=False)  # (N, C, OH, OW, KH, KW) no copy
offsets = np.arange(xpad.size, dtype=np.int64).reshape(xpad.shape) * xpad.itemsize  # (N, C, HP, WP) byte offset of each cell
# int64 and float64 both take 8 bytes, so the same strides walk the offsets: the address each window element reads
window_offsets = as_strided(offsets, shape=windows.shape, strides=strides, writeable=False)  # (N, C, OH, OW, KH, KW)
y = np.einsum("ncijuv,fcuv->nfij", windows, w) + b[None, :, None, None]  # (N, F, OH, OW)
show("strides", np.array(strides))
show("offsets", offsets)
show("window_offsets", window_offsets)
show("windows", windows)
show("y", y)
print("shares memory with xpad:", np.shares_memory(windows, xpad))
''',
    "transposed": '''
# dx as a transposed convolution (docs/teaching.md, Input gradient)
# 1. dilate: SH-1 zero rows between dout's rows (SW-1 zero columns likewise)
dilated = np.zeros((N, F, (OH - 1) * SH + 1, (OW - 1) * SW + 1))  # (N, F, (OH-1)*SH+1, (OW-1)*SW+1)
dilated[:, :, ::SH, ::SW] = dout
# 2. pad by EKH-1 on top and EKH-1 + REM_H at the bottom (REM_H: rows no window reached); likewise columns
padded = np.pad(dilated, ((0, 0), (0, 0), (EKH - 1, EKH - 1 + REM_H), (EKW - 1, EKW - 1 + REM_W)))  # (N, F, HP+EKH-1, WP+EKW-1)
# 3. rotate each kernel 180 degrees and swap its in/out channel axes
wflip = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, KH, KW)
# 4. slide it with stride 1 (taps still DH apart): the result has the padded input's size
dxpad = np.zeros((N, C, HP, WP))  # (N, C, HP, WP)
for n in range(N):
    for c in range(C):
        for r in range(HP):
            for s in range(WP):
                dxpad[n, c, r, s] = np.sum(padded[n, :, r : r + EKH : DH, s : s + EKW : DW] * wflip[c])
# 5. crop the padding off (slicing with explicit ends: a[p:-p] would break when p is 0)
dx = dxpad[:, :, PT : PT + H, PL : PL + W]  # (N, C, H, W)
show("dilated", dilated)
show("padded", padded)
show("wflip", wflip)
show("dxpad", dxpad)
show("dx", dx)
''',
    "col2im": INDICES + '''
# dx by scatter-add (docs/teaching.md, col2im): one gradient column per window, added back where im2col read from
dout_cols = dout.reshape(N, F, OH * OW)  # (N, F, OH*OW)
dcols = w.reshape(F, -1).T @ dout_cols  # (C*KH*KW, F) @ (N, F, OH*OW) -> (N, C*KH*KW, OH*OW)
acc = np.zeros((N, C, HP, WP))  # (N, C, HP, WP) accumulates overlapping windows
np.add.at(acc, (slice(None), k[:, None], i, j), dcols)
dx = acc[:, :, PT : PT + H, PL : PL + W]  # (N, C, H, W) crop the padding
count = np.zeros((HP, WP), dtype=np.int64)  # (HP, WP) windows covering each padded cell
np.add.at(count, (i[k == 0], j[k == 0]), 1)
# The classic bug: fancy-index assignment is buffered, so a cell hit by several windows keeps one write only
bad = np.zeros((N, C, HP, WP))  # (N, C, HP, WP)
bad[:, k[:, None], i, j] += dcols
wrong = bad[:, :, PT : PT + H, PL : PL + W]  # (N, C, H, W)
show("dcols", dcols)
show("acc", acc)
show("count", count)
show("dx", dx)
show("wrong", wrong)
print("gradient lost by the assignment bug:", float(np.abs(dx - wrong).sum()))
''',
    "weight_grad": PAD + '''
# dw[f, c, u, v] = sum over (n, i, j) of dout[n, f, i, j] * xpad[n, c, i*SH + u*DH, j*SW + v*DW]
dw = np.zeros((F, C, KH, KW))  # (F, C, KH, KW)
for f in range(F):
    for c in range(C):
        for u in range(KH):
            for v in range(KW):
                taps = xpad[:, c, u * DH : u * DH + SH * (OH - 1) + 1 : SH, v * DW : v * DW + SW * (OW - 1) + 1 : SW]  # (N, OH, OW)
                dw[f, c, u, v] = np.sum(dout[:, f] * taps)
db = dout.sum(axis=(0, 2, 3))  # (F,) every output cell adds b[f] once
show("dw", dw)
show("db", db)
''',
    "maxpool": '''
# Max pooling with the layer's kernel, stride and dilation; padding is minus infinity (never a maximum)
PEKH, PEKW = DH * (KH - 1) + 1, DW * (KW - 1) + 1
POH, POW = (H + 2 * PPH - PEKH) // SH + 1, (W + 2 * PPW - PEKW) // SW + 1  # pooled output size
xpad = np.pad(x, ((0, 0), (0, 0), (PPH, PPH), (PPW, PPW)), constant_values=-np.inf)  # (N, C, H+2PPH, W+2PPW)
y = np.zeros((N, C, POH, POW))  # (N, C, POH, POW)
dxpad = np.zeros(xpad.shape)  # (N, C, H+2PPH, W+2PPW)
for n in range(N):
    for c in range(C):
        for oh in range(POH):
            for ow in range(POW):
                window = xpad[n, c, oh * SH : oh * SH + PEKH : DH, ow * SW : ow * SW + PEKW : DW]  # (KH, KW)
                t = int(np.argmax(window))  # the FIRST maximum in row-major order (PyTorch's tie rule)
                u, v = divmod(t, KW)
                y[n, c, oh, ow] = window[u, v]
                dxpad[n, c, oh * SH + u * DH, ow * SW + v * DW] += dpool[n, c, oh, ow]  # overlaps add up
dx = dxpad[:, :, PPH : PPH + H, PPW : PPW + W]  # (N, C, H, W)
show("y", y)
show("dpool", dpool)
show("dx", dx)
''',
    "avgpool": '''
# Average pooling with the layer's kernel and stride (PyTorch's avg_pool2d has no dilation); padding is zero
POH, POW = (H + 2 * PPH - KH) // SH + 1, (W + 2 * PPW - KW) // SW + 1  # pooled output size
xpad = np.pad(x, ((0, 0), (0, 0), (PPH, PPH), (PPW, PPW)))  # (N, C, H+2PPH, W+2PPW)
real = np.pad(np.ones((H, W)), ((PPH, PPH), (PPW, PPW)))  # (H+2PPH, W+2PPW) 1 on input cells, 0 on padding
y = np.zeros((N, C, POH, POW))  # (N, C, POH, POW)
divisor = np.zeros((POH, POW))  # (POH, POW) what each window's sum is divided by
dxpad = np.zeros(xpad.shape)  # (N, C, H+2PPH, W+2PPW)
for oh in range(POH):
    for ow in range(POW):
        rows, cols = slice(oh * SH, oh * SH + KH), slice(ow * SW, ow * SW + KW)
        divisor[oh, ow] = KH * KW if COUNT_INCLUDE_PAD else real[rows, cols].sum()
        for n in range(N):
            for c in range(C):
                y[n, c, oh, ow] = xpad[n, c, rows, cols].sum() / divisor[oh, ow]
                dxpad[n, c, rows, cols] += dpool[n, c, oh, ow] / divisor[oh, ow]  # spread evenly; overlaps add up
dx = dxpad[:, :, PPH : PPH + H, PPW : PPW + W]  # (N, C, H, W): the padding's share is dropped
show("divisor", divisor)
show("y", y)
show("dpool", dpool)
show("dx", dx)
''',
    "conv_transpose": '''
# 1. As a scatter: every input cell stamps x'[n, ci, i, j] * w[ci] at (i*SH, j*SW) of the full output grid
full = np.zeros((N, COUT, SH * (H - 1) + EKH + OPH, SW * (W - 1) + EKW + OPW))  # before cropping PH, PW
for n in range(N):
    for ci in range(CIN):
        for i in range(H):
            for j in range(W):
                full[n, :, i * SH : i * SH + EKH : DH, j * SW : j * SW + EKW : DW] += x[n, ci, i, j] * w[ci]  # (COUT, KH, KW)
y_scatter = full[:, :, PH : PH + OH, PW : PW + OW]  # (N, COUT, OH, OW) crop the padding p

# 2. As a direct convolution: S-1 zeros between input cells, pad by D(K-1)-p (+ a at the bottom/right),
#    then slide the 180-degree rotated kernel with stride 1. The rotation: the scatter wrote w[u, v] to output
#    row i*S + u*D, so an output cell reads the input cells' kernel taps in the opposite order.
z = np.zeros((N, CIN, (H - 1) * SH + 1, (W - 1) * SW + 1))  # (N, CIN, (H-1)*SH+1, (W-1)*SW+1)
z[:, :, ::SH, ::SW] = x
top, left = DH * (KH - 1) - PH, DW * (KW - 1) - PW  # negative: crop instead of pad
bottom, right = top + OPH, left + OPW
zp = np.pad(z, ((0, 0), (0, 0), (max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))))
zp = zp[:, :, max(-top, 0) : zp.shape[2] - max(-bottom, 0), max(-left, 0) : zp.shape[3] - max(-right, 0)]
wrot = w[:, :, ::-1, ::-1]  # (CIN, COUT, KH, KW) every kernel rotated 180 degrees
y_direct = np.zeros((N, COUT, OH, OW))  # (N, COUT, OH, OW)
for n in range(N):
    for co in range(COUT):
        for oh in range(OH):
            for ow in range(OW):
                window = zp[n, :, oh : oh + EKH : DH, ow : ow + EKW : DW]  # (CIN, KH, KW)
                y_direct[n, co, oh, ow] = np.sum(window * wrot[:, co])
show("y_scatter", y_scatter)
show("y_direct", y_direct)
print("the two views agree" if np.allclose(y_scatter, y_direct) else "the two views DISAGREE")
''',
    "groups": PAD + '''
# Grouped convolution: output channel f is in group g = f // FG and reads only the CG input channels of that group
CG, FG = C // GROUPS, F // GROUPS  # channels per group: in, out
connections = np.zeros((F, C), dtype=np.int64)  # (F, C) 1 where output channel f reads input channel c
y = np.zeros((N, F, OH, OW))  # (N, F, OH, OW)
for f in range(F):
    g = f // FG
    channels = slice(g * CG, (g + 1) * CG)  # the input channels of f's group
    connections[f, channels] = 1
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                window = xpad[n, channels, oh * SH : oh * SH + EKH : DH, ow * SW : ow * SW + EKW : DW]  # (CG, KH, KW)
                y[n, f, oh, ow] = b[f] + np.sum(window * w[f])  # w[f]: (CG, KH, KW)
show("connections", connections)
show("y", y)
# The same input and output shapes three ways: ordinary (groups 1), this grouped layer, depthwise-separable
# (a depthwise KH x KW convolution, groups = C, then a pointwise 1 x 1 convolution from C to F channels)
show("params", np.array([F * C * KH * KW + F, F * CG * KH * KW + F, (C * KH * KW + C) + (F * C + F)]))
show("macs", np.array([N * F * OH * OW * C * KH * KW, N * F * OH * OW * CG * KH * KW,
                       N * C * OH * OW * KH * KW + N * F * OH * OW * C]))
''',
    "gradcheck": INDICES + '''

def forward(x, w, b):
    """y (N, F, OH, OW) by im2col: one gather, one matrix product."""
    xpad = np.pad(x, ((0, 0), (0, 0), (PT, PB), (PL, PR)))  # (N, C, HP, WP)
    cols = xpad[:, k[:, None], i, j]  # (N, C*KH*KW, OH*OW)
    return (w.reshape(F, -1) @ cols + b[:, None]).reshape(N, F, OH, OW)


def loss(x, w, b):
    return float(np.sum(forward(x, w, b) * dout))  # L = sum(y * dout), so dL/dy = dout


# Analytic gradients (col2im form)
xpad = np.pad(x, ((0, 0), (0, 0), (PT, PB), (PL, PR)))  # (N, C, HP, WP)
cols = xpad[:, k[:, None], i, j]  # (N, C*KH*KW, OH*OW)
dout_cols = dout.reshape(N, F, OH * OW)  # (N, F, OH*OW)
dw = np.einsum("nfl,nrl->fr", dout_cols, cols).reshape(F, C, KH, KW)  # (F, C, KH, KW)
db = dout.sum(axis=(0, 2, 3))  # (F,)
acc = np.zeros((N, C, HP, WP))  # (N, C, HP, WP)
np.add.at(acc, (slice(None), k[:, None], i, j), w.reshape(F, -1).T @ dout_cols)
dx = acc[:, :, PT : PT + H, PL : PL + W]  # (N, C, H, W)

# Numeric gradients: central differences (L(a + h) - L(a - h)) / 2h in float64, on evenly spaced entries
h = 1e-6
# Rounding floor: L is a sum of products, each evaluation rounds by about eps * (sum of their magnitudes), and the
# difference divides that by 2h. An entry that is truly 0 comes back as noise of that size, so the relative
# error's denominator is floored at noise / 1e-6: rounding noise alone never fails the check.
magnitude = float(np.sum(forward(np.abs(x), np.abs(w), np.abs(b)) * np.abs(dout)))
noise = 16 * np.finfo(np.float64).eps * magnitude / h
params = {"x": x, "w": w, "b": b}
errors = []
for name, analytic in (("dx", dx), ("dw", dw), ("db", db)):
    a = params[name[1:]]
    entries = np.unique(np.linspace(0, a.size - 1, min(a.size, MAX_ENTRIES)).astype(int))  # flat indices checked
    numeric = np.full(a.size, np.nan)
    for e in entries:
        old = a.flat[e]
        a.flat[e] = old + h
        up = loss(x, w, b)
        a.flat[e] = old - h
        down = loss(x, w, b)
        a.flat[e] = old
        numeric[e] = (up - down) / (2 * h)
    numeric = numeric.reshape(a.shape)
    chosen = ~np.isnan(numeric)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), max(noise / 1e-6, 1e-300))  # |a - n| / max(|a|, |n|, floor)
    rel = (np.abs(analytic - numeric) / scale)[chosen]
    errors.append(rel.max())
    show(name, analytic)
    show(name + "_numeric", numeric)  # nan where no estimate was made
    print(f"{name}: max relative error {rel.max():.2e} over {chosen.sum()} of {a.size} entries")
show("max_rel_error", np.array(errors))
print("analytic gradients are right" if max(errors) < 1e-6 else "analytic and numeric gradients DISAGREE")
''',
}


NETWORK_BODY = """

# ---- every layer as plain NumPy (docs/teaching.md, A network)
def windows(a, k, s, p, d, fill):
    # (N, C, H, W) -> (N, C, OH, OW, K, K): each output cell's window of a, padded by p cells of `fill` on every side
    apad = np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)  # (N, C, H+2p, W+2p)
    ek = d * (k - 1) + 1  # the window's span with dilation
    oh, ow = (apad.shape[2] - ek) // s + 1, (apad.shape[3] - ek) // s + 1
    out = np.empty(a.shape[:2] + (oh, ow, k, k))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = apad[:, :, i * s : i * s + ek : d, j * s : j * s + ek : d]
    return out


def scatter(gwin, shape, k, s, p, d):
    # (N, C, OH, OW, K, K) window gradients -> (N, C, H, W): each added back where its window read (overlaps add up)
    n, c, h, w = shape
    gpad = np.zeros((n, c, h + 2 * p, w + 2 * p))
    ek = d * (k - 1) + 1
    for i in range(gwin.shape[2]):
        for j in range(gwin.shape[3]):
            gpad[:, :, i * s : i * s + ek : d, j * s : j * s + ek : d] += gwin[:, :, i, j]
    return gpad[:, :, p : p + h, p : p + w]  # the padding's share is dropped


def layer_forward(layer, a, params):
    kind = layer[0]
    if kind == "relu":
        return np.maximum(a, 0.0)
    k, s, p, d, g = layer[1:]
    if kind == "max":
        return windows(a, k, s, p, d, -np.inf).max(axis=(-2, -1))  # padding never wins
    if kind == "avg":
        return windows(a, k, s, p, d, 0.0).sum(axis=(-2, -1)) / (k * k)  # padding counts in the divisor
    w, b = params  # (F, C/G, K, K), (F,)
    win = windows(a, k, s, p, d, 0.0)  # (N, C, OH, OW, K, K)
    F, CG = w.shape[:2]
    y = np.empty((a.shape[0], F) + win.shape[2:4])  # (N, F, OH, OW)
    for f in range(F):
        c0 = (f // (F // g)) * CG  # the first input channel of f's group
        y[:, f] = np.einsum("ncijuv,cuv->nij", win[:, c0 : c0 + CG], w[f]) + b[f]
    return y


def layer_backward(layer, dout, a, params):
    # dL/da (and dw, db for a convolution) from dL/dy = dout, for y = layer_forward(layer, a, params)
    kind = layer[0]
    if kind == "relu":
        return dout * (a > 0), None, None  # the mask: no gradient where the input was <= 0
    k, s, p, d, g = layer[1:]
    if kind == "max":
        win = windows(a, k, s, p, d, -np.inf)  # (N, C, OH, OW, K, K)
        flat = win.reshape(win.shape[:4] + (k * k,))
        first = flat.argmax(axis=-1)[..., None]  # each window's first maximum
        gwin = np.zeros_like(flat)
        np.put_along_axis(gwin, first, dout[..., None], axis=-1)
        return scatter(gwin.reshape(win.shape), a.shape, k, s, p, d), None, None
    if kind == "avg":
        gwin = np.broadcast_to((dout / (k * k))[..., None, None], dout.shape + (k, k))  # spread evenly
        return scatter(gwin, a.shape, k, s, p, d), None, None
    w, b = params
    win = windows(a, k, s, p, d, 0.0)  # (N, C, OH, OW, K, K)
    F, CG = w.shape[:2]
    gwin, dw = np.zeros_like(win), np.zeros_like(w)
    for f in range(F):
        c0 = (f // (F // g)) * CG
        gwin[:, c0 : c0 + CG] += dout[:, f][:, None, :, :, None, None] * w[f][None, :, None, None]
        dw[f] = np.einsum("ncijuv,nij->cuv", win[:, c0 : c0 + CG], dout[:, f])
    return scatter(gwin, a.shape, k, s, p, d), dw, dout.sum(axis=(0, 2, 3))


# ---- forward through the stack, then a one-hot gradient back through it, one layer at a time
acts = [x]  # a0 = x, a1, ..., aL
for layer, params in zip(LAYERS, PARAMS):
    acts.append(layer_forward(layer, acts[-1], params))
n, f, i, j = CELL
grads = [np.zeros_like(acts[-1])]  # dL/daL: one-hot at the chosen output cell
grads[0][n, f, i, j] = 1.0
dws, dbs = [None] * len(LAYERS), [None] * len(LAYERS)
for l in range(len(LAYERS) - 1, -1, -1):  # the chain rule: dL/da_l from dL/da_(l+1)
    dx, dws[l], dbs[l] = layer_backward(LAYERS[l], grads[0], acts[l], PARAMS[l])
    grads.insert(0, dx)
for l, a in enumerate(acts):
    show(f"a{l}", a)
for l, g in enumerate(grads):
    show(f"g{l}", g)
for l in range(len(LAYERS)):
    if dws[l] is not None:
        show(f"dw{l + 1}", dws[l])
        show(f"db{l + 1}", dbs[l])
"""


@dataclass(frozen=True)
class Script:
    """One "Code for this view" script: what it reproduces, the arrays it embeds, and its computation."""

    title: str
    needs: tuple[str, ...]
    body: str
    transposed: bool = False  # the layer is a transposed convolution's (its own header and weight layout)


SCRIPTS = {  # named by convviz.stages' records (Stage.script)
    "shapes": Script("Shapes and edge cases: output size, uncovered rows/columns, window coverage", (), _BODIES["shapes"]),
    "forward": Script("Forward pass as a sliding window", ("x", "w", "b"), _BODIES["forward"]),
    "im2col": Script("im2col: index arrays, the gather into columns, one matrix product", ("x", "w", "b"),
                     _BODIES["im2col"]),
    "strided": Script("Strided windows: an as_strided view of the padded input (no copy)", ("x", "w", "b"),
                      _BODIES["strided"]),
    "transposed": Script("Input gradient as a transposed convolution (dilate, pad, flip, slide, crop)", ("w", "dout"),
                         _BODIES["transposed"]),
    "col2im": Script("col2im: the input gradient by scatter-add (and the assignment bug)", ("w", "dout"),
                     _BODIES["col2im"]),
    "weight_grad": Script("Weight and bias gradients", ("x", "dout"), _BODIES["weight_grad"]),
    "maxpool": Script("Max pooling forward and backward (first maximum wins ties)", ("x",), _BODIES["maxpool"]),
    "avgpool": Script("Average pooling forward and backward (each gradient spread evenly over its window)", ("x",),
                      _BODIES["avgpool"]),
    "conv_transpose": Script("Transposed convolution as a scatter and as a direct convolution", ("x", "w"),
                             _BODIES["conv_transpose"], transposed=True),
    "gradcheck": Script("Gradient check by central differences", ("x", "w", "b", "dout"), _BODIES["gradcheck"]),
    "groups": Script("Grouped convolution: which input channels each output channel reads, and what it saves",
                     ("x", "w", "b"), _BODIES["groups"]),
    "network": Script("A small network: forward through the layers, a one-hot gradient back through them", ("x",),
                      NETWORK_BODY),
}
GROUP_AWARE = ("groups", "maxpool", "avgpool", "conv_transpose")  # the scripts that are right for any groups


SHAPES = {"x": "(N, C, H, W)", "w": "(F, C/GROUPS, KH, KW)", "b": "(F,)", "dout": "(N, F, OH, OW) upstream gradient dL/dy",
          "dpool": "(N, C, POH, POW) upstream gradient of the pooled output"}


def script_for(
    script: str,
    spec: ConvSpec,
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    dout: np.ndarray,
    settings_text: str = "",
    pool_padding: tuple[int, int] | None = None,
    pool_dout: np.ndarray | None = None,
    count_include_pad: bool = True,
    transposed=None,
) -> str:
    """A runnable NumPy-only script that reproduces one stage for this layer and data and prints its arrays.

    Args:
        script: a key of SCRIPTS (a stage's record names its script: convviz.stages.STAGES[name].script).
        spec: the layer geometry; x (N, C, H, W), w (F, C, KH, KW), b (F,), dout (N, F, OH, OW).
        settings_text: how to reopen the view (e.g. the URL query), quoted in the docstring.
        pool_padding: (PH, PW) symmetric pooling padding, for script "maxpool".
        pool_dout: (N, C, POH, POW) upstream gradient of the pooled output, for scripts "maxpool" and "avgpool".
        count_include_pad: whether padding counts in average pooling's divisor ("avgpool").
        transposed: the TransposedSpec of a transposed layer ("conv_transpose"); x is its input x' and w its kernels
            (CIN, COUT, KH, KW).
    Returns:
        The script's source text.
    """
    if script not in SCRIPTS:
        raise ValueError(f"script: no script named {script!r}; use one of {', '.join(SCRIPTS)}.")
    record = SCRIPTS[script]
    if script not in GROUP_AWARE and spec.groups != 1:
        raise ValueError(f"groups: the {script!r} script is written for groups = 1 (the Grouped convolution page's "
                         "script reproduces a grouped layer).")
    if record.transposed and transposed is None:
        raise ValueError("transposed: the transposed-convolution script needs the layer's TransposedSpec.")
    if script in ("maxpool", "avgpool") and (pool_padding is None or pool_dout is None):
        raise ValueError("pool_padding, pool_dout: the max-pooling script needs the pooling padding and its upstream gradient.")
    arrays = {name: np.asarray({"x": x, "w": w, "b": b, "dout": dout}[name]) for name in record.needs}
    if script in ("maxpool", "avgpool"):
        arrays["dpool"] = np.asarray(pool_dout)
    # Comment lines must not end the docstring or smuggle code: keep the settings text to safe characters.
    safe = "".join(ch for ch in settings_text if ch.isalnum() or ch in " =&?,;.:_-+()/") or "(defaults)"
    doc = (f'"""{record.title}.\n\nGenerated by convviz for the settings: {safe}\n'
           "Self-contained: needs only NumPy (python this_file.py). The arrays below are the page's exact data;\n"
           'every array the page draws is printed whole (the page shows one sample/channel at a time)."""\n')
    extra = ""
    if script in ("maxpool", "avgpool"):
        ph, pw = pool_padding  # type: ignore[misc]
        extra = f"PPH, PPW = {ph}, {pw}  # pooling padding (symmetric, at most half the kernel)\n"
    if script == "avgpool":
        extra += f"COUNT_INCLUDE_PAD = {bool(count_include_pad)}  # does padding count in a window's divisor?\n"
    if script == "groups":
        extra = f"GROUPS = {spec.groups}  # each group: C/GROUPS input channels -> F/GROUPS output channels\n"
    if script == "gradcheck":
        extra = f"MAX_ENTRIES = {GRADCHECK_ENTRIES}  # entries per array estimated numerically (two forward passes each)\n"
    if record.transposed:
        shapes = {"x": "(N, CIN, H, W) the transposed layer's input x'", "w": "(CIN, COUT, KH, KW)"}
        return doc + HELPERS + _transposed_geometry(transposed) + _data(arrays, shapes) + record.body
    return (doc + HELPERS + _geometry(spec) + extra + _data(arrays, SHAPES) + record.body)


def network_script(ns, x: np.ndarray, params, cell: tuple[int, int, int, int], settings_text: str = "") -> str:
    """The network page's script: the stack (a convviz.network.NetSpec), its input x (N, C, H, W), every
    convolution's (w, b) (init_params'), and the one-hot's output cell (n, f, i, j). NumPy only; prints every
    activation a_l, every gradient g_l = dL/da_l and each convolution's dw, db."""
    record = SCRIPTS["network"]
    safe = "".join(ch for ch in settings_text if ch.isalnum() or ch in " =&?,;.:_-+()/") or "(defaults)"
    doc = (f'"""{record.title}.\n\nGenerated by convviz for the settings: {safe}\n'
           "Self-contained: needs only NumPy (python this_file.py). The arrays below are the page's exact data.\n"
           f'The stack: {ns.text}."""\n')
    lines = ["\n\n# ---- the stack: (kind, kernel K, stride S, padding P, dilation D, groups G) per layer", "LAYERS = ["]
    for layer in ns.layers:
        entry = '("relu",)' if layer.kind == "relu" else (f'("{layer.kind}", {layer.k}, {layer.s}, {layer.p}, '
                                                           f'{layer.d}, {layer.g})')
        lines.append(f"    {entry},  # {layer.token}")
    lines.append("]")
    data = "\n".join(lines) + f"\nCELL = {tuple(int(v) for v in cell)}  # (n, f, i, j): the one-hot's output cell\n"
    data += _data({"x": np.asarray(x)}, {"x": "(N, C, H, W)"})
    names = []
    for l, prm in enumerate(params, 1):
        if prm is None:
            names.append("None")
            continue
        data += _array_line(f"w{l}", prm[0], "(F, C/G, K, K)") + _array_line(f"b{l}", prm[1], "(F,)")
        names.append(f"(w{l}, b{l})")
    data += f"PARAMS = [{', '.join(names)}]  # each convolution's weights; None for the other layers\n"
    return doc + HELPERS + data + record.body
