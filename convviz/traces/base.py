"""Immutable step traces: what each stage computes, step by step, with the real numbers.

A `Trace` is one animated picture: fixed named `Panel`s (2-D grids, or stacks of them, one per channel)
and ordered `Step`s. A step has a title, a caption carrying the actual numbers, highlight masks on panels,
and optionally new values for some panels (e.g. an accumulator after this step). The figures layer draws
only from these objects; it does no arithmetic of its own.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

# Panel kinds: the figures layer gives every kind one colour scale, the same on every page.
KINDS = ("value", "grad", "index", "count", "error")
# Highlight roles: one outline colour each, the same on every page.
ROLES = ("read", "write", "focus", "uncovered", "padding", "wrong")


class ReadOnlyMap(Mapping):
    """A read-only mapping that pickles (unlike MappingProxyType), so traces can be cached."""

    def __init__(self, items: Mapping) -> None:
        self._d = dict(items)

    def __getitem__(self, key: str):
        return self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __repr__(self) -> str:
        return f"ReadOnlyMap({self._d!r})"


def frozen(a: object, dtype: type | None = None) -> np.ndarray:
    """A read-only copy (never a view someone else could still write through)."""
    out = np.array(a, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class Panel:
    """One named grid. values: (R, K) or (C, R, K) for one grid per channel.

    row_start/col_start: the label of the first row/column, e.g. -top for a padded input so that the
    original input keeps its own indices. mask_padding: optional (R, K) bool of padding cells to shade.
    under: drawn under the panel before it in its figure row, when it has one (i = i0 + i1 under i1, beside i0:
    the broadcast sum reads as an addition table).
    """

    name: str
    title: str
    values: np.ndarray
    kind: str = "value"
    row_start: int = 0
    col_start: int = 0
    row_label: str = "row"
    col_label: str = "col"
    channel_label: str = "c"
    padding: np.ndarray | None = None
    under: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: {self.kind!r} is not one of {KINDS}")
        v = np.asarray(self.values)
        if v.ndim not in (2, 3):
            raise ValueError(f"values: panel {self.name!r} needs 2-D or 3-D values, got shape {v.shape}")
        object.__setattr__(self, "values", frozen(v))
        if self.padding is not None:
            object.__setattr__(self, "padding", frozen(self.padding, bool))

    @property
    def grid_shape(self) -> tuple[int, int]:
        return tuple(self.values.shape[-2:])  # type: ignore[return-value]

    @property
    def channels(self) -> int:
        return self.values.shape[0] if self.values.ndim == 3 else 1


class Highlight:
    """Cells of one panel outlined in one role's colour. mask: (R, K), or (C, R, K) per channel.

    Immutable, and stored compactly: a mask usually marks a few cells of a large grid (one column of the im2col
    matrix is 196 of its 200,704 cells at the largest settings) and a trace keeps up to 400 steps, so as dense
    booleans the masks of the im2col and col2im traces took 81-83 MB per trace there. A mask is kept as the flat
    indices of its marked cells, or bit-packed when that is smaller; `mask` rebuilds the read-only dense array.
    """

    __slots__ = ("panel", "role", "shape", "count", "_indices", "_bits")

    def __init__(self, panel: str, role: str, mask: np.ndarray) -> None:
        if role not in ROLES:
            raise ValueError(f"role: {role!r} is not one of {ROLES}")
        dense = np.asarray(mask, dtype=bool)
        flat = np.flatnonzero(dense)
        indices = bits = None
        if flat.size * 4 <= (dense.size + 7) // 8 and dense.size < 2**31:
            indices = frozen(flat, np.int32)
        else:
            bits = frozen(np.packbits(dense, axis=None))
        for name, value in (("panel", panel), ("role", role), ("shape", dense.shape), ("count", int(flat.size)),
                            ("_indices", indices), ("_bits", bits)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Highlight is immutable: cannot set {name!r}")

    @property
    def mask(self) -> np.ndarray:
        """The dense read-only boolean mask (built on each access)."""
        size = int(np.prod(self.shape, dtype=np.int64))
        if self._indices is not None:
            out = np.zeros(size, dtype=bool)
            out[self._indices] = True
        else:
            out = np.unpackbits(self._bits, count=size).astype(bool)
        out = out.reshape(self.shape)
        out.flags.writeable = False
        return out

    @property
    def full(self) -> bool:
        """Whether every cell is marked (a whole panel in focus)."""
        return self.count == int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        """Bytes the mask takes here."""
        return (self._indices if self._indices is not None else self._bits).nbytes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Highlight):
            return NotImplemented
        return (self.panel, self.role, self.shape) == (other.panel, other.role, other.shape) and bool(np.array_equal(self.mask, other.mask))

    __hash__ = None  # type: ignore[assignment]  # equal masks may be stored differently; nothing hashes highlights

    def __reduce__(self):
        return (Highlight, (self.panel, self.role, self.mask))

    def __repr__(self) -> str:
        return f"Highlight(panel={self.panel!r}, role={self.role!r}, shape={self.shape}, cells={self.count})"


@dataclass(frozen=True)
class Step:
    """One moment of the animation.

    values: panel name -> replacement values for this step (same shape as the panel's).
    key: what the step is about, e.g. the output cell (i, j), so a click can select the step.
    """

    title: str
    caption: str
    highlights: tuple[Highlight, ...] = ()
    values: Mapping[str, np.ndarray] = field(default_factory=dict)
    key: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "highlights", tuple(self.highlights))
        object.__setattr__(self, "values", ReadOnlyMap({k: frozen(v) for k, v in self.values.items()}))


@dataclass(frozen=True)
class Check:
    """A live agreement figure, e.g. 'matches the loop reference: max |diff| = 0'."""

    label: str
    value: float
    tol: float = 1e-9
    measure: str = "max |diff|"

    @property
    def ok(self) -> bool:
        return bool(self.value <= self.tol)

    @property
    def text(self) -> str:
        return f"{self.label}: {self.measure} = {self.value:.3g}"


@dataclass(frozen=True)
class Trace:
    """An ordered, immutable walk through one stage.

    total_steps: how many steps the stage has in full; `steps` may hold an evenly spaced subset when the
    full walk is longer than the builder's step budget (accumulated values stay exact at every kept step).
    table: optional rows of text, the first row a header.
    """

    stage: str
    title: str
    panels: tuple[Panel, ...]
    steps: tuple[Step, ...]
    checks: tuple[Check, ...] = ()
    notes: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()
    total_steps: int = 0
    click: str = "key"  # a clicked cell chooses the step whose key is its (row, col) label, or the first that `click`s it

    def __post_init__(self) -> None:
        object.__setattr__(self, "panels", tuple(self.panels))
        object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "checks", tuple(self.checks))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "table", tuple(tuple(r) for r in self.table))
        if not self.total_steps:
            object.__setattr__(self, "total_steps", len(self.steps))
        names = [p.name for p in self.panels]
        if len(set(names)) != len(names):
            raise ValueError(f"panels: duplicate names in {names}")
        shapes = {p.name: p.values.shape for p in self.panels}
        for s in self.steps:
            for h in s.highlights:
                if h.panel not in shapes:
                    raise ValueError(f"step {s.title!r}: highlight on unknown panel {h.panel!r}")
                if h.mask.shape not in (shapes[h.panel], shapes[h.panel][-2:]):
                    raise ValueError(f"step {s.title!r}: mask {h.mask.shape} does not fit panel {h.panel!r} {shapes[h.panel]}")
            for name, v in s.values.items():
                if shapes.get(name) != v.shape:
                    raise ValueError(f"step {s.title!r}: values for {name!r} have shape {v.shape}, panel has {shapes.get(name)}")

    def panel(self, name: str) -> Panel:
        for p in self.panels:
            if p.name == name:
                return p
        raise KeyError(name)

    def values_at(self, step: int, name: str) -> np.ndarray:
        """A panel's values as shown at `step`: the latest replacement at or before it, else the panel's own."""
        for s in reversed(self.steps[: step + 1]):
            if name in s.values:
                return s.values[name]
        return self.panel(name).values

    def step_for_click(self, panel: str, label: Sequence[int]) -> int | None:
        """The step a click on cell `label` (its row and column as the figure labels them) of `panel` chooses.

        By default the step whose key is that label (an output cell picks the step that computes it). A trace whose
        `click` is a role ("read") picks the first step that marks the cell in that role: on the strided page the
        clicked input cell picks the first window that reads it, wherever the stride and padding put windows."""
        if self.click == "key":
            return self.step_for_key(label)
        p = self.panel(panel)
        r, c = int(label[0]) - p.row_start, int(label[1]) - p.col_start
        for t, s in enumerate(self.steps):
            for h in s.highlights:
                if h.panel == panel and h.role == self.click and 0 <= r < h.shape[-2] and 0 <= c < h.shape[-1] \
                        and h.mask[..., r, c].any():
                    return t
        return None

    def click_map(self, panel: str) -> dict[tuple[int, int], int]:
        """{(row, col) label: step} for every cell of `panel` a click on which chooses a step (`step_for_click` for all
        cells at once: the browser looks clicks up in it)."""
        p = self.panel(panel)
        gh, gw = p.grid_shape
        out: dict[tuple[int, int], int] = {}
        if self.click == "key":
            for t, s in enumerate(self.steps):
                if s.key is not None and len(s.key) == 2:
                    r, c = int(s.key[0]) - p.row_start, int(s.key[1]) - p.col_start
                    if 0 <= r < gh and 0 <= c < gw:
                        out.setdefault((r + p.row_start, c + p.col_start), t)
            return out
        free = np.ones((gh, gw), dtype=bool)
        for t, s in enumerate(self.steps):
            for h in s.highlights:
                if h.panel == panel and h.role == self.click:
                    m = h.mask.any(axis=0) if h.mask.ndim == 3 else h.mask
                    hit = free & np.pad(m, ((0, max(0, gh - m.shape[0])), (0, max(0, gw - m.shape[1]))))[:gh, :gw]
                    for r, c in zip(*np.nonzero(hit)):
                        out[(int(r) + p.row_start, int(c) + p.col_start)] = t
                    free &= ~hit
        return out

    def step_for_key(self, key: Sequence[int]) -> int | None:
        """Index of the first kept step about `key` (e.g. an output cell), or None."""
        key = tuple(key)
        for t, s in enumerate(self.steps):
            if s.key == key:
                return t
        return None


def pick_steps(total: int, budget: int | None) -> list[int]:
    """Evenly spaced step numbers 0..total-1, at most `budget` of them, always keeping the first and last."""
    if budget is None or total <= budget:
        return list(range(total))
    if budget < 2:
        return [total - 1]
    return sorted({round(t * (total - 1) / (budget - 1)) for t in range(budget)})


def cell_mask(shape: tuple[int, int], cells: Iterable[tuple[int, int]]) -> np.ndarray:
    """Bool mask of `shape` with the given (row, col) cells set."""
    m = np.zeros(shape, dtype=bool)
    for r, c in cells:
        m[r, c] = True
    return m


def fmt(v: float) -> str:
    """A number as a caption shows it: integers without a decimal point, others to 4 significant digits."""
    v = float(v)
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "-inf" if v < 0 else "inf"
    if v == round(v) and abs(v) < 1e15:
        return str(int(round(v)))
    return f"{v:.4g}"


def products_text(a: np.ndarray, b: np.ndarray, total: float, limit: int = 9, skip_zero_a: bool = False) -> str:
    """'a0*b0 + a1*b1 + … = total' for paired arrays, formatting only the terms that will be shown."""
    a, b = np.ravel(a), np.ravel(b)
    if skip_zero_a:
        keep = a != 0
        a, b = a[keep], b[keep]
    count = a.size
    shown = count if count <= limit else 4
    terms = [f"{fmt(x)}*{fmt(y)}" for x, y in zip(a[:shown], b[:shown])]
    if count <= limit:
        return " + ".join(terms) + f" = {fmt(total)}"
    return " + ".join(terms) + f" + … ({count} terms) = {fmt(total)}"


def sum_text(terms: Sequence[str], total: float, limit: int = 9) -> str:
    """'a + b + c = total', or '(k terms) = total' when the terms would not fit on a slide."""
    if len(terms) <= limit:
        return " + ".join(terms) + f" = {fmt(total)}"
    shown = " + ".join(terms[:4])
    return f"{shown} + … ({len(terms)} terms) = {fmt(total)}"
