"""Read the numbers a teacher types or pastes (x, w, b, dout) and write them back in a compact URL form.

Grammar (the same for every function here; `|` is only read by parse_grid and parse_kernels):

    text     := block ( "|" block )*                 one block per channel (or per kernel)
    block    := plain | pasted
    plain    := rows separated by ";" or new lines; numbers in a row separated by "," and/or spaces.
                Blank rows and repeated or trailing separators are ignored: "1, 2,; 3 4;" is 2x2.
    pasted   := [ "array(" | "np.array(" | "numpy.array(" ] list [ "," "dtype=..." ] [ ")" ]
    list     := "[" ( number | list ) ( ("," | spaces) ( number | list ) )* [","] "]"
    number   := [+-] ( digits [ "." digits? ] | "." digits ) [ ("e" | "E") [+-] digits ]   (ASCII 0-9 only)

A pasted block is one nested list: `repr(a)`, `str(a)` (no commas) or `str(a.tolist())` of a NumPy array.
Its nesting decides its meaning: 1 level is one row, 2 levels rows x columns, 3 levels channels x rows x
columns (for kernels: kernels typed one after another), 4 levels (kernels only) filters x channels x rows x columns.

Numbers must be finite and within +-MAX_VALUE; `nan`, `inf`, hex (`0x10`), underscores (`1_000`) and
non-ASCII digits (Arabic-Indic, fullwidth, ...) are refused, although Python's `float` accepts some of them.

Why not `eval` or `ast.literal_eval`: the text comes from strangers (a shared URL), `eval` runs code, and
`literal_eval` still accepts far more than numbers (strings, complex numbers, `1_000`, deeply nested input
that overflows the parser's stack). A small tokenizer that knows only numbers, brackets, commas, `;`, `|`,
whitespace and the `array(..., dtype=...)` wrapper accepts exactly the grammar above and can say, for every
refusal, which row, column and channel is wrong.

Errors are `TypedError` (a ValueError) whose message starts with what was being read ("input: ...") and
names places 1-based, as people count. A message never quotes more than SHOW_CHARS characters of the text.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

MAX_CHARS = 4000  # a longer text is refused unread
MAX_VALUE = 1e6  # the largest magnitude a typed number may have
SHOW_CHARS = 20  # at most this many characters of the user's text appear in a message


def _limit_text(v: float) -> str:
    """1e6 -> '1e6' (not Python's '1e+06'), for messages."""
    mantissa, exponent = f"{v:e}".split("e")
    return f"±{float(mantissa):g}e{int(exponent)}"


_LIMIT = _limit_text(MAX_VALUE)


class TypedError(ValueError):
    """A text that cannot be read; the message says where (row, column, channel; 1-based) and what was expected."""


# ------------------------------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<open>(?:np\.|numpy\.)?array\s*\()"
    r"|(?P<dtype>dtype\s*=\s*(?:np\.|numpy\.)?(?:float(?:16|32|64)?|u?int(?:8|16|32|64)?|double|single|half)\b)"
    r"|(?P<punct>[\[\],;|)])"
    r"|(?P<word>[^\s\[\],;|)]+)"
)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)

Token = tuple[str, str]  # (kind, text); kind is "ws", "nl", "word", "open", "dtype" or the punctuation itself


def _tokens(text: str) -> list[Token]:
    """Split text into tokens; every character belongs to exactly one token (the pattern covers them all)."""
    out = []
    for m in _TOKEN.finditer(text):
        kind, s = m.lastgroup, m.group()
        if kind == "space":
            kind = "nl" if ("\n" in s or "\r" in s) else "ws"
        elif kind == "punct":
            kind = s
        out.append((kind, s))
    return out


def _strip(toks: list[Token]) -> list[Token]:
    """Tokens without leading and trailing whitespace."""
    i, j = 0, len(toks)
    while i < j and toks[i][0] in ("ws", "nl"):
        i += 1
    while j > i and toks[j - 1][0] in ("ws", "nl"):
        j -= 1
    return toks[i:j]


def _show(s: str) -> str:
    """A piece of the user's text for a message: quoted, at most SHOW_CHARS characters of it."""
    return repr(s if len(s) <= SHOW_CHARS else s[: SHOW_CHARS - 3] + "...")


def _show_token(tok: Token) -> str:
    return _show(tok[1].strip() or tok[1])


# ------------------------------------------------------------------------------------------------- places


@dataclass(frozen=True)
class _Kind:
    """What is being read: its name in messages, an example, how deep brackets may nest and what each level means."""

    what: str
    example: str
    max_depth: int
    axes: dict[int, tuple[str, ...]]  # nesting depth -> the name of each level, outermost first
    block: str | None  # what a "|"-separated block is called ("channel", "kernel"), None when "|" is not allowed


_GRID_AXES = {1: ("column",), 2: ("row", "column"), 3: ("channel", "row", "column")}
_KERNEL_AXES = {1: ("column",), 2: ("row", "column"), 3: ("kernel", "row", "column"), 4: ("filter", "channel", "row", "column")}
_VECTOR_AXES = {1: ("position",)}


class _Namer:
    """Names a place in a block from its 0-based index path, e.g. (1, 2) -> 'row 2, column 3 of channel 2'.

    block: (label, 1-based number) of the "|"-block, shown only when the text has several blocks.
    offset: blocks before this one, added to the outermost index when that level is the block's own kind
    (a 3-level pasted array in the second block starts at channel offset + 1).
    """

    def __init__(self, kind: _Kind, block: tuple[str, int] | None, offset: int):
        self.kind, self.block, self.offset = kind, block, offset

    def coords(self, path: tuple[int, ...], depth: int | None = None) -> dict[str, int]:
        depth = len(path) if depth is None else depth
        axes = self.kind.axes.get(depth, ())
        coords = {}
        if self.block and self.block[0] not in axes:
            coords[self.block[0]] = self.block[1]
        if "column" in axes and "row" not in axes:
            coords["row"] = 1  # a flat list is one row
        for i, (name, idx) in enumerate(zip(axes, path)):
            coords[name] = idx + 1 + (self.offset if i == 0 and name == self.kind.block else 0)
        return coords

    def __call__(self, path: tuple[int, ...], depth: int | None = None) -> str:
        return _place(self.coords(path, depth))


def _place(coords: dict[str, int]) -> str:
    """'row 2, column 3 of channel 2', 'row 4', 'channel 2', 'position 3', 'row 1 of filter 2, channel 1'."""
    if "position" in coords:
        return f"position {coords['position']}"
    head = ", ".join(f"{k} {coords[k]}" for k in ("row", "column") if k in coords)
    tail = ", ".join(f"{k} {coords[k]}" for k in ("kernel", "filter", "channel") if k in coords)
    return f"{head} of {tail}" if head and tail else head or tail


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# ------------------------------------------------------------------------------------------------ numbers


def _number(s: str, what: str, name: _Namer, path: tuple[int, ...], depth: int | None = None) -> float:
    """One number token -> float, or a TypedError naming the token and its place (name(path, depth), built only then)."""
    if _SPECIAL.fullmatch(s):
        raise TypedError(f"{what}: {s} in {name(path, depth)} is not allowed: use finite numbers within {_LIMIT}.")
    if not _NUMBER.fullmatch(s):
        hint = ""
        if not s.isascii():
            hint = " (type digits as plain ASCII 0-9)"
        elif "..." in s:
            hint = " (NumPy shortened the array: print it after np.set_printoptions(threshold=sys.maxsize))"
        elif "(" in s:
            hint = " (paste repr(a) or str(a.tolist()) of the whole array)"
        raise TypedError(f"{what}: {_show(s)} in {name(path, depth)} is not a number{hint}.")
    v = float(s)
    if not math.isfinite(v) or abs(v) > MAX_VALUE:
        raise TypedError(f"{what}: {_show(s)[1:-1]} in {name(path, depth)} is outside {_LIMIT}: use finite numbers within {_LIMIT}.")
    return v


# --------------------------------------------------------------------------------------------- structure


def _prepare(text: str | None, kind: _Kind, max_chars: int) -> list[list[Token]]:
    """Check the length, tokenize, and split at top-level '|' into blocks (each stripped of outer whitespace)."""
    what = kind.what
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise TypedError(f"{what}: expected text, got {type(text).__name__}.")
    if len(text) > max_chars:
        raise TypedError(f"{what}: the text has {len(text)} characters; at most {max_chars} are read.")
    if not text.strip():
        raise TypedError(f"{what}: nothing typed: type numbers like {kind.example}.")
    toks = _tokens(text)
    if not any(k == "word" for k, _ in toks):
        raise TypedError(f"{what}: no numbers, only separators: type numbers like {kind.example}.")
    blocks: list[list[Token]] = [[]]
    depth = 0
    for tok in toks:
        if tok[0] == "[":
            depth += 1
        elif tok[0] == "]":
            depth = max(depth - 1, 0)
        if tok[0] != "|":
            blocks[-1].append(tok)
        elif kind.block is None:
            raise TypedError(f"{what}: '|' is not used here: type one list of numbers like {kind.example}.")
        elif depth:
            raise TypedError(f"{what}: '|' inside brackets: put it between whole arrays, e.g. '[[1, 2]] | [[3, 4]]'.")
        else:
            blocks.append([])
    return [_strip(b) for b in blocks]


def _unwrap(toks: list[Token], what: str) -> list[Token]:
    """'array(' list [, dtype=...] ')' -> the list's tokens."""
    if toks[-1][0] != ")":
        raise TypedError(f"{what}: 'array(' is not closed: add the ')' at the end.")
    inner = _strip(toks[1:-1])
    if inner and inner[-1][0] == "dtype":
        inner = _strip(inner[:-1])
    while inner and inner[-1][0] == ",":
        inner = _strip(inner[:-1])
    if not inner or inner[0][0] != "[":
        raise TypedError(f"{what}: expected '[' after 'array(': paste the whole array, brackets included.")
    return inner


def _read_list(toks: list[Token], i: int, path: tuple[int, ...], kind: _Kind, name: _Namer) -> tuple[list, int]:
    """The bracketed list opening at toks[i] -> (nested lists of floats, index after its ']')."""
    if len(path) >= kind.max_depth:
        levels = "one flat list" if kind.max_depth == 1 else ", ".join(f"{a}s" for a in kind.axes[kind.max_depth])
        raise TypedError(f"{kind.what}: too many levels of brackets: at most {kind.max_depth} are read ({levels}).")
    items: list = []
    i += 1
    while i < len(toks):
        k, s = toks[i]
        if k == "]":
            return items, i + 1
        if k == "[":
            node, i = _read_list(toks, i, path + (len(items),), kind, name)
            items.append(node)
            continue
        if k == "word":
            items.append(_number(s, kind.what, name, path + (len(items),)))
        elif k not in ("ws", "nl", ","):
            raise TypedError(f"{kind.what}: {_show_token(toks[i])} inside brackets is not understood: "
                             "inside a pasted array separate numbers by commas or spaces.")
        i += 1
    raise TypedError(f"{kind.what}: a '[' is never closed: add the missing ']'.")


def _shape(node: list | float, path: tuple[int, ...], kind: _Kind, name: _Namer) -> tuple[int, ...]:
    """The shape of a nested list, or a TypedError naming the first row (column, channel) that does not fit."""
    if not isinstance(node, list):
        return ()
    if not node:
        where = name(path, len(path) + 1) if path else "the pasted array"
        raise TypedError(f"{kind.what}: empty brackets '[]' at {where}: every row needs numbers.")
    shapes = [_shape(child, path + (i,), kind, name) for i, child in enumerate(node)]
    for i, s in enumerate(shapes):
        if s != shapes[0]:
            raise TypedError(_mismatch(kind, name, path, i, s, shapes[0]))
    return (len(node),) + shapes[0]


def _mismatch(kind: _Kind, name: _Namer, path: tuple[int, ...], i: int, got: tuple[int, ...], ref: tuple[int, ...]) -> str:
    """'input: row 3 of channel 2 has 4 numbers, the rows above have 5.' (child i of the list at path vs child 0)."""
    depth = len(path) + 1 + len(ref)
    axes = kind.axes.get(depth, ())
    level = axes[len(path)] if len(path) < len(axes) else "item"
    here = name(path + (i,), depth)
    others = f"{level} 1" if i == 1 else f"the {level}s above"
    have = "has" if i == 1 else "have"
    if len(got) != len(ref):
        if not got:
            return f"{kind.what}: {here} is a single number, but {others} {'is a list' if i == 1 else 'are lists'} in brackets."
        if not ref:
            return f"{kind.what}: {here} is a list in brackets where a number was expected."
        return f"{kind.what}: {here} has {len(got)} levels of brackets, {others} {have} {len(ref)}."
    j = next(j for j in range(len(got)) if got[j] != ref[j])
    below = axes[len(path) + 1:] if axes else ()
    unit = "number" if j == len(got) - 1 else (below[j] if j < len(below) else "item")
    if j == 0:
        return f"{kind.what}: {here} has {_count(got[0], unit)}, {others} {have} {ref[0]}."
    outer = below[j - 1] if j - 1 < len(below) else "item"
    return f"{kind.what}: {here} has {outer}s of {_count(got[j], unit)}, {others} {have} {outer}s of {ref[j]}."


def _read_pasted(toks: list[Token], kind: _Kind, name: _Namer) -> np.ndarray:
    """A pasted block (optionally wrapped in array(...)) -> an array with as many dimensions as bracket levels."""
    if toks[0][0] == "open":
        toks = _unwrap(toks, kind.what)
    node, i = _read_list(toks, 0, (), kind, name)
    rest = [t for t in toks[i:] if t[0] not in ("ws", "nl", ",")]
    if rest:
        raise TypedError(f"{kind.what}: {_show_token(rest[0])} after the closing ']': paste one whole array "
                         "(wrap the rows in one more pair of brackets), or separate arrays by '|'.")
    _shape(node, (), kind, name)
    return np.array(node, dtype=np.float64)


def _read_plain(toks: list[Token], kind: _Kind, name: _Namer) -> np.ndarray:
    """Plain rows ('1, 2; 3 4' or one row per line) -> a (rows, cols) array."""
    rows: list[list[float]] = []
    row: list[float] = []
    for tok in toks:
        k, s = tok
        if k in ("ws", ","):
            continue
        if k in ("nl", ";"):
            if row:
                rows.append(row)
                row = []
        elif k == "word":
            row.append(_number(s, kind.what, name, (len(rows), len(row)), 2))
        else:
            raise TypedError(f"{kind.what}: unexpected {_show_token(tok)} in {name((len(rows),), 2)}: type plain rows "
                             f"like {kind.example}, or paste one whole array in brackets.")
    if row:
        rows.append(row)
    _shape(rows, (), kind, name)
    return np.array(rows, dtype=np.float64)


def _read_block(toks: list[Token], kind: _Kind, name: _Namer, empty: str) -> np.ndarray:
    """One '|'-block, plain or pasted. `empty` names it for the message when it holds no numbers."""
    if not any(k == "word" for k, _ in toks):
        raise TypedError(f"{kind.what}: {empty} is empty: type numbers between the '|' separators.")
    if toks[0][0] in ("[", "open"):
        return _read_pasted(toks, kind, name)
    return _read_plain(toks, kind, name)


# ------------------------------------------------------------------------------------------------ public

_GRID = "'1, 2; 3, 4' (';' or a new line between rows, '|' between channels)"
_KERNEL = "'1, 0, -1; 2, 0, -2; 1, 0, -1' ('|' between kernels)"
_VECTOR = "'0.5, -1, 2'"


def parse_grid(text: str, what: str = "input", max_chars: int = MAX_CHARS, shape: tuple[int, int, int] | None = None) -> np.ndarray:
    """Typed or pasted numbers -> float64 array of shape (channels, rows, cols).

    Channels are separated by '|' ('1, 2; 3, 4 | 5, 6; 7, 8' is 2 channels of 2x2), or pasted as one
    3-level nested list. A flat list is one row: (1, 1, n). `shape`, when given, is the (C, H, W) the
    caller needs; a different size raises a TypedError naming what differs.
    """
    kind = _Kind(what, _GRID, 3, _GRID_AXES, "channel")
    blocks = _prepare(text, kind, max_chars)
    arrays: list[np.ndarray] = []
    offset = 0
    for blk in blocks:
        name = _Namer(kind, ("channel", offset + 1) if len(blocks) > 1 else None, offset)
        a = _read_block(blk, kind, name, f"channel {offset + 1}")
        a = a.reshape((1,) * (3 - a.ndim) + a.shape)
        if arrays and a.shape[1:] != arrays[0].shape[1:]:
            raise TypedError(_block_mismatch(what, "channel", offset + 1, a.shape[1:], arrays[0].shape[1:], offset))
        arrays.append(a)
        offset += a.shape[0]
    out = np.concatenate(arrays)
    if shape is not None:
        _check_shape(what, out.shape, tuple(shape))
    return out


def _block_mismatch(what: str, label: str, number: int, got: tuple[int, int], ref: tuple[int, int], before: int) -> str:
    """'input: channel 3 has 2 rows, the channels above have 3.' (a '|'-block of a different size)."""
    others = f"{label} 1" if before == 1 else f"the {label}s above"
    have = "has" if before == 1 else "have"
    if got[0] != ref[0]:
        return f"{what}: {label} {number} has {_count(got[0], 'row')}, {others} {have} {ref[0]}."
    return f"{what}: {label} {number} has rows of {_count(got[1], 'number')}, {others} {have} rows of {ref[1]}."


def _check_shape(what: str, got: tuple[int, ...], want: tuple[int, ...]) -> None:
    """A TypedError saying which of channels, rows, columns differs from what the caller needs."""
    size = f"{want[-2]}x{want[-1]}"
    for n, w, noun in zip(got, want, ("channel", "row", "column")):
        if n != w:
            extra = f" (each channel is {size})" if noun != "channel" else ""
            raise TypedError(f"{what}: {_count(n, noun)} typed, expected {w}{extra}.")


def parse_vector(text: str, what: str = "bias", max_chars: int = MAX_CHARS, size: int | None = None) -> np.ndarray:
    """Typed or pasted numbers -> float64 array of shape (n,).

    Numbers are separated by commas, spaces, ';' or new lines, or pasted as one flat list ('[0.5, -1]',
    'array([0.5, -1.])'). `size`, when given, is the length the caller needs.
    """
    kind = _Kind(what, _VECTOR, 1, _VECTOR_AXES, None)
    toks = _prepare(text, kind, max_chars)[0]
    name = _Namer(kind, None, 0)
    if toks[0][0] in ("[", "open"):
        out = _read_pasted(toks, kind, name)
    else:
        values = []
        for tok in toks:
            if tok[0] == "word":
                values.append(_number(tok[1], what, name, (len(values),)))
            elif tok[0] not in ("ws", "nl", ",", ";"):
                raise TypedError(f"{what}: unexpected {_show_token(tok)} after position {len(values)}: "
                                 f"type numbers like {_VECTOR}, or paste one list in brackets.")
        out = np.array(values, dtype=np.float64)
    if size is not None and out.shape[0] != size:
        raise TypedError(f"{what}: {_count(out.shape[0], 'number')} typed, expected {size}.")
    return out


def parse_kernels(text: str, f: int, c: int, kh: int, kw: int, what: str = "kernel", max_chars: int = MAX_CHARS) -> np.ndarray:
    """Typed or pasted kernels -> float64 array of shape (F, C, KH, KW).

    Kernels are typed one (f, c) pair after another, f major and c minor (w[0, 0] | w[0, 1] | ... | w[1, 0] | ...),
    separated by '|', each as plain rows ('1, 0, -1; 2, 0, -2; 1, 0, -1', the old single-kernel syntax) or pasted
    in brackets; a 3-level pasted list is several kernels in that order, and a 4-level one (F, C, KH, KW) must be
    pasted alone. Exactly one kernel, when F*C > 1, is used for every (f, c) pair.
    """
    kind = _Kind(what, _KERNEL, 4, _KERNEL_AXES, "kernel")
    blocks = _prepare(text, kind, max_chars)
    kernels: list[np.ndarray] = []
    for blk in blocks:
        name = _Namer(kind, ("kernel", len(kernels) + 1) if len(blocks) > 1 else None, len(kernels))
        a = _read_block(blk, kind, name, f"kernel {len(kernels) + 1}")
        if a.ndim == 4:
            if len(blocks) > 1:
                raise TypedError(f"{what}: a 4-level array (filters, channels, rows, columns) must be pasted alone, without '|'.")
            return _four_levels(a, what, f, c, kh, kw)
        kernels.extend(a if a.ndim == 3 else [a.reshape(-1, a.shape[-1])])
    for k, a in enumerate(kernels):
        _check_kernel(what, a.shape, kh, kw, f"kernel {k + 1}" if len(kernels) > 1 else "the kernel")
    if len(kernels) not in (1, f * c):
        got = _count(len(kernels), "kernel")
        if f * c == 1:
            raise TypedError(f"{what}: {got} typed, expected 1.")
        raise TypedError(f"{what}: {got} typed, expected 1 (used for every filter and channel) or {f * c} "
                         f"(one per filter and channel: F={f} x C={c}, in the order w[0,0] | w[0,1] | ... | w[1,0] | ...).")
    w = np.stack(kernels)
    return np.broadcast_to(w, (f * c, kh, kw)).reshape(f, c, kh, kw).copy()


def _check_kernel(what: str, got: tuple[int, int], kh: int, kw: int, label: str) -> None:
    """'kernel: kernel 2 has 3 rows, expected 2 (each kernel is 2x3).'"""
    if got[0] != kh:
        raise TypedError(f"{what}: {label} has {_count(got[0], 'row')}, expected {kh} (each kernel is {kh}x{kw}).")
    if got[1] != kw:
        raise TypedError(f"{what}: {label} has rows of {_count(got[1], 'number')}, expected {kw} (each kernel is {kh}x{kw}).")


def _four_levels(a: np.ndarray, what: str, f: int, c: int, kh: int, kw: int) -> np.ndarray:
    """A pasted (F, C, KH, KW) array, checked; one (1, 1, KH, KW) kernel is used for every pair."""
    _check_kernel(what, a.shape[2:], kh, kw, "each pasted kernel")
    if a.shape[:2] == (f, c):
        return a
    if a.shape[:2] == (1, 1):
        return np.broadcast_to(a, (f, c, kh, kw)).copy()
    raise TypedError(f"{what}: the pasted array holds {a.shape[0]}x{a.shape[1]} kernels (filters x channels), "
                     f"expected 1x1 (used for every pair) or {f}x{c}.")


def _num_text(v: float) -> str:
    """The shortest text that reads back as exactly v: repr(float), with '.0' dropped for whole numbers."""
    r = repr(float(v))
    return r[:-2] if r.endswith(".0") else r


def grid_text(a: np.ndarray) -> str:
    """The compact URL form of an array: rows by ';', values by ',', channels (or kernels) by '|'.

    (C, H, W) -> 'h1;h2|...'; (H, W) and (W,) are one channel; (F, C, KH, KW) lists the kernels f major, c minor,
    as parse_kernels reads them. parse_grid(grid_text(a)) == a exactly, bit for bit (-0.0 included).
    """
    a = np.asarray(a, dtype=np.float64)
    if not 1 <= a.ndim <= 4 or a.size == 0:
        raise ValueError(f"grid_text: expected a non-empty array of 1 to 4 dimensions, got shape {a.shape}.")
    if not np.all(np.isfinite(a)) or np.any(np.abs(a) > MAX_VALUE):
        raise ValueError(f"grid_text: every value must be finite and within {_LIMIT}.")
    blocks = a.reshape(1, 1, -1) if a.ndim == 1 else a.reshape((-1,) + a.shape[-2:])
    return "|".join(";".join(",".join(_num_text(v) for v in row) for row in blk) for blk in blocks)
