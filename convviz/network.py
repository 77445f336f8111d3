"""A small network: a stack of up to four layers (convolution, ReLU, max and average pooling), composed from the
verified single layers, with its receptive fields and its backward pass one layer at a time.

The stack is written in one short text, the `net` URL key of the network page:

    net = layer ("," layer){0,3}
    layer = "relu"
          | "c" K ["s" S] ["p" P] ["d" D] ["f" F] ["g" G]     convolution: K x K kernel, stride S (1), padding P on
                                                             every side (0), dilation D (1), F output channels (as
                                                             many as its input), G groups (1)
          | "max" K ["s" S] ["p" P]                          max pooling: K x K window, stride S (K), padding P (0)
          | "avg" K ["s" S] ["p" P]                          average pooling (padding counts in the divisor)

e.g. "c3p1,relu,max2,c3s2". Options may come in any order, each at most once; Layer.token writes them back in the
order above (c3p1s2 -> c3s2p1), the canonical text the URL keeps.

Receptive field (Araujo, Norris & Sim, Distill 2019): an output cell of layer L reads a window of r_L input cells per
axis, and neighbouring output cells' windows start j_L cells apart, where, with effective kernels k_l' = d_l (k_l - 1)
+ 1 (ReLU: k = s = 1),

    r_L = 1 + sum_l (k_l' - 1) * prod_{i<l} s_i,     j_L = prod_l s_l,     start(u) = u * j_L - sum_l p_l * prod_{i<l} s_i.

Cells inside that window need not all be read: dilation and a stride larger than the window leave holes.
`reach` gives the cells a cell really reads, layer by layer; the tests check one against the other and both against
the cells a one-hot gradient reaches.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .conv import conv2d, conv2d_backward
from .geometry import ConvSpec, check_groups
from .pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward, pool_spec

MAX_LAYERS = 4
MAX_KERNEL, MAX_STRIDE, MAX_PADDING, MAX_DILATION, MAX_CHANNELS = 7, 4, 8, 4, 8
KINDS = ("conv", "relu", "max", "avg")
_TOKEN = re.compile(r"^(c|max|avg)(\d{1,2})((?:[a-z]\d{1,2})*)$")
_OPTIONS = {"conv": "spdfg", "max": "sp", "avg": "sp"}  # the options each kind takes, in their canonical order
_CAPS = {"s": ("stride", 1, MAX_STRIDE), "p": ("padding", 0, MAX_PADDING), "d": ("dilation", 1, MAX_DILATION),
         "f": ("output channels", 1, MAX_CHANNELS), "g": ("groups", 1, MAX_CHANNELS)}


class NetError(ValueError):
    """A stack that cannot be built, with the layer at fault and a fix."""


@dataclass(frozen=True)
class Layer:
    """One layer of the stack. k, s, p, d: square kernel, stride, padding (each side) and dilation; f: a
    convolution's output channels (None: as many as its input); g: its groups."""

    kind: str
    k: int = 1
    s: int = 1
    p: int = 0
    d: int = 1
    f: int | None = None
    g: int = 1

    @property
    def token(self) -> str:
        """The layer in the net grammar (defaults left out): parse(token) gives it back."""
        if self.kind == "relu":
            return "relu"
        head = "c" if self.kind == "conv" else self.kind
        default_s = 1 if self.kind == "conv" else self.k
        parts = [f"{head}{self.k}"]
        parts += [f"s{self.s}"] if self.s != default_s else []
        parts += [f"p{self.p}"] if self.p else []
        parts += [f"d{self.d}"] if self.d != 1 else []
        parts += [f"f{self.f}"] if self.f is not None else []
        parts += [f"g{self.g}"] if self.g != 1 else []
        return "".join(parts)

    @property
    def effective_kernel(self) -> int:
        """k' = d (k - 1) + 1: the cells one window spans on an axis."""
        return self.d * (self.k - 1) + 1

    def describe(self) -> str:
        if self.kind == "relu":
            return "ReLU"
        name = {"conv": "conv", "max": "max pool", "avg": "avg pool"}[self.kind]
        extra = f", dilation {self.d}" if self.d != 1 else ""
        extra += f", groups {self.g}" if self.g != 1 else ""
        return f"{name} {self.k}x{self.k}, stride {self.s}, padding {self.p}{extra}"


def parse_layer(token: str, index: int = 1) -> Layer:
    """One layer from its token; raises NetError naming layer `index` (1-based) and the fix."""
    t = token.strip().lower()
    if t == "relu":
        return Layer("relu")
    m = _TOKEN.match(t)
    if not m:
        raise NetError(f"Layer {index} ({token.strip()!r}): not a layer. Write c3 (a 3x3 convolution), relu, max2 or "
                       "avg2 (2x2 pooling), with options such as c3s2p1d1f2g1 or max3s2p1.")
    head, k, rest = m.group(1), int(m.group(2)), m.group(3)
    kind = {"c": "conv", "max": "max", "avg": "avg"}[head]
    if not 1 <= k <= MAX_KERNEL:
        raise NetError(f"Layer {index} ({t}): kernel {k} is outside 1..{MAX_KERNEL}.")
    opts: dict[str, int] = {}
    allowed = _OPTIONS[kind]
    for letter, value in re.findall(r"([a-z])(\d{1,2})", rest):
        if letter not in allowed:
            raise NetError(f"Layer {index} ({t}): '{letter}' is not an option of {kind} layers; they take "
                           f"{', '.join(allowed)} ({', '.join(_CAPS[a][0] for a in allowed)}).")
        if letter in opts:  # any order is fine (the token is rewritten as s p d f g), but one value each
            raise NetError(f"Layer {index} ({t}): '{letter}' ({_CAPS[letter][0]}) is given twice; write each option "
                           "once.")
        name, low, high = _CAPS[letter]
        v = int(value)
        if not low <= v <= high:
            raise NetError(f"Layer {index} ({t}): {name} {v} is outside {low}..{high}.")
        opts[letter] = v
    stride = opts.get("s", 1 if kind == "conv" else k)
    if kind != "conv" and opts.get("p", 0) > k // 2:
        raise NetError(f"Layer {index} ({t}): pooling pads at most half its window ({k} // 2 = {k // 2}), as in "
                       f"PyTorch; use p{k // 2} or less.")
    return Layer(kind, k, stride, opts.get("p", 0), opts.get("d", 1), opts.get("f"), opts.get("g", 1))


def parse_net(text: str) -> tuple[Layer, ...]:
    """The layers of a net text; raises NetError with the layer at fault and a fix."""
    tokens = [t for t in text.replace(" ", "").split(",")]
    if not text.strip() or any(not t for t in tokens):
        raise NetError("net: write one to four layers separated by commas, e.g. c3,relu,c3.")
    if len(tokens) > MAX_LAYERS:
        raise NetError(f"net: {len(tokens)} layers; the page draws at most {MAX_LAYERS}. Remove "
                       f"{len(tokens) - MAX_LAYERS}.")
    return tuple(parse_layer(t, i + 1) for i, t in enumerate(tokens))


def net_text(layers: tuple[Layer, ...]) -> str:
    """The net text of layers (parse_net's inverse, defaults left out)."""
    return ",".join(layer.token for layer in layers)


@dataclass(frozen=True)
class Planned:
    """A layer placed in the stack: its input and output shapes (N, C, H, W), its ConvSpec (ReLU: None) and its
    parameter count."""

    layer: Layer
    in_shape: tuple[int, int, int, int]
    out_shape: tuple[int, int, int, int]
    spec: ConvSpec | None
    params: int


def _spec_of(layer: Layer, shape: tuple[int, ...], index: int) -> ConvSpec | None:
    n, c, h, w = shape
    if layer.kind == "relu":
        return None
    k, window = layer.k, layer.effective_kernel
    if h + 2 * layer.p < window or w + 2 * layer.p < window:
        raise NetError(f"Layer {index} ({layer.token}) gets a {h}x{w} map (padded: {h + 2 * layer.p}x{w + 2 * layer.p}), "
                       f"smaller than its {window}x{window} window. Use a larger input (H, W), fewer or smaller "
                       "layers before it, or less stride.")
    try:
        if layer.kind == "conv":
            f = c if layer.f is None else layer.f
            check_groups(layer.g, c, f)
            return ConvSpec.create(h, w, k, layer.s, layer.p, layer.d, n=n, c=c, f=f, groups=layer.g)
        return pool_spec(shape, k, layer.s, layer.p)
    except ValueError as err:
        raise NetError(f"Layer {index} ({layer.token}): {err}") from None


def plan(layers: tuple[Layer, ...], input_shape: tuple[int, int, int, int]) -> tuple[Planned, ...]:
    """Every layer's shapes for an input (N, C, H, W); raises NetError for a stack that cannot run."""
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise NetError(f"net: {len(layers)} layers; use 1 to {MAX_LAYERS}.")
    out, shape = [], tuple(input_shape)
    for i, layer in enumerate(layers, 1):
        spec = _spec_of(layer, shape, i)
        new = shape if spec is None else spec.output_shape
        params = spec.params if layer.kind == "conv" else 0
        out.append(Planned(layer, shape, tuple(new), spec, params))
        shape = tuple(new)
    return tuple(out)


def init_params(planned: tuple[Planned, ...], seed: int = 0,
                x: np.ndarray | None = None) -> tuple[tuple[np.ndarray, np.ndarray] | None, ...]:
    """Every convolution's (w (F, C/G, K, K), b (F,)), None for the other layers: weights small random integers
    (-1..1) seeded per layer, so products stay readable through the stack.

    Biases: small random integers; or, given the input x (N, C, H, W), each filter's bias is the whole number that
    centres its output on x (minus the median of its pre-bias outputs, as batch normalisation would centre it), so a
    ReLU after it passes about half the cells and blocks the rest, whatever the data."""
    out, a = [], None if x is None else np.asarray(x, dtype=np.float64)
    for l, p in enumerate(planned):
        params = None
        if p.layer.kind == "conv":
            rng = np.random.default_rng([seed, l])
            w = rng.integers(-1, 2, size=p.spec.weight_shape).astype(np.float64)
            b = rng.integers(-1, 2, size=p.spec.f).astype(np.float64)
            if a is not None:
                pre = layer_forward(p, a, (w, np.zeros(p.spec.f)))  # (N, F, OH, OW)
                b = -np.floor(np.median(pre, axis=(0, 2, 3)))
            params = (w, b)
        out.append(params)
        if a is not None:
            a = layer_forward(p, a, params)
    return tuple(out)


def layer_forward(p: Planned, x: np.ndarray, params) -> np.ndarray:
    """One layer's output (N, C', H', W') for its input x (N, C, H, W)."""
    L = p.layer
    if L.kind == "conv":
        w, b = params
        return conv2d(x, w, b, L.s, L.p, L.d, groups=L.g)
    if L.kind == "relu":
        return np.maximum(x, 0.0)
    if L.kind == "max":
        return max_pool2d(x, L.k, L.s, L.p)
    return avg_pool2d(x, L.k, L.s, L.p)


def layer_backward(p: Planned, dout: np.ndarray, x: np.ndarray, params):
    """One layer's backward: (dx (N, C, H, W), dw, db) for dL/d(output) = dout; dw, db are None but for a convolution.

    ReLU: dx = dout * [x > 0] (PyTorch's rule: no gradient at exactly 0). Max pooling: dout goes to each window's
    first maximum. Average pooling: dout / (K*K) to every cell of the window. Convolution: conv2d_backward."""
    L = p.layer
    if L.kind == "conv":
        return conv2d_backward(dout, x, params[0], L.s, L.p, L.d, groups=L.g)
    if L.kind == "relu":
        return dout * (x > 0), None, None
    if L.kind == "max":
        return max_pool2d_backward(dout, x, L.k, L.s, L.p), None, None
    return avg_pool2d_backward(dout, x, L.k, L.s, L.p), None, None


def forward(planned: tuple[Planned, ...], x: np.ndarray, params) -> tuple[np.ndarray, ...]:
    """The activations (a_0 = x, a_1, ..., a_L), a_l = layer_l(a_{l-1})."""
    acts = [np.asarray(x, dtype=np.float64)]
    for p, prm in zip(planned, params):
        acts.append(layer_forward(p, acts[-1], prm))
    return tuple(acts)


@dataclass(frozen=True)
class Backward:
    """The backward pass: grads[l] = dL/da_l for l = 0..L (grads[L] the upstream gradient, grads[0] the input's),
    and each layer's dw, db (None for the layers without parameters), indexed like the layers (0..L-1)."""

    grads: tuple[np.ndarray, ...]
    dw: tuple[np.ndarray | None, ...]
    db: tuple[np.ndarray | None, ...]


def backward(planned: tuple[Planned, ...], acts: tuple[np.ndarray, ...], params, dout: np.ndarray,
             skip_relu_mask: bool = False) -> Backward:
    """The chain rule, one layer at a time from the last: dL/da_{l-1} = layer_l's backward of dL/da_l.

    skip_relu_mask: the bug lab's mistake (ReLU's gradient passed through unmasked)."""
    grads: list[np.ndarray] = [np.asarray(dout, dtype=np.float64)]
    dws: list = [None] * len(planned)
    dbs: list = [None] * len(planned)
    for l in range(len(planned) - 1, -1, -1):
        p = planned[l]
        if skip_relu_mask and p.layer.kind == "relu":
            dx = grads[0]
        else:
            dx, dws[l], dbs[l] = layer_backward(p, grads[0], acts[l], params[l])
        grads.insert(0, dx)
    return Backward(tuple(grads), tuple(dws), tuple(dbs))


def one_hot(shape: tuple[int, ...], n: int, f: int, i: int, j: int) -> np.ndarray:
    """An upstream gradient of `shape` (N, C, H, W): 1 at [n, f, i, j], 0 elsewhere."""
    g = np.zeros(shape)
    g[n, f, i, j] = 1.0
    return g


@dataclass(frozen=True)
class Field:
    """The receptive field of a layer's output cells on an earlier map, per axis: size r, jump j (input cells between
    neighbouring output cells' windows) and start (where output cell 0's window starts; negative: in the padding)."""

    size: int
    jump: int
    start: int

    def span(self, u: int) -> tuple[int, int]:
        """First and last row (or column) of output cell u's window, on the earlier map (may run into padding)."""
        a = self.start + u * self.jump
        return a, a + self.size - 1


def receptive_field(layers: tuple[Layer, ...]) -> Field:
    """The closed form for the last layer's cells on the first layer's input:
    r = 1 + sum_l (k_l' - 1) prod_{i<l} s_i, j = prod s_l, start = -sum_l p_l prod_{i<l} s_i."""
    size, jump, start = 1, 1, 0
    for L in layers:
        if L.kind == "relu":
            continue
        size += (L.effective_kernel - 1) * jump
        start -= L.p * jump
        jump *= L.s
    return Field(size, jump, start)


def reach_1d(planned: tuple[Planned, ...], cells: np.ndarray, axis: int) -> list[np.ndarray]:
    """The cells each map really reads, on one axis (0: rows, 1: columns), for the last map's cells `cells` (bool):
    reached[l] (bool, size of a_l on that axis) for l = 0..L, reached[L] = cells."""
    reached = [np.asarray(cells, dtype=bool)]
    for p in reversed(planned):
        size = p.in_shape[2 + axis]
        prev = np.zeros(size, dtype=bool)
        L = p.layer
        if L.kind == "relu":
            prev |= reached[0]
        else:
            for u in np.flatnonzero(reached[0]):
                taps = u * L.s + np.arange(L.k) * L.d - L.p
                prev[taps[(taps >= 0) & (taps < size)]] = True
        reached.insert(0, prev)
    return reached


def reach(planned: tuple[Planned, ...], i: int, j: int) -> list[np.ndarray]:
    """The cells of every map a_0 .. a_L that output cell (i, j) of the last layer reads (all channels alike for the
    layers here), as (H_l, W_l) bool masks. The product of the rows and columns reached: windows are rectangles."""
    H, W = planned[-1].out_shape[2:]
    rows = reach_1d(planned, np.arange(H) == i, 0)
    cols = reach_1d(planned, np.arange(W) == j, 1)
    return [r[:, None] & c[None, :] for r, c in zip(rows, cols)]


def path_channels(planned: tuple[Planned, ...], f: int, c: int) -> tuple[int, ...]:
    """One channel per map a_0 .. a_L on a path down from channel f of the last map: ReLU and pooling keep the
    channel (they mix none); a convolution's output channel reads every input channel of its group, and the path
    takes the group's c-th (held inside the group). So every map's channel is one the chosen output cell depends on.

    f: a channel of the last map (0 <= f < its channels); c: which input channel of a group to follow (>= 0)."""
    chans = [f]
    for p in reversed(planned):
        if p.layer.kind == "conv":
            per_in, per_out = p.in_shape[1] // p.layer.g, p.out_shape[1] // p.layer.g
            group = chans[0] // per_out
            chans.insert(0, group * per_in + min(c, per_in - 1))
        else:
            chans.insert(0, chans[0])
    return tuple(chans)


def group_channels(planned: tuple[Planned, ...]) -> int:
    """The most input channels one group of a convolution reads (1 without a convolution): the choices of
    `path_channels`' c that change a path."""
    return max((p.in_shape[1] // p.layer.g for p in planned if p.layer.kind == "conv"), default=1)


def paths_1d(planned: tuple[Planned, ...], cells: np.ndarray, axis: int) -> np.ndarray:
    """On one axis, the number of paths from each input row (or column) up to the last map's `cells` (counts):
    each layer sends every path count to all its window's taps, overlapping windows adding up."""
    counts = np.asarray(cells, dtype=np.int64)
    for p in reversed(planned):
        L, size = p.layer, p.in_shape[2 + axis]
        prev = np.zeros(size, dtype=np.int64)
        if L.kind == "relu":
            prev += counts
        else:
            for u in np.flatnonzero(counts):
                taps = u * L.s + np.arange(L.k) * L.d - L.p
                ok = (taps >= 0) & (taps < size)
                np.add.at(prev, taps[ok], counts[u])
        counts = prev
    return counts


def path_counts(planned: tuple[Planned, ...], i: int, j: int) -> np.ndarray:
    """(H, W) int: how many paths lead from each input cell up to output cell (i, j), counting one per window tap
    (one channel's worth: the one-hot gradient with every weight 1, no ReLU blocking, pooling as a sum). The shape
    of the effective receptive field before any weights: centre-weighted, uneven where strided windows overlap."""
    H, W = planned[-1].out_shape[2:]
    return np.outer(paths_1d(planned, np.arange(H) == i, 0), paths_1d(planned, np.arange(W) == j, 1))


def never_read(planned: tuple[Planned, ...]) -> np.ndarray:
    """(H, W) bool: the input cells no output cell reads at all (the last rows and columns a stride skips)."""
    H, W = planned[-1].out_shape[2:]
    rows = reach_1d(planned, np.ones(H, dtype=bool), 0)[0]
    cols = reach_1d(planned, np.ones(W, dtype=bool), 1)[0]
    return ~(rows[:, None] & cols[None, :])


def parameters(planned: tuple[Planned, ...]) -> int:
    return sum(p.params for p in planned)


@dataclass(frozen=True)
class NetSpec:
    """A validated stack on an input shape: the layers and every layer's shapes (`planned`)."""

    layers: tuple[Layer, ...]
    input_shape: tuple[int, int, int, int]
    planned: tuple[Planned, ...]

    @classmethod
    def create(cls, net: str | tuple[Layer, ...], input_shape: tuple[int, int, int, int]) -> NetSpec:
        """From a net text (or layers) and an input shape (N, C, H, W); raises NetError with the fix."""
        layers = parse_net(net) if isinstance(net, str) else tuple(net)
        shape = tuple(int(v) for v in input_shape)
        return cls(layers, shape, plan(layers, shape))

    @property
    def text(self) -> str:
        return net_text(self.layers)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return self.planned[-1].out_shape

    @property
    def field(self) -> Field:
        return receptive_field(self.layers)

    @property
    def params(self) -> int:
        return parameters(self.planned)
