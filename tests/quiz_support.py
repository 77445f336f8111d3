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


TRANSPOSED_RE = re.compile(r"input i' (\d+) x (\d+), kernel (\d+) x (\d+), stride (\d+) x (\d+), dilation (\d+) x (\d+), "
                           r"padding p = (\d+) x (\d+), output padding a = (\d+) x (\d+)")
GROUPED_RE = re.compile(r"C = (\d+) input channels, F = (\d+) output channels, a (\d+) x (\d+) kernel, groups = (\d+)")


def transposed_layer(prompt: str) -> tuple[int, ...]:
    """(i'H, i'W, KH, KW, SH, SW, DH, DW, pH, pW, aH, aW) of the transposed layer a prompt describes."""
    return tuple(map(int, TRANSPOSED_RE.search(prompt).groups()))


def transposed_size_by_hand(prompt: str) -> tuple[int, int]:
    """(OH, OW) of the transposed layer a prompt describes: o' = S(i' - 1) + D(K - 1) + 1 - 2p + a per axis."""
    ih, iw, kh, kw, sh, sw, dh, dw, ph, pw, ah, aw = transposed_layer(prompt)
    return sh * (ih - 1) + dh * (kh - 1) + 1 - 2 * ph + ah, sw * (iw - 1) + dw * (kw - 1) + 1 - 2 * pw + aw


def grouped_layer(prompt: str) -> tuple[int, int, int, int, int, bool]:
    """(C, F, KH, KW, groups, biases counted) of the grouped layer a prompt describes."""
    c, f, kh, kw, g = map(int, GROUPED_RE.search(prompt).groups())
    assert ("weights plus biases" in prompt) != ("weights only" in prompt), prompt
    return c, f, kh, kw, g, "weights plus biases" in prompt


NET_RE = re.compile(r"net = ([a-z0-9,]+) on a")
LAYER_TOKEN_RE = re.compile(r"^(c|max|avg)(\d+)((?:[spdfg]\d+)*)$")


def net_of(prompt: str) -> str:
    """The stack (net text) a receptive-field prompt states."""
    return NET_RE.search(prompt).group(1)


def field_by_hand(net: str) -> int:
    """The receptive field r of a stack's output cell, per axis, by walking one output cell's window back to the input
    layer by layer (the definition, not the closed form): a span of rows [a, b] of a layer's output reads the rows
    [a*s, b*s + d*(k - 1)] of its (padded) input; ReLU reads the same cell. Pooling strides default to the window."""
    a, b = 0, 0
    for token in reversed(net.split(",")):
        if token == "relu":
            continue
        head, k, opts = LAYER_TOKEN_RE.match(token).groups()
        k = int(k)
        values = dict((o[0], int(o[1:])) for o in re.findall(r"[spdfg]\d+", opts))
        s, d = values.get("s", 1 if head == "c" else k), values.get("d", 1)
        a, b = a * s, b * s + d * (k - 1)
    return b - a + 1
