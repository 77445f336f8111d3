"""Teaching data: input and kernel presets, upstream gradients, all small readable numbers, all seeded."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .geometry import ConvSpec

INPUT_PRESETS = {
    "ids": "cell ids (each cell holds its flat index, so indices are easy to follow)",
    "random": "small random integers (-3..3)",
    "ones": "ones",
    "image": "built-in picture (a house, 0..9), or upload your own",
    "custom": "your own numbers (they set H, W and C)",
}
KERNEL_PRESETS = {
    "random": "small random integers (-2..2)",
    "identity": "identity (1 at the centre tap)",
    "box": "box blur (all 1/(KH*KW))",
    "sobel": "Sobel edge detector (x for even F, y for odd F)",
    "custom": "your own numbers",
}
IMAGE_PATH = Path(__file__).with_name("assets") / "house.npy"


@lru_cache(maxsize=1)
def _image() -> np.ndarray:
    img = np.load(IMAGE_PATH)
    img.flags.writeable = False
    return img


def _resample(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """Nearest-neighbour resample of a 2-D picture to h x w (cell centres)."""
    rows = ((np.arange(h) + 0.5) * img.shape[0] / h).astype(int)
    cols = ((np.arange(w) + 0.5) * img.shape[1] / w).astype(int)
    return img[rows[:, None], cols[None, :]]


def make_input(spec: ConvSpec, preset: str = "ids", seed: int = 0) -> np.ndarray:
    """x (N, C, H, W) float64 for a preset name in INPUT_PRESETS."""
    shape = spec.input_shape
    if preset == "ids":
        return np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    if preset == "random":
        return np.random.default_rng(seed).integers(-3, 4, size=shape).astype(np.float64)
    if preset == "ones":
        return np.ones(shape)
    if preset == "image":
        pic = _resample(_image(), spec.h, spec.w).astype(np.float64)  # (H, W)
        return np.broadcast_to(pic, shape).copy()
    if preset == "custom":
        raise ValueError("data: the custom input is the typed text (convviz.typed.parse_grid), not a preset.")
    raise ValueError(f"data: unknown input preset {preset!r}. Use one of {', '.join(INPUT_PRESETS)}.")


def _sobel(kh: int, kw: int, vertical: bool) -> np.ndarray:
    """A Sobel-like derivative kernel of any size: binomial smoothing across, a central difference along."""
    def binomial(k: int) -> np.ndarray:
        row = np.array([1.0])
        for _ in range(k - 1):
            row = np.convolve(row, [1.0, 1.0])
        return row

    def derivative(k: int) -> np.ndarray:
        if k == 1:
            return np.array([0.0])
        return np.convolve(binomial(k - 1), [-1.0, 1.0])  # k=3: [-1, 0, 1], rising to the right/bottom

    if vertical:
        return np.outer(derivative(kh), binomial(kw))
    return np.outer(binomial(kh), derivative(kw))


def make_kernel(spec: ConvSpec, preset: str = "random", seed: int = 0, custom: np.ndarray | None = None) -> np.ndarray:
    """w (F, C/groups, KH, KW) float64 (spec.weight_shape) for a preset name in KERNEL_PRESETS.

    custom: a (KH, KW) grid used for every (f, c) pair, for preset "custom".
    """
    F, C, KH, KW = spec.weight_shape
    if preset == "random":
        return np.random.default_rng(seed + 1).integers(-2, 3, size=(F, C, KH, KW)).astype(np.float64)
    if preset == "identity":
        w = np.zeros((F, C, KH, KW))
        for f in range(F):
            w[f, f % C, (KH - 1) // 2, (KW - 1) // 2] = 1.0  # f copies channel f mod C of its kernel (of its group)
        return w
    if preset == "box":
        return np.full((F, C, KH, KW), 1.0 / (KH * KW))
    if preset == "sobel":
        w = np.empty((F, C, KH, KW))
        for f in range(F):
            w[f] = _sobel(KH, KW, vertical=bool(f % 2))
        return w
    if preset == "custom":
        if custom is None:
            raise ValueError("kernel: the 'custom' preset needs numbers; type a KH x KW grid.")
        grid = np.asarray(custom, dtype=np.float64)
        if grid.shape != (KH, KW):
            raise ValueError(f"kernel: expected a {KH} x {KW} grid of numbers, got shape {grid.shape}.")
        if not np.all(np.isfinite(grid)):
            raise ValueError("kernel: every entry must be a finite number (no inf or nan).")
        return np.broadcast_to(grid, (F, C, KH, KW)).copy()
    raise ValueError(f"kernel: unknown kernel preset {preset!r}. Use one of {', '.join(KERNEL_PRESETS)}.")


def make_bias(spec: ConvSpec, preset: str = "random", seed: int = 0) -> np.ndarray:
    """b (F,): small integers with the random kernel preset, zeros otherwise (so filters act as named)."""
    if preset == "random":
        return np.random.default_rng(seed + 2).integers(-1, 2, size=spec.f).astype(np.float64)
    return np.zeros(spec.f)


def make_dout(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """An upstream gradient of small integers (-2..2, never all zero) so every product is readable."""
    d = np.random.default_rng(seed + 3).integers(-2, 3, size=shape).astype(np.float64)
    if not d.any():
        d.flat[0] = 1.0
    return d
