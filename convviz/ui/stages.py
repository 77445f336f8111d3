"""One entry per trace the pages draw: how to build it from the settings' spec and arrays.

Keeping the registry here lets the caches key on (stage name, settings, options), small hashable values,
instead of hashing large traces on every rerun.
"""
from __future__ import annotations

from collections.abc import Callable

from .. import traces as T
from ..pool import pool_spec

STEP_BUDGET = 400  # animation steps kept per trace at most; longer walks are sampled evenly


def pooling_of(spec):
    """The max-pooling layer the Max pooling page draws for the sidebar's layer: its window, stride and dilation, and
    its padding on each side as the top/left padding capped at half the window (PyTorch pads pooling symmetrically
    and allows at most kernel // 2). Raises ValueError when no valid pooling follows (e.g. a padding-only window)."""
    return pool_spec(spec.input_shape, spec.kernel_size, spec.stride,
                     (min(spec.top, spec.kh // 2), min(spec.left, spec.kw // 2)), spec.dilation)


def _pool(spec, a, n=0, c=0, **_):
    ps = pooling_of(spec)
    from ..data import make_dout
    return T.maxpool_trace(a.x, make_dout(ps.output_shape, 7), ps, n=n, c=c, max_steps=STEP_BUDGET)


STAGES: dict[str, Callable] = {
    "shapes": lambda spec, a, **kw: T.shapes_trace(spec),
    "forward": lambda spec, a, n=0, f=0: T.forward_trace(a.x, a.w, a.b, spec, n=n, f=f, max_steps=STEP_BUDGET),
    "im2col_indices": lambda spec, a, **kw: T.im2col_index_trace(spec),
    "im2col_gather": lambda spec, a, n=0: T.im2col_gather_trace(a.x, spec, n=n, max_steps=STEP_BUDGET),
    "im2col_product": lambda spec, a, n=0: T.im2col_product_trace(a.x, a.w, a.b, spec, n=n, max_steps=STEP_BUDGET),
    "strided": lambda spec, a, n=0: T.strided_trace(a.x, spec, n=n, max_steps=STEP_BUDGET),
    "transposed": lambda spec, a, n=0, c=0: T.transposed_trace(a.x, a.w, a.dout, spec, n=n, c=c, max_steps=STEP_BUDGET),
    "col2im": lambda spec, a, n=0: T.col2im_trace(a.x, a.w, a.dout, spec, n=n, max_steps=STEP_BUDGET),
    "weight_grad": lambda spec, a, n=0, f=0: T.weight_grad_trace(a.x, a.w, a.dout, spec, n=n, f=f),
    "maxpool": _pool,
}
