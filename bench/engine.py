"""Engine speed against PyTorch CPU, side by side in one run (float64, same shapes).

Run: python bench/engine.py [--repeat 7] [--threads T] [--parts]

For each case it prints every convviz method's forward and backward time (median of --repeat runs after
two warm-ups), PyTorch's (F.conv2d forward, autograd backward for dx, dw, db), and the ratio to PyTorch. The
timed calls of one case alternate: every round runs torch forward, torch backward and each convviz method once
(the order rotated each round), so load that comes and goes on a busy machine hits both sides alike. "loops"
(the definition) is timed once, after the rounds, and only on small shapes.

Ordinary cases: the geometric mean, over them, of (fastest convviz forward+backward) / (PyTorch forward+backward).
Goal: <= 1.5. Grouped and depthwise cases (issue 22): the same ratio on each, goal <= 1.5 on each; a case that
misses it (or every grouped case, with --parts) is followed by where convviz's time goes, step by step.

Threads: by default neither side is changed: PyTorch keeps its own intra-op thread count and NumPy's BLAS its
own (both printed). --threads T sets both to T (torch.set_num_threads and threadpoolctl's BLAS limit).
"""
from __future__ import annotations

import argparse
import inspect
import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import convviz as cv  # noqa: E402
from convviz import conv as engine  # noqa: E402  (the engine's own pieces, for --parts)
from convviz import depthwise  # noqa: E402
from convviz.geometry import ConvSpec, crop_padding, pad_input  # noqa: E402
from convviz.im2col import col2im_padded, im2col_matrix, window_view  # noqa: E402

CASES = [  # name, N, C, H, W, F, K, stride, padding
    ("N1 C3 32x32 F8 k3", 1, 3, 32, 32, 8, 3, 1, 0),
    ("N8 C16 32x32 F32 k3 s1", 8, 16, 32, 32, 32, 3, 1, 0),
    ("N8 C16 32x32 F32 k3 s2", 8, 16, 32, 32, 32, 3, 2, 0),
    ("N16 C32 32x32 F64 k5 p2", 16, 32, 32, 32, 64, 5, 1, 2),
]
GROUPED_CASES = [  # name, N, C, H, W, F, K, stride, padding, groups (dw: groups = C; "x2": depth multiplier, F = 2C)
    ("N8 C32 32x32 F32 k3 p1 g4", 8, 32, 32, 32, 32, 3, 1, 1, 4),
    ("N8 C64 32x32 F64 k3 p1 dw", 8, 64, 32, 32, 64, 3, 1, 1, 64),
    ("N8 C32 56x56 F32 k3 s2 p1 dw", 8, 32, 56, 56, 32, 3, 2, 1, 32),  # MobileNet-like downsampling depthwise layer
    ("N8 C32 32x32 F64 k3 p1 dw x2", 8, 32, 32, 32, 64, 3, 1, 1, 32),
    ("N1 C8 12x12 F16 k3 p1 dw x2", 1, 8, 12, 12, 16, 3, 1, 1, 8),  # small enough for "loops"
]
FORWARD = ("im2col", "strided")  # the vectorised methods, timed in the rounds; "loops" separately
BACKWARD = ("col2im", "transposed")
LOOPS_MAX_MACS = 3_000_000  # "loops" is the definition, one Python iteration per output cell: skipped above this
LOOPS_MAX_CELLS = 20_000  # ... or above this many output cells N*F*OH*OW (a depthwise cell is only KH*KW multiply-adds)
BIG_MACS = 100_000_000  # cases above this many multiply-adds get at most BIG_REPEAT rounds, to keep the run short
BIG_REPEAT = 5
GOAL = 1.5


def median_ms(fn, repeat: int) -> float:
    for _ in range(2):  # warm-up: first calls allocate and load kernels
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def interleaved_ms(fns: dict, repeat: int) -> dict:
    """Median ms of each fn after two warm-ups, timed in rounds: each round runs every fn once, starting one
    further along each round, so a burst of load on the machine falls on all of them, not on one."""
    for fn in fns.values():
        for _ in range(2):
            fn()
    names = list(fns)
    times = {name: [] for name in names}
    for r in range(repeat):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            t = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t)
    return {name: 1000 * statistics.median(ts) for name, ts in times.items()}


def torch_fns(x, w, b, stride, padding, groups):
    """PyTorch's forward (no graph) and backward (autograd for dx, dw, db on one retained graph) as callables."""
    import torch
    import torch.nn.functional as F

    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    dout = torch.ones(F.conv2d(xt, wt, bt, stride, padding, 1, groups).shape, dtype=torch.float64)

    def fwd():
        with torch.no_grad():
            F.conv2d(xt, wt, bt, stride, padding, 1, groups)

    y = F.conv2d(xt, wt, bt, stride, padding, 1, groups)  # one graph; backward is timed alone on it

    def bwd():
        torch.autograd.grad(y, (xt, wt, bt), dout, retain_graph=True)

    return fwd, bwd


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    return ", ".join(f"{p['num_threads']} ({p.get('internal_api')})" for p in pools) or "unknown"


def parts_ms(x, w, b, dout, spec, repeat: int) -> list[tuple[str, float]]:
    """Where convviz's time goes: the steps of forward im2col, forward strided, backward col2im and backward
    transposed, as the engine (convviz/conv.py) runs them, timed alone (interleaved rounds). A depthwise layer
    (CG = 1) runs convviz/depthwise.py's paths in im2col and col2im instead: those two are timed whole."""
    N, C, KH, KW = spec.n, spec.c, spec.kh, spec.kw
    F_, OH, OW, G, CG, FG = spec.f, spec.oh, spec.ow, spec.groups, spec.cg, spec.fg
    xpad = pad_input(x, spec)
    cols = im2col_matrix(xpad, spec)  # (C*KH*KW, N*OH*OW)
    cols_g = cols.reshape(G, CG * KH * KW, N * OH * OW)
    w_g = w.reshape(G, FG, CG * KH * KW)
    y_mat = w_g @ cols_g  # (G, FG, N*OH*OW)
    dout_mat = dout.transpose(1, 0, 2, 3).reshape(F_, N * OH * OW)
    dout_g = dout_mat.reshape(G, FG, N * OH * OW)
    dcols = (w_g.transpose(0, 2, 1) @ dout_g).reshape(C * KH * KW, N * OH * OW)
    dcols6 = dcols.reshape(C, KH, KW, N, OH, OW).transpose(3, 0, 1, 2, 4, 5)
    view = window_view(xpad, spec)
    dd = engine.dilate(dout, spec.sh, spec.sw)  # backward "transposed": dx slides the flipped kernel over dd
    slide = ConvSpec.create(dd.shape[2], dd.shape[3], spec.kernel_size, 1, engine.transposed_pads(spec), spec.dilation,
                            n=N, c=F_, f=C, groups=G)
    wk = np.ascontiguousarray(engine.flip_kernel(w, G))
    HP, WP = xpad.shape[2:]
    xt, dt = xpad.transpose(1, 0, 2, 3), dout.transpose(1, 0, 2, 3)  # dw: one correlation per group
    corr = ConvSpec.create(HP, WP, dt.shape[2:], spec.dilation, 0, spec.stride, n=CG, c=N, f=FG)

    def einsum_groups():
        for g in range(G):
            chans, outs = slice(g * CG, (g + 1) * CG), slice(g * FG, (g + 1) * FG)
            np.einsum("ncijuv,fcuv->nfij", view[:, chans], w[outs], optimize=True)

    def dw_groups():
        for g in range(G):
            xs, fs = slice(g * CG, (g + 1) * CG), slice(g * FG, (g + 1) * FG)
            engine.forward_im2col(np.ascontiguousarray(xt[xs]), np.ascontiguousarray(dt[fs]), corr)

    steps = {
        "pad_input (np.pad)": lambda: pad_input(x, spec),
        "im2col gather (copy)": lambda: im2col_matrix(xpad, spec),
        f"fwd matmul, {G} groups": lambda: w_g @ cols_g,
        "fwd y to NCHW + bias": lambda: y_mat.reshape(F_, N, OH, OW).transpose(1, 0, 2, 3) + b[None, :, None, None],
        f"strided einsum, {G} calls": einsum_groups,
        "db sum": lambda: dout.sum(axis=(0, 2, 3)),
        "dout to (F, N*OH*OW) copy": lambda: dout.transpose(1, 0, 2, 3).reshape(F_, N * OH * OW),
        f"dw matmul, {G} groups": lambda: dout_g @ cols_g.transpose(0, 2, 1),
        f"dcols matmul, {G} groups": lambda: w_g.transpose(0, 2, 1) @ dout_g,
        "col2im scatter (+crop)": lambda: crop_padding(col2im_padded(dcols6, spec), spec),
        "transposed: dx slide": lambda: engine.forward_im2col(pad_input(engine.dilate(dout, spec.sh, spec.sw), slide),
                                                              wk, slide),
        f"transposed: dw, {G} groups": dw_groups,
    }
    if spec.is_depthwise:  # im2col and col2im run convviz/depthwise.py's paths, not the per-group steps
        y = depthwise.forward_columns(xpad, w, spec)
        steps = {
            "pad_input (np.pad)": steps["pad_input (np.pad)"],
            "im2col: forward_columns": lambda: depthwise.forward_columns(xpad, w, spec),
            "fwd bias add": lambda: y + b[None, :, None, None],
            f"strided einsum, {G} calls": einsum_groups,
            "db sum": steps["db sum"],
            "col2im: backward_taps": lambda: depthwise.backward_taps(dout, xpad, w, spec),
            "transposed: dx slide": steps["transposed: dx slide"],
            f"transposed: dw, {G} groups": dw_groups,
        }
    return list(interleaved_ms(steps, repeat).items())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", type=int, default=None,
                    help="set PyTorch's intra-op threads and NumPy's BLAS threads to this (default: leave both alone)")
    ap.add_argument("--parts", action="store_true", help="time the steps of every grouped case, not only of misses")
    args = ap.parse_args()
    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")
    rng = np.random.default_rng(0)
    uses_add_at = "add.at" in inspect.getsource(col2im_padded)
    print(f"numpy {np.__version__}, torch {torch.__version__}; timings are medians of {args.repeat} rounds "
          f"(at most {BIG_REPEAT} above {BIG_MACS:,} multiply-adds) after two warm-ups, in ms, float64")
    print(f"threads: torch {torch.get_num_threads()} (intra-op), NumPy BLAS {blas_threads()}"
          f"{'; both set by --threads' if args.threads is not None else '; both left at their defaults'}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    print(f"col2im fast path (col2im_padded) uses numpy.add.at: {uses_add_at} (one strided slice-add per kernel offset)")
    ratios, grouped = [], []
    width = max(26, *(len(case[0]) for case in GROUPED_CASES))
    header = f"{'case':{width}s} {'method':22s} {'fwd':>9s} {'bwd':>9s} {'fwd+bwd':>9s} {'x torch':>8s}"
    for case in [(*c, 1) for c in CASES] + GROUPED_CASES:
        name, N, C, H, W, F_, K, S, P, G = case
        x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F_, C // G, K, K)), rng.standard_normal(F_)
        spec = cv.spec_for(x.shape, w.shape, S, P, 1, G)
        y = cv.conv2d(x, w, b, S, P, groups=G)
        dout = np.ones(y.shape)  # C-contiguous like torch's; np.ones_like(y) keeps y's channel-major strides
        reps = args.repeat if spec.macs <= BIG_MACS else min(args.repeat, BIG_REPEAT)
        tfwd, tbwd = torch_fns(x, w, b, S, P, G)
        fns = {("torch", "fwd"): tfwd, ("torch", "bwd"): tbwd}
        for m in FORWARD:
            fns[(m, "fwd")] = lambda m=m: cv.conv2d(x, w, b, S, P, method=m, groups=G)
        for m in BACKWARD:
            fns[(m, "bwd")] = lambda m=m: cv.conv2d_backward(dout, x, w, S, P, method=m, groups=G)
        t = interleaved_ms(fns, reps)
        tf, tb = t[("torch", "fwd")], t[("torch", "bwd")]
        print()
        print(header)
        print(f"{name:{width}s} {'torch (' + str(torch.get_num_threads()) + ' threads)':22s} {tf:9.2f} {tb:9.2f} "
              f"{tf + tb:9.2f} {1.0:8.2f}")
        pairs = [(fm, bm) for bm in BACKWARD for fm in FORWARD]
        for fm, bm in pairs:
            f, bk = t[(fm, "fwd")], t[(bm, "bwd")]
            print(f"{name:{width}s} {fm + ' / ' + bm:22s} {f:9.2f} {bk:9.2f} {f + bk:9.2f} {(f + bk) / (tf + tb):8.2f}")
        cells = N * F_ * spec.oh * spec.ow
        if spec.macs > LOOPS_MAX_MACS or cells > LOOPS_MAX_CELLS:
            print(f"{name:{width}s} {'loops / loops':22s}   skipped: the definition loops once per output cell "
                  f"({cells:,} cells, {spec.macs:,} multiply-adds)")
        else:
            f = median_ms(lambda: cv.conv2d(x, w, b, S, P, method="loops", groups=G), 1)
            bk = median_ms(lambda: cv.conv2d_backward(dout, x, w, S, P, method="loops", groups=G), 1)
            print(f"{name:{width}s} {'loops / loops':22s} {f:9.2f} {bk:9.2f} {f + bk:9.2f} {(f + bk) / (tf + tb):8.2f}")
        best = min(t[(m, "fwd")] for m in FORWARD) + min(t[(m, "bwd")] for m in BACKWARD)
        ratio = best / (tf + tb)
        if G == 1:
            ratios.append(ratio)
            print(f"{name:{width}s} fastest convviz / torch (fwd+bwd): {ratio:.2f}")
            continue
        grouped.append((name, ratio))
        print(f"{name:{width}s} fastest convviz / torch (fwd+bwd): {ratio:.2f}  "
              f"(groups {G}; goal <= {GOAL}: {'met' if ratio <= GOAL else 'NOT met'})")
        if ratio > GOAL or args.parts:
            print(f"{'':{width}s} where convviz's time goes (ms, each step timed alone):")
            for step, ms in parts_ms(x, w, b, dout, spec, reps):
                print(f"{'':{width}s}   {step:28s} {ms:9.2f}")
    gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print()
    print(f"geometric mean of fastest convviz fwd+bwd / torch fwd+bwd: {gm:.2f}  (goal <= 1.5: {'met' if gm <= 1.5 else 'NOT met'})")
    missed = [f"{n} ({r:.2f})" for n, r in grouped if r > GOAL]
    print(f"grouped and depthwise, fastest convviz fwd+bwd / torch fwd+bwd within {GOAL}x on each: "
          f"{len(grouped) - len(missed)} of {len(grouped)} (worst {max(r for _, r in grouped):.2f})"
          f"{'  NOT met: ' + ', '.join(missed) if missed else '  met'}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
