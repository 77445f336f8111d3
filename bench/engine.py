"""Engine speed against PyTorch CPU, side by side in one run (float64, same shapes).

Run: python bench/engine.py [--repeat 7]

For each case it prints every convviz method's forward and backward time (median of --repeat runs after
one warm-up), PyTorch's (F.conv2d forward, autograd backward), and the ratio to PyTorch; then the geometric
mean, over the cases, of (fastest convviz forward+backward) / (PyTorch forward+backward). Goal: <= 1.5.
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
from convviz.im2col import col2im_padded  # noqa: E402

CASES = [  # name, N, C, H, W, F, K, stride, padding
    ("N1 C3 32x32 F8 k3", 1, 3, 32, 32, 8, 3, 1, 0),
    ("N8 C16 32x32 F32 k3 s1", 8, 16, 32, 32, 32, 3, 1, 0),
    ("N8 C16 32x32 F32 k3 s2", 8, 16, 32, 32, 32, 3, 2, 0),
    ("N16 C32 32x32 F64 k5 p2", 16, 32, 32, 32, 64, 5, 1, 2),
]
LOOPS_MAX_MACS = 3_000_000  # "loops" is the definition, one Python iteration per output cell: skipped above this


def median_ms(fn, repeat: int) -> float:
    for _ in range(2):  # warm-up: first calls allocate and load kernels
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def torch_times(x, w, b, stride, padding, repeat):
    import torch
    import torch.nn.functional as F

    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    dout = torch.ones(F.conv2d(xt, wt, bt, stride, padding).shape, dtype=torch.float64)

    def fwd():
        with torch.no_grad():
            F.conv2d(xt, wt, bt, stride, padding)

    y = F.conv2d(xt, wt, bt, stride, padding)  # one graph; backward is timed alone on it

    def bwd():
        torch.autograd.grad(y, (xt, wt, bt), dout, retain_graph=True)

    return median_ms(fwd, repeat), median_ms(bwd, repeat), torch.get_num_threads()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    uses_add_at = "add.at" in inspect.getsource(col2im_padded)
    print(f"numpy {np.__version__}; timings are medians of {args.repeat} runs after a warm-up, in ms, float64")
    print(f"col2im fast path (col2im_padded) uses numpy.add.at: {uses_add_at} (one strided slice-add per kernel offset)")
    ratios = []
    header = f"{'case':26s} {'method':22s} {'fwd':>9s} {'bwd':>9s} {'fwd+bwd':>9s} {'x torch':>8s}"
    for name, N, C, H, W, F_, K, S, P in CASES:
        x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F_, C, K, K)), rng.standard_normal(F_)
        spec = cv.spec_for(x.shape, w.shape, S, P)
        y = cv.conv2d(x, w, b, S, P)
        dout = np.ones_like(y)
        tf, tb, threads = torch_times(x, w, b, S, P, args.repeat)
        print()
        print(header)
        print(f"{name:26s} {'torch (' + str(threads) + ' threads)':22s} {tf:9.2f} {tb:9.2f} {tf + tb:9.2f} {1.0:8.2f}")
        best = math.inf
        pairs = [(fm, bm) for fm, bm in (("im2col", "col2im"), ("strided", "col2im"), ("im2col", "transposed"), ("loops", "loops"))]
        for fm, bm in pairs:
            if "loops" in (fm, bm) and spec.macs > LOOPS_MAX_MACS:
                print(f"{name:26s} {fm + ' / ' + bm:22s}   skipped: the definition loops once per output cell "
                      f"({spec.macs:,} multiply-adds)")
                continue
            reps = args.repeat if "loops" not in (fm, bm) else 1
            f = median_ms(lambda: cv.conv2d(x, w, b, S, P, method=fm), reps)
            bk = median_ms(lambda: cv.conv2d_backward(dout, x, w, S, P, method=bm), reps)
            best = min(best, f + bk)
            print(f"{name:26s} {fm + ' / ' + bm:22s} {f:9.2f} {bk:9.2f} {f + bk:9.2f} {(f + bk) / (tf + tb):8.2f}")
        ratios.append(best / (tf + tb))
        print(f"{name:26s} fastest convviz / torch (fwd+bwd): {best / (tf + tb):.2f}")
    gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print()
    print(f"geometric mean of fastest convviz fwd+bwd / torch fwd+bwd: {gm:.2f}  (goal <= 1.5: {'met' if gm <= 1.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
