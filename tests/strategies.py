"""Hypothesis strategies over the whole parameter space of issue 2."""
import numpy as np
from hypothesis import strategies as st

PADDING = st.one_of(
    st.sampled_from(["valid", "same", "full"]),
    st.integers(0, 3),
    st.tuples(st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
)


def resolve(padding, h, w, k, s, d):
    """(top, bottom, left, right) from the padding argument, by the rules of docs/teaching.md (independent of convviz)."""
    ekh, ekw = d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "full":
        return (ekh - 1, ekh - 1, ekw - 1, ekw - 1)
    if padding == "same":
        def one(size, ek, st_):
            total = max((-(-size // st_) - 1) * st_ + ek - size, 0)
            return total // 2, total - total // 2
        return one(h, ekh, s[0]) + one(w, ekw, s[1])
    if isinstance(padding, int):
        return (padding,) * 4
    if len(padding) == 2:
        return (padding[0], padding[0], padding[1], padding[1])
    return tuple(padding)


@st.composite
def conv_cases(draw, max_hw=12, max_k=5, max_nc=3):
    """(x, w, b, stride, padding argument, resolved pads, dilation) where at least one window fits."""
    n = draw(st.integers(1, 2))
    c, f = draw(st.integers(1, max_nc)), draw(st.integers(1, max_nc))
    h, w_ = draw(st.integers(1, max_hw)), draw(st.integers(1, max_hw))
    k = (draw(st.integers(1, max_k)), draw(st.integers(1, max_k)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(PADDING)
    pads = resolve(padding, h, w_, k, s, d)
    ekh, ekw = d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1
    from hypothesis import assume

    assume(h + pads[0] + pads[1] >= ekh and w_ + pads[2] + pads[3] >= ekw)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((n, c, h, w_))
    w = rng.standard_normal((f, c, *k))
    b = rng.standard_normal(f) if draw(st.booleans()) else None
    return x, w, b, s, padding, pads, d


@st.composite
def fold_cases(draw):
    """Symmetric (ph, pw) padding as unfold/fold take it."""
    x, w, b, s, _, _, d = draw(conv_cases())
    k = w.shape[2:]
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    from hypothesis import assume

    assume(x.shape[2] + 2 * ph >= d[0] * (k[0] - 1) + 1 and x.shape[3] + 2 * pw >= d[1] * (k[1] - 1) + 1)
    return x, k, s, (ph, pw), d


@st.composite
def pool_cases(draw, ties=False):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    from hypothesis import assume

    assume(h + 2 * p[0] >= d[0] * (k[0] - 1) + 1 and w + 2 * p[1] >= d[1] * (k[1] - 1) + 1)
    assume(not padding_only_window(h, k[0], s[0], p[0], d[0]) and not padding_only_window(w, k[1], s[1], p[1], d[1]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(0, 3, size=(n, c, h, w)).astype(float) if ties else rng.standard_normal((n, c, h, w))
    return x, k, s, p, d


def padding_only_window(size, k, s, p, d):
    """True if some window's taps all fall in the padding (the engine refuses such pooling geometry)."""
    out = (size + 2 * p - d * (k - 1) - 1) // s + 1
    return any(all(not (p <= i * s + u * d < p + size) for u in range(k)) for i in range(out))
