"""Turn an uploaded photo (PNG or JPEG bytes) into the app's input numbers, safely.

    result = image_to_input(data, h=8, w=8, channels=1)
    result.x            # (channels, h, w) float64, whole numbers 0..9 (0 = black, 9 = white)
    result.notes        # what was done to the picture, in sentences for the teacher

Values: every cell is the area average of the picture pixels it covers (0..255), scaled to 0..9 and
rounded to the nearest whole number (halves up): round(v / 255 * 9). That is the same scale as the
built-in "house" picture, and one digit fits the small cells of the lesson.

What is accepted, checked in this order, before any pixel is decoded:
- a target grid h x w of 1..MAX_GRID (32) cells per side and channels >= 1;
- bytes of at most MAX_BYTES (5 MB);
- a PNG or a JPEG, recognised by its first bytes (never by the file name); GIF, WebP, ZIP, text,
  empty files and anything else are refused;
- a picture of at most MAX_PIXELS (25 megapixels) by the size its header declares (Pillow's open is
  lazy, so a decompression bomb is refused from its header without allocating its pixels) and at
  least MIN_SIDE x MIN_SIDE (2 x 2) pixels.
Then the pixels are decoded (a truncated or damaged file is refused), turned upright by the EXIF
orientation tag, made opaque on white, converted to grey (channels == 1) or RGB (channels == 3),
and reduced to h x w by area averaging (each cell is the exact mean of the picture area it covers, a
pixel cut by a cell border weighted by the part inside; see area_average). Other channel
counts get the grey picture repeated on every channel, as the built-in picture does. A large JPEG
is first decoded at 1/2, 1/4 or 1/8 scale by the JPEG decoder itself (each decoded pixel then stands
for a 2x2, 4x4 or 8x8 block), keeping at least 8 decoded pixels per cell; a note says so.

Every refusal raises UploadError (a ValueError) whose message says what was wrong and what is accepted.

Thread note: Pillow reports a too-large picture during open as a DecompressionBombWarning; it is
turned into an error inside warnings.catch_warnings(), which before Python 3.14 changes process-wide
warning filters for a moment. Calls here hold a lock around that short, lazy open so they cannot
interleave with each other. Pillow's global Image.MAX_IMAGE_PIXELS is never changed: the cap here is
our own, checked from the header size.
"""
from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000
MIN_SIDE = 2
MAX_GRID = 32
VALUE_MAX = 9
_CHUNK = 1 << 20  # values per slice in area_average (8 MB of float64)
JPEG_DRAFT_CELLS = 8  # a JPEG decoded at reduced scale keeps at least this many decoded pixels per cell and axis

SIGNATURES = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff"}
ACCEPTED = "a PNG or JPEG photo of at most 5 MB and 25 megapixels, at least 2 x 2 pixels"
_OTHER_KINDS = {  # first bytes of files people upload by mistake, to name them in the message
    b"GIF87a": "a GIF", b"GIF89a": "a GIF", b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"%PDF": "a PDF", b"BM": "a BMP", b"II*\x00": "a TIFF", b"MM\x00*": "a TIFF",
}
_ORIENTATION = {
    2: "mirrored left to right", 3: "rotated by 180 degrees", 4: "mirrored top to bottom",
    5: "mirrored along its main diagonal", 6: "rotated by 90 degrees clockwise",
    7: "mirrored along its other diagonal", 8: "rotated by 90 degrees counter-clockwise",
}
_OPEN_LOCK = threading.Lock()


class UploadError(ValueError):
    """An upload that cannot be used; the message is meant for the teacher."""


@dataclass(frozen=True)
class UploadResult:
    """The input numbers made from one photo.

    x: (channels, h, w) float64 whole numbers 0..9; source_size: (width, height) of the file's pixels as
    stored (before any EXIF turn); format: "PNG" or "JPEG"; notes: sentences on what was done.
    """

    x: np.ndarray
    source_size: tuple[int, int]
    format: str
    notes: tuple[str, ...] = field(default=())


def image_to_input(data: bytes, h: int, w: int, channels: int = 1) -> UploadResult:
    """Decode PNG/JPEG bytes into a (channels, h, w) grid of whole numbers 0..9; UploadError on any problem."""
    _check_target(h, w, channels)
    data = _check_bytes(data)
    fmt = sniff_format(data)
    notes: list[str] = []
    im = _open_checked(data, fmt)
    source_size = im.size
    stored_mode = im.mode
    _note_frames(im, notes)
    _draft_jpeg(im, h, w, channels, notes)
    _load(im, fmt)
    im = _upright(im, notes)
    im = _ready(im, channels, stored_mode, notes)  # "L" or "RGB", 8-bit, opaque; the decoded picture is let go
    cells = np.stack([area_average(np.asarray(im.getchannel(band)), h, w) for band in range(len(im.getbands()))])
    _note_size(im.size, h, w, notes)
    x = scale_to_digits(cells)
    if channels not in (1, 3):
        x = np.repeat(x, channels, axis=0)
    return UploadResult(x=x, source_size=source_size, format=fmt, notes=tuple(notes))


def _check_target(h: int, w: int, channels: int) -> None:
    """The requested grid: h and w in 1..MAX_GRID, channels at least 1."""
    for name, v in (("height", h), ("width", w)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not 1 <= v <= MAX_GRID:
            raise UploadError(
                f"A photo can fill an input of at most {MAX_GRID} x {MAX_GRID} cells; the input {name} is {v!r}. "
                f"Choose H and W between 1 and {MAX_GRID}.")
    if not isinstance(channels, (int, np.integer)) or isinstance(channels, bool) or channels < 1:
        raise UploadError(f"The input needs at least 1 channel for a photo; got channels = {channels!r}.")


def _check_bytes(data: bytes) -> bytes:
    """Bytes-like, not empty, at most MAX_BYTES; returned as bytes."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise UploadError(f"The upload should be the file's bytes, not {type(data).__name__}.")
    data = bytes(data)
    if not data:
        raise UploadError(f"The file is empty (0 bytes). Upload {ACCEPTED}.")
    if len(data) > MAX_BYTES:
        raise UploadError(
            f"The file is too large: {_mb(len(data))} MB; at most {_mb(MAX_BYTES)} MB is accepted. "
            "Save the photo smaller (fewer pixels or a JPEG) and upload it again.")
    return data


def sniff_format(data: bytes) -> str:
    """ "PNG" or "JPEG" from the first bytes of the file; UploadError naming what it looks like otherwise."""
    for fmt, magic in SIGNATURES.items():
        if data.startswith(magic):
            return fmt
    raise UploadError(f"This file is {_describe(data)}, not a PNG or JPEG picture. Upload {ACCEPTED}.")


def _describe(data: bytes) -> str:
    """A short guess at what non-picture bytes are, for the refusal message."""
    for magic, kind in _OTHER_KINDS.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "a WebP picture"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "a HEIC/AVIF picture"
    try:
        data[:512].decode("utf-8")
    except UnicodeDecodeError:
        return "of an unknown kind"
    return "text"


def _open_checked(data: bytes, fmt: str) -> Image.Image:
    """Open lazily (header only) with Pillow limited to fmt, and check the declared size against the caps."""
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise UploadError(
            f"This {fmt} declares far too many pixels (a 'decompression bomb'); "
            f"at most {MAX_PIXELS // 1_000_000} megapixels are accepted.") from err
    except Exception as err:  # noqa: BLE001 - any parser failure is a damaged file for the teacher
        raise _damaged(fmt) from err
    _check_size(im.size, fmt)
    return im


def _check_size(size: tuple[int, int], fmt: str) -> None:
    """At most MAX_PIXELS and at least MIN_SIDE on each side, from the header."""
    width, height = size
    if width * height > MAX_PIXELS:
        raise UploadError(
            f"This {fmt} is {width} x {height} pixels ({width * height / 1e6:.1f} megapixels); at most "
            f"{MAX_PIXELS // 1_000_000} megapixels are accepted. Make the photo smaller and upload it again.")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise UploadError(
            f"This {fmt} is too small: {width} x {height} pixels; a photo needs at least {MIN_SIDE} x {MIN_SIDE} pixels.")


def _damaged(fmt: str) -> UploadError:
    """The message for a file that starts like fmt but cannot be decoded."""
    return UploadError(
        f"This file starts like a {fmt} but is damaged or cut short, so its pixels cannot be read. "
        f"Save or export the picture again and upload the new file ({ACCEPTED}).")


def _note_frames(im: Image.Image, notes: list[str]) -> None:
    """Animated PNGs and multi-picture JPEGs: the first picture is used (Pillow's default frame)."""
    if getattr(im, "n_frames", 1) > 1:
        notes.append(f"the file holds {im.n_frames} pictures; the first one is used")


def _draft_jpeg(im: Image.Image, h: int, w: int, channels: int, notes: list[str]) -> None:
    """Let the JPEG decoder decode a large photo at 1/2, 1/4 or 1/8 scale (JPEG_DRAFT_CELLS pixels per cell kept)."""
    if not isinstance(im, Image.Image) or im.format not in ("JPEG", "MPO"):
        return
    before = im.size
    side = max(h, w) * JPEG_DRAFT_CELLS  # square, so the request holds whichever way EXIF turns the picture
    im.draft("RGB" if channels == 3 else "L", (side, side))  # "L" decodes only the JPEG's luma
    if im.size != before:
        scale = round(before[0] / im.size[0])
        notes.append(f"decoded at 1/{scale} scale by the JPEG decoder, from {before[0]} x {before[1]} "
                     f"to {im.size[0]} x {im.size[1]} pixels")


def _load(im: Image.Image, fmt: str) -> None:
    """Decode the pixels; any decoder failure (truncated, corrupt) becomes UploadError."""
    try:
        im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise UploadError(f"This {fmt} declares far too many pixels; at most "
                          f"{MAX_PIXELS // 1_000_000} megapixels are accepted.") from err
    except Exception as err:  # noqa: BLE001 - OSError, SyntaxError, ValueError, EOFError, zlib errors ...
        raise _damaged(fmt) from err


def _upright(im: Image.Image, notes: list[str]) -> Image.Image:
    """Apply the EXIF orientation tag (cameras store portrait photos sideways plus this tag)."""
    try:
        orientation = im.getexif().get(0x0112, 1)
        if orientation not in _ORIENTATION:
            return im  # upright already (exif_transpose would return a copy)
        upright = ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - unreadable EXIF: keep the picture as stored
        notes.append("its EXIF data could not be read, so it is shown as stored")
        return im
    notes.append(f"{_ORIENTATION[orientation]} by its EXIF orientation tag")
    return upright


def _ready(im: Image.Image, channels: int, stored_mode: str, notes: list[str]) -> Image.Image:
    """The picture as 8-bit "RGB" (channels == 3) or "L" (otherwise), transparency flattened onto white.

    stored_mode: the mode in the file (a JPEG drafted to "L" was colour in the file). Avoids copies where the
    picture already has the right mode (a 25 MP RGB picture is 100 MB in Pillow).
    """
    target = "RGB" if channels == 3 else "L"
    im = _on_white(_to_8bit(im, notes), notes)
    note = "" if channels == 3 else _grey_note(stored_mode, channels)
    if note:
        notes.append(note)
    return im if im.mode == target else im.convert(target)


def _on_white(im: Image.Image, notes: list[str]) -> Image.Image:
    """Transparent and partly transparent pixels blended onto white (converting alone would show them black)."""
    if im.mode not in ("RGBA", "LA", "PA", "La", "RGBa") and "transparency" not in im.info:
        return im
    if im.mode not in ("RGBA", "LA"):
        im = im.convert("RGBA")
    base = im.mode[:-1]  # "RGB" or "L"
    canvas = Image.new(base, im.size, "white")
    canvas.paste(im.convert(base), mask=im.getchannel("A"))
    notes.append("transparent parts are shown on white")
    return canvas


def _grey_note(mode: str, channels: int) -> str:
    """The note for a conversion to grey, and for the grey picture repeated over other channel counts."""
    parts = []
    if not (mode in ("1", "L", "LA", "La") or mode.startswith("I")):
        parts.append("converted to grey (0.299 R + 0.587 G + 0.114 B)")
    if channels != 1:
        parts.append(f"the grey picture is repeated on all {channels} channels (only 1 or 3 channels have a colour meaning)")
    return "; ".join(parts)


def _to_8bit(im: Image.Image, notes: list[str]) -> Image.Image:
    """16-bit and 32-bit integer greys (mode I, I;16...) scaled to 0..255 instead of clipped; others unchanged."""
    if not im.mode.startswith("I"):
        return im
    arr = np.asarray(im, dtype=np.float64)
    top = 65535.0 if im.mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
    bits = 16 if top > 255 else 8
    notes.append(f"a {bits}-bit grey picture: its 0..{int(top)} levels are scaled to 0..255")
    return Image.fromarray(np.clip(np.rint(arr * (255.0 / top)), 0, 255).astype(np.uint8))


def area_average(pixels, h: int, w: int) -> np.ndarray:
    """(h, w) float64: each cell is the exact mean of the picture area it covers.

    pixels: a 2-D array (or a one-band Pillow image) of H x W levels. The picture is taken as a piecewise-constant
    surface; a cell's value is its integral over the cell divided by the cell's area, so a pixel cut by a cell
    border counts with the part of it that lies inside (Pillow's BOX filter gives each pixel wholly to the cell
    holding its centre instead, which is the same only when H and W are multiples of h and w). A picture smaller
    than the grid is enlarged the same way: each cell takes the pixel(s) under it. The longer axis is reduced first,
    in slices of at most _CHUNK values, so the float work arrays stay a few MB even for 25 megapixels.
    """
    a = np.asarray(pixels)
    if a.ndim != 2:
        raise ValueError(f"area_average: expected a 2-D array, got shape {a.shape}")
    if a.shape[0] > a.shape[1]:
        return area_average(a.T, w, h).T
    step = max(1, _CHUNK // a.shape[1])
    rows = np.concatenate([_axis_mean(a[r:r + step], w) for r in range(0, a.shape[0], step)])  # (H, w)
    return _axis_mean(rows.T, h).T


def _axis_mean(a: np.ndarray, n: int) -> np.ndarray:
    """Area average along the last axis of a (..., N) down (or up) to (..., n), as float64.

    With C the running sum (C[0] = 0), the integral from 0 to t is C[i] + (t - i) * a[i] for i = floor(t);
    cell k spans [k N / n, (k + 1) N / n).
    """
    size = a.shape[-1]
    sums = np.zeros(a.shape[:-1] + (size + 1,))
    np.cumsum(a, axis=-1, dtype=np.float64, out=sums[..., 1:])
    edges = np.arange(n + 1) * size / n
    first = np.minimum(np.floor(edges).astype(np.int64), size - 1)
    integral = sums[..., first] + (edges - first) * a[..., first]
    return np.diff(integral, axis=-1) * (n / size)


def scale_to_digits(values: np.ndarray) -> np.ndarray:
    """0..255 means to whole numbers 0..9: round(v / 255 * 9), halves up, as float64."""
    return np.clip(np.floor(np.asarray(values, dtype=np.float64) * (VALUE_MAX / 255.0) + 0.5), 0, VALUE_MAX)


def _note_size(size: tuple[int, int], h: int, w: int, notes: list[str]) -> None:
    """Say how the picture's size changed to reach h x w."""
    width, height = size
    if (width, height) == (w, h):
        notes.append(f"already {w} x {h} pixels, one pixel per cell")
    elif width >= w and height >= h:
        notes.append(f"reduced from {width} x {height} to {w} x {h} by area averaging")
    else:
        notes.append(f"resized from {width} x {height} to {w} x {h} by area averaging "
                     "(where the picture is smaller, a cell takes the pixel it lies in)")


def _mb(n: int) -> str:
    """Bytes as megabytes with one decimal."""
    return f"{n / (1024 * 1024):.1f}"
