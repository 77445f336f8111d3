"""Answers to quiz questions worked out by hand from the numbers a prompt states (shared by the quiz tests)."""
import re

LAYER_RE = re.compile(r"input (\d+) x (\d+), kernel (\d+) x (\d+), stride (\d+) x (\d+), dilation (\d+) x (\d+)")
PADS_RE = re.compile(r"padding \(top, bottom, left, right\) = \((\d+), (\d+), (\d+), (\d+)\)")


def _same(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's rule from docs/teaching.md: total = max((ceil(n/s) - 1)*s + EK - n, 0), the odd extra after."""
    ek = d * (k - 1) + 1
    total = max((-(-n // s) - 1) * s + ek - n, 0)
    return total // 2, total - total // 2


def size_by_hand(prompt: str) -> tuple[int, int]:
    """(OH, OW) of the layer a prompt describes: OH = floor((H + top + bottom - EKH) / SH) + 1."""
    h, w, kh, kw, sh, sw, dh, dw = map(int, LAYER_RE.search(prompt).groups())
    pads = PADS_RE.search(prompt)
    if pads:
        t, b, left, r = map(int, pads.groups())
    elif "'same'" in prompt:
        (t, b), (left, r) = _same(h, kh, sh, dh), _same(w, kw, sw, dw)
    elif "'full'" in prompt:
        t = b = dh * (kh - 1)
        left = r = dw * (kw - 1)
    else:
        assert "'valid'" in prompt, prompt
        t = b = left = r = 0
    return (h + t + b - dh * (kh - 1) - 1) // sh + 1, (w + left + r - dw * (kw - 1) - 1) // sw + 1
