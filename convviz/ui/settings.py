"""The app's settings and the URL contract (design.md): parse, validate, and write query parameters.

Pure Python (no Streamlit), so the one place that validates every input path is easy to test and fuzz.
A value that cannot be used is dropped with a note and the default is used; parsing never raises.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache

from ..data import INPUT_PRESETS, KERNEL_PRESETS
from ..geometry import ConvSpec
from ..network import NetError, net_text, parse_net
from ..typed import MAX_CHARS, TypedError, parse_grid

NET_MAX_CHARS = 80  # the network page's stack (convviz/network.py's grammar): four long layers fit
DEFAULT_NET = "c3,relu,c3"  # two 3x3 convolutions: the receptive field of one 5x5, with fewer weights
PAD_MODES = ("valid", "same", "full", "custom")
DOUT_PRESETS = ("random", "ones", "onehot", "custom")  # the backward pages' upstream gradient


@dataclass(frozen=True)
class IntField:
    """A whole-number URL parameter with its default and the app's cap (documented in the README)."""

    key: str
    label: str
    default: int
    low: int
    high: int


# The app's caps: what the largest settings may be so every page stays fast and figures stay small.
INT_FIELDS = (
    IntField("h", "H (height)", 6, 1, 32),
    IntField("w", "W (width)", 6, 1, 32),
    IntField("cin", "C (in channels)", 1, 1, 8),
    IntField("cout", "F (out channels)", 1, 1, 8),
    IntField("n", "N (batch)", 1, 1, 4),
    IntField("kh", "KH (kernel)", 3, 1, 7),
    IntField("kw", "KW (kernel)", 3, 1, 7),
    IntField("sh", "SH (stride)", 1, 1, 4),
    IntField("sw", "SW (stride)", 1, 1, 4),
    IntField("dh", "DH (dilation)", 1, 1, 4),
    IntField("dw", "DW (dilation)", 1, 1, 4),
    IntField("pt", "top", 0, 0, 8),
    IntField("pb", "bottom", 0, 0, 8),
    IntField("pl", "left", 0, 0, 8),
    IntField("pr", "right", 0, 0, 8),
    IntField("seed", "random seed", 0, 0, 9999),
    IntField("groups", "groups", 1, 1, 8),  # the pages that show grouped convolution
    IntField("oph", "output padding (rows)", 0, 0, 3),  # the transposed convolution page
    IntField("opw", "output padding (columns)", 0, 0, 3),
    IntField("oi", "one-hot row i", 0, 0, 63),  # the one-hot upstream gradient's output cell
    IntField("oj", "one-hot column j", 0, 0, 63),
    IntField("ri", "output cell row i", 0, 0, 31),  # the network page's chosen output cell
    IntField("rj", "output cell column j", 0, 0, 31),
    IntField("rf", "output cell channel f", 0, 0, 7),  # the network page's chosen cell's channel (a stack's F <= 8)
    IntField("rc", "input channel followed", 0, 0, 7),  # the network page: the channel drawn per map (path_channels)
)
INT_BY_KEY = {f.key: f for f in INT_FIELDS}
# The largest settings the benchmarks and tests measure: every size at its cap, stride 1 and "same" padding (the most
# windows), random data.
LARGEST_QUERY = {**{k: str(INT_BY_KEY[k].high) for k in ("h", "w", "n", "cin", "cout", "kh", "kw")},
                 "pad": "same", "data": "random"}
CHOICE_FIELDS = {
    "pad": ("padding mode", "valid", PAD_MODES),
    "data": ("input data", "ids", tuple(INPUT_PRESETS)),
    "kernel": ("kernel preset", "random", tuple(KERNEL_PRESETS)),
    "pool": ("pooling", "max", ("max", "avg")),  # the pooling page
    "cip": ("count_include_pad", "true", ("true", "false")),  # average pooling's divisor at padded borders
    "dout": ("upstream gradient", "random", DOUT_PRESETS),
}
# Typed numbers (convviz/typed.py's grammar) and the most characters each may hold in a link.
TEXT_FIELDS = {"xv": MAX_CHARS, "kv": MAX_CHARS, "bv": 400, "gv": MAX_CHARS, "net": NET_MAX_CHARS}
PAGE_FIELDS = ("groups", "oph", "opw", "pool", "cip", "net", "ri", "rj", "rf", "rc")  # set by controls on their pages, not in the sidebar
KNOWN_KEYS = set(INT_BY_KEY) | set(CHOICE_FIELDS) | set(TEXT_FIELDS)
MAX_VALUE_CHARS = 400  # a longer URL value is refused unread
_INT_RE = re.compile(r"^[+-]?\d{1,6}$")


@dataclass(frozen=True)
class Settings:
    """Everything the shared controls set. Field names are the URL keys."""

    h: int = 6
    w: int = 6
    cin: int = 1
    cout: int = 1
    n: int = 1
    kh: int = 3
    kw: int = 3
    sh: int = 1
    sw: int = 1
    dh: int = 1
    dw: int = 1
    pad: str = "valid"
    pt: int = 0
    pb: int = 0
    pl: int = 0
    pr: int = 0
    data: str = "ids"
    kernel: str = "random"
    seed: int = 0
    kv: str = ""  # custom kernels: rows separated by ';', entries by ',', kernels by '|' (convviz/typed.py)
    xv: str = ""  # custom input (data=custom): its text sets H, W and C
    bv: str = ""  # custom biases (with the custom kernel)
    gv: str = ""  # custom upstream gradient (dout=custom)
    dout: str = "random"
    oi: int = 0
    oj: int = 0
    groups: int = 1
    oph: int = 0
    opw: int = 0
    pool: str = "max"
    cip: str = "true"
    net: str = DEFAULT_NET
    ri: int = 0
    rj: int = 0
    rf: int = 0
    rc: int = 0

    @property
    def padding(self):
        return (self.pt, self.pb, self.pl, self.pr) if self.pad == "custom" else self.pad

    def spec(self) -> ConvSpec:
        """The ConvSpec of these settings; raises ValueError (with a fix) for an impossible geometry."""
        return ConvSpec.create(self.h, self.w, (self.kh, self.kw), (self.sh, self.sw), self.padding, (self.dh, self.dw),
                               n=self.n, c=self.cin, f=self.cout, groups=self.groups)

    def transposed(self):
        """The transposed-convolution layer of these settings: H x W is its own input x', the kernel, stride and
        dilation as set, the padding cropped from each side (valid: none; custom: equal top/bottom and left/right, as
        PyTorch's ConvTranspose2d takes one per axis) and the output padding (oph, opw). Raises ValueError with a fix."""
        from ..transposed import TransposedSpec

        if self.pad in ("same", "full"):
            raise ValueError(f"padding: a transposed convolution has no '{self.pad}' mode (PyTorch's ConvTranspose2d takes "
                             "a number of rows and columns to crop from each side). Choose 'valid' (no padding) or "
                             "'custom' with equal top and bottom, left and right.")
        if (self.pt, self.pl) != (self.pb, self.pr) and self.pad == "custom":
            raise ValueError(f"padding: top/bottom {self.pt}/{self.pb} and left/right {self.pl}/{self.pr} are not equal, and "
                             "PyTorch has no transposed convolution with an asymmetric padding (ConvTranspose2d crops "
                             "the same on both sides of an axis). Make top = bottom and left = right.")
        pad = (self.pt, self.pl) if self.pad == "custom" else 0
        return TransposedSpec.create(self.h, self.w, (self.kh, self.kw), (self.sh, self.sw), pad, (self.oph, self.opw),
                                     (self.dh, self.dw), n=self.n, cin=self.cin, cout=self.cout)

    def array_spec(self) -> ConvSpec:
        """A layer with these settings' input and kernel shapes that is always valid (stride 1, 'full' padding): the
        data presets depend only on those shapes, so pages whose own layer is not the forward convolution (the
        transposed one) get the same numbers."""
        return ConvSpec.create(self.h, self.w, (self.kh, self.kw), 1, "full", (self.dh, self.dw), n=self.n, c=self.cin,
                               f=self.cout, groups=self.groups)

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


DEFAULTS = Settings()


def _first(value) -> str:
    """Streamlit gives a str (or a list for repeated keys); use the last value given, as str."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value)


def _show(value: str) -> str:
    """A user's value, shortened and quoted for a note (plain text: notes are never rendered as HTML)."""
    v = value if len(value) <= 24 else value[:21] + "..."
    return repr(v)


def parse_int(key: str, raw: str, notes: list[str]) -> int | None:
    field = INT_BY_KEY[key]
    raw = raw.strip()
    if not _INT_RE.match(raw):
        notes.append(f"{key}: {_show(raw)} is not a whole number; using the default {field.default}.")
        return None
    v = int(raw)
    if not field.low <= v <= field.high:
        notes.append(f"{key}: {v} is outside {field.low}..{field.high} ({field.label}); using the default {field.default}.")
        return None
    return v


def parse_query(query: Mapping[str, object]) -> tuple[Settings, list[str]]:
    """Settings from URL query parameters, and the notes on what was dropped. Never raises."""
    notes: list[str] = []
    values: dict[str, object] = {}
    for key, raw in query.items():
        key_s = str(key)
        if key_s not in KNOWN_KEYS:
            continue  # unknown keys (page state of other tools, tracking tags) are ignored
        text = _first(raw)
        cap = TEXT_FIELDS.get(key_s, MAX_VALUE_CHARS)
        if len(text) > cap:
            notes.append(f"{key_s}: the value is longer than {cap} characters; ignored.")
            continue
        if key_s in INT_BY_KEY:
            v = parse_int(key_s, text, notes)
            if v is not None:
                values[key_s] = v
        elif key_s in CHOICE_FIELDS:
            label, default, allowed = CHOICE_FIELDS[key_s]
            t = text.strip().lower()
            if t in allowed:
                values[key_s] = t
            else:
                notes.append(f"{key_s}: {_show(text)} is not a valid {label} (one of {', '.join(allowed)}); using {default!r}.")
        elif key_s == "net":
            try:
                values[key_s] = net_text(parse_net(text))
            except NetError as err:
                notes.append(f"net: {str(err).removeprefix('net: ')} Using the default {DEFAULT_NET!r}.")
        elif key_s in TEXT_FIELDS:
            values[key_s] = text.strip()
    return with_typed_shape(Settings(**values)), notes


@lru_cache(maxsize=64)
def typed_input_shape(text: str) -> tuple[int, int, int] | None:
    """(C, H, W) of a typed input, or None when it does not parse; parsed once per text (every app run asks)."""
    try:
        return parse_grid(text, "input").shape
    except TypedError:
        return None


def with_typed_shape(settings: Settings) -> Settings:
    """The settings with H, W and C taken from a typed input (data=custom) that parses; unchanged otherwise (a text
    that does not parse is reported where the page builds its data, with the row or column at fault)."""
    shape = typed_input_shape(settings.xv) if settings.data == "custom" and settings.xv else None
    if shape is None:
        return settings
    c, h, w = shape
    caps = {k: INT_BY_KEY[k] for k in ("cin", "h", "w")}
    if not all(caps[k].low <= v <= caps[k].high for k, v in (("cin", c), ("h", h), ("w", w))):
        return settings  # too large for the app: build_arrays says so
    return settings.with_(cin=c, h=h, w=w)


def to_query(settings: Settings) -> dict[str, str]:
    """Query parameters for settings; a parameter at its default is left out."""
    out = {}
    for f in fields(Settings):
        v = getattr(settings, f.name)
        if v != getattr(DEFAULTS, f.name):
            out[f.name] = str(v)
    # Padding sides only mean something in custom mode.
    if settings.pad != "custom":
        for k in ("pt", "pb", "pl", "pr"):
            out.pop(k, None)
    if settings.kernel != "custom":
        out.pop("kv", None)
        out.pop("bv", None)
    if settings.data != "custom":
        out.pop("xv", None)
    if settings.dout != "custom":
        out.pop("gv", None)
    if settings.dout != "onehot":
        out.pop("oi", None)
        out.pop("oj", None)
    return out
