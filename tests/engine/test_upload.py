"""convviz.upload: PNG/JPEG bytes to 0..9 input numbers; every file is built here, every refusal is an UploadError."""
from __future__ import annotations

import inspect
import io
import struct
import subprocess
import sys
import time
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convviz.upload import (
    MAX_BYTES,
    MAX_GRID,
    MAX_PIXELS,
    UploadError,
    UploadResult,
    area_average,
    image_to_input,
    scale_to_digits,
    sniff_format,
)

# ---------------------------------------------------------------- helpers that build files


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    """The bytes of im saved as fmt."""
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def digit_picture(digits: np.ndarray, block: int = 16) -> np.ndarray:
    """uint8 picture: each digit 0..9 becomes a flat block x block square of level round(d * 255 / 9)."""
    levels = np.rint(np.asarray(digits) * 255 / 9).astype(np.uint8)
    return np.kron(levels, np.ones((block, block), dtype=np.uint8))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, body, CRC over type + body."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def repeated_zlib(unit: bytes, times: int, tail: bytes = b"") -> bytes:
    """A zlib stream of unit * times + tail, built without ever holding that data: each unit is deflated once and
    its compressed block (closed by a full flush, so it does not refer back) repeated; adler32 computed piecewise."""
    def block(data: bytes) -> bytes:
        raw = zlib.compressobj(9, zlib.DEFLATED, -15)
        return raw.compress(data) + raw.flush(zlib.Z_FULL_FLUSH)

    adler = 1
    for _ in range(times):
        adler = zlib.adler32(unit, adler)
    adler = zlib.adler32(tail, adler)
    final_empty_block = b"\x03\x00"
    return b"\x78\xda" + block(unit) * times + block(tail) + final_empty_block + struct.pack(">I", adler)


def blank_bilevel_png(width: int, height: int) -> bytes:
    """A complete, valid 1-bit black PNG of any size (its whole raster is never built)."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    rows_per_unit = 500
    idat = repeated_zlib(row * rows_per_unit, height // rows_per_unit, row * (height % rows_per_unit))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # bit depth 1, grey, deflate, no filter, no interlace
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def test_the_bomb_builder_makes_valid_pngs():
    for width, height in ((13, 1234), (40, 7)):
        data = blank_bilevel_png(width, height)
        im = Image.open(io.BytesIO(data))
        im.load()
        assert im.size == (width, height) and not np.asarray(im).any()
    row = b"\x00" * 11
    assert zlib.decompress(repeated_zlib(row * 3, 4, row)) == row * 13


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small baseline JPEG whose SOF0 header is edited to declare width x height."""
    data = bytearray(encode(Image.new("L", (16, 16), 128), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """30,000 x 30,000 pixels (900 megapixels) in a small, valid PNG."""
    return blank_bilevel_png(30_000, 30_000)


def refused(data, *args, **kwargs) -> str:
    """The UploadError message for image_to_input(data, ...); fails if it is accepted."""
    with pytest.raises(UploadError) as info:
        image_to_input(data, *args, **kwargs)
    msg = str(info.value)
    assert "Traceback" not in msg and msg.endswith(".")
    return msg


# ---------------------------------------------------------------- accepted uploads


def test_png_grey_one_pixel_per_cell_gives_the_digits():
    digits = np.array([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 9, 0]])
    res = image_to_input(encode(Image.fromarray(digit_picture(digits, 1)), "PNG"), 3, 4)
    assert isinstance(res, UploadResult)
    assert res.x.shape == (1, 3, 4) and res.x.dtype == np.float64
    np.testing.assert_array_equal(res.x[0], digits)
    assert res.format == "PNG" and res.source_size == (4, 3)
    with pytest.raises(AttributeError):
        res.format = "JPEG"  # frozen


def test_png_rgb_keeps_each_channel():
    r, g, b = (np.array([[0, 9], [3, 6]]), np.array([[9, 0], [1, 2]]), np.array([[5, 5], [7, 8]]))
    rgb = np.stack([digit_picture(c, 4) for c in (r, g, b)], axis=-1)
    res = image_to_input(encode(Image.fromarray(rgb), "PNG"), 2, 2, channels=3)
    np.testing.assert_array_equal(res.x, np.stack([r, g, b]))
    assert any("reduced from 8 x 8 to 2 x 2 by area averaging" in n for n in res.notes)


def test_rgb_to_grey_uses_luma():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 1] = 255  # pure green: 0.587 * 255 = 149.7 -> 149.7 / 255 * 9 = 5.28 -> 5
    res = image_to_input(encode(Image.fromarray(rgb), "PNG"), 2, 2)
    np.testing.assert_array_equal(res.x, np.full((1, 2, 2), 5.0))
    assert any("converted to grey" in n for n in res.notes)


def test_jpeg_grey_and_rgb_flat_blocks():
    digits = np.array([[0, 9, 4], [2, 7, 5]])
    grey = encode(Image.fromarray(digit_picture(digits)), "JPEG", quality=95)
    res = image_to_input(grey, 2, 3)
    assert res.format == "JPEG" and res.source_size == (48, 32)
    np.testing.assert_array_equal(res.x[0], digits)
    rgb = np.stack([digit_picture(digits), digit_picture(9 - digits), digit_picture(np.full_like(digits, 3))], axis=-1)
    res3 = image_to_input(encode(Image.fromarray(rgb), "JPEG", quality=95, subsampling=0), 2, 3, channels=3)
    np.testing.assert_array_equal(res3.x, np.stack([digits, 9 - digits, np.full_like(digits, 3)]))


def test_format_comes_from_the_bytes_not_the_name(tmp_path):
    assert list(inspect.signature(image_to_input).parameters) == ["data", "h", "w", "channels"]
    png = encode(Image.new("L", (4, 4), 255), "PNG")
    jpeg = encode(Image.new("L", (4, 4), 255), "JPEG")
    misnamed = tmp_path / "holiday.jpg"
    misnamed.write_bytes(png)  # a PNG called .jpg ...
    assert image_to_input(misnamed.read_bytes(), 2, 2).format == "PNG"  # ... is a PNG
    (tmp_path / "scan.png").write_bytes(jpeg)
    assert image_to_input((tmp_path / "scan.png").read_bytes(), 2, 2).format == "JPEG"
    assert sniff_format(bytearray(png)) == "PNG"
    np.testing.assert_array_equal(image_to_input(memoryview(png), 2, 2).x, np.full((1, 2, 2), 9.0))


def test_exif_orientation_6_turns_the_picture_clockwise():
    stored = np.array([[0, 3, 9], [6, 1, 4]])  # as the camera stored it: 3 wide, 2 high (48 x 32 pixels)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = encode(Image.fromarray(digit_picture(stored)), "JPEG", quality=95, exif=exif.tobytes())
    res = image_to_input(data, 3, 2)  # upright: 2 wide, 3 high
    np.testing.assert_array_equal(res.x[0], np.rot90(stored, k=-1))
    np.testing.assert_array_equal(res.x[0], [[6, 0], [1, 3], [4, 9]])
    assert res.source_size == (48, 32)
    assert "rotated by 90 degrees clockwise by its EXIF orientation tag" in res.notes


def test_area_average_is_the_mean_of_the_covered_pixels_exact_multiple():
    src = np.random.default_rng(7).integers(0, 256, size=(48, 64), dtype=np.uint8)
    blocks = src.reshape(6, 8, 8, 8).astype(np.float64).mean(axis=(1, 3))  # 8 x 8 blocks -> 6 x 8 cells
    np.testing.assert_allclose(area_average(src, 6, 8), blocks, rtol=0, atol=1e-9)
    # Pillow's BOX filter agrees for an exact multiple (float pixels, so no rounding to 8-bit levels)
    box = np.asarray(Image.fromarray(src).convert("F").resize((8, 6), Image.Resampling.BOX), dtype=np.float64)
    np.testing.assert_allclose(box, blocks, rtol=0, atol=1e-4)
    res = image_to_input(encode(Image.fromarray(src), "PNG"), 6, 8)
    np.testing.assert_array_equal(res.x[0], np.floor(blocks * 9 / 255 + 0.5))
    assert "reduced from 64 x 48 to 8 x 6 by area averaging" in res.notes


def test_area_average_weighs_partly_covered_pixels_by_the_part_covered():
    src = np.random.default_rng(8).integers(0, 256, size=(5, 5), dtype=np.uint8)
    cover = np.array([[1, 1, 0.5, 0, 0], [0, 0, 0.5, 1, 1]]) / 2.5  # two cells of 2.5 pixels each
    np.testing.assert_allclose(area_average(src, 2, 2), cover @ src @ cover.T, rtol=0, atol=1e-9)
    tall = np.random.default_rng(9).integers(0, 256, size=(7, 3), dtype=np.uint8)
    rows = np.array([[1, 1, 1, 0.5, 0, 0, 0], [0, 0, 0, 0.5, 1, 1, 1]]) / 3.5
    cols = np.array([[1, 1, 1]]) / 3
    np.testing.assert_allclose(area_average(tall, 2, 1), rows @ tall @ cols.T, rtol=0, atol=1e-9)


def test_area_average_enlarges_by_repeating_pixels():
    src = np.array([[0, 90], [180, 255]], np.uint8)
    np.testing.assert_array_equal(area_average(src, 4, 4), np.kron(src, np.ones((2, 2))))
    # 3 x 3: the middle row of cells lies half on each pixel row (row means 90, 172.5), the middle column too
    np.testing.assert_allclose(area_average(src, 3, 3)[1], [90, (90 + 172.5) / 2, 172.5])


def test_area_average_of_a_long_strip_in_slices():
    strip = np.random.default_rng(10).integers(0, 256, size=(4, 1_200_000), dtype=np.uint8)  # wider than one slice
    blocks = strip.reshape(2, 2, 32, 37_500).astype(np.float64).mean(axis=(1, 3))
    np.testing.assert_allclose(area_average(strip, 2, 32), blocks, rtol=0, atol=1e-9)
    np.testing.assert_allclose(area_average(strip.T, 32, 2), blocks.T, rtol=0, atol=1e-9)


def test_scale_to_digits_range_and_rounding():
    np.testing.assert_array_equal(scale_to_digits(np.array([0, 14.1, 14.2, 127.5, 255, 300])), [0, 0, 1, 5, 9, 9])


def test_other_channel_counts_repeat_the_grey_picture():
    data = encode(Image.fromarray(digit_picture(np.array([[1, 8]]), 2)), "PNG")
    res = image_to_input(data, 1, 2, channels=4)
    np.testing.assert_array_equal(res.x, np.broadcast_to([[[1, 8]]], (4, 1, 2)))
    assert any("repeated on all 4 channels" in n for n in res.notes)


def test_transparent_pixels_count_as_white_and_16_bit_grey_is_scaled():
    clear = encode(Image.new("RGBA", (4, 4), (0, 0, 0, 0)), "PNG")
    res = image_to_input(clear, 2, 2)
    np.testing.assert_array_equal(res.x, np.full((1, 2, 2), 9.0))
    assert "transparent parts are shown on white" in res.notes
    deep = encode(Image.fromarray(np.array([[0, 65535], [32768, 7282]], np.uint16)), "PNG")
    np.testing.assert_array_equal(image_to_input(deep, 2, 2).x[0], [[0, 9], [5, 1]])


def test_partly_transparent_and_palette_transparency_blend_onto_white():
    third = encode(Image.new("LA", (4, 4), (0, 85)), "PNG")  # black at 1/3 opacity: 255 * 2/3 = 170 -> 6
    np.testing.assert_array_equal(image_to_input(third, 2, 2).x, np.full((1, 2, 2), 6.0))
    pal = Image.new("P", (4, 4), 1)
    pal.putpalette([0, 0, 0, 255, 0, 0])
    pal.info["transparency"] = 1  # palette entry 1 (red) is transparent
    res = image_to_input(encode(pal, "PNG", transparency=1), 2, 2, channels=3)
    np.testing.assert_array_equal(res.x, np.full((3, 2, 2), 9.0))
    assert "transparent parts are shown on white" in res.notes


def test_animated_png_uses_its_first_frame():
    frames = [Image.new("L", (4, 4), 0), Image.new("L", (4, 4), 255)]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:])
    res = image_to_input(buf.getvalue(), 2, 2)
    np.testing.assert_array_equal(res.x, np.zeros((1, 2, 2)))
    assert "the file holds 2 pictures; the first one is used" in res.notes


def test_a_large_jpeg_is_decoded_at_reduced_scale_then_area_averaged():
    y, x = np.mgrid[0:1600, 0:2000]
    pic = ((x // 250 + y // 200) % 2 * 255).astype(np.uint8)  # 8 x 8 checkerboard of 250 x 200 squares
    res = image_to_input(encode(Image.fromarray(pic), "JPEG", quality=90), 8, 8)
    assert res.source_size == (2000, 1600)
    assert "decoded at 1/8 scale by the JPEG decoder, from 2000 x 1600 to 250 x 200 pixels" in res.notes
    assert "reduced from 250 x 200 to 8 x 8 by area averaging" in res.notes
    np.testing.assert_array_equal(res.x[0], (np.indices((8, 8)).sum(axis=0) % 2) * 9)


# ---------------------------------------------------------------- refusals


def test_empty_file():
    assert "empty (0 bytes)" in refused(b"", 4, 4)


@pytest.mark.parametrize("kind, data, words", [
    ("text", b"hello, this is not a picture\n", "text"),
    ("random", np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes(), "unknown kind"),
    ("webp", encode(Image.new("RGB", (8, 8), "red"), "WEBP"), "WebP"),
    ("bmp", encode(Image.new("RGB", (8, 8)), "BMP"), "BMP"),
    ("static gif", encode(Image.new("P", (8, 8)), "GIF"), "GIF"),
])
def test_other_kinds_of_file_are_named_and_refused(kind, data, words):
    msg = refused(data, 4, 4)
    assert words in msg and "not a PNG or JPEG" in msg and "5 MB" in msg


def test_animated_gif_is_refused():
    buf = io.BytesIO()
    Image.new("P", (8, 8), 0).save(buf, "GIF", save_all=True, append_images=[Image.new("P", (8, 8), 1)], duration=100)
    assert "a GIF, not a PNG or JPEG" in refused(buf.getvalue(), 4, 4)


def test_a_zip_renamed_png_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("picture.png", encode(Image.new("L", (8, 8)), "PNG"))
    assert "a ZIP archive" in refused(buf.getvalue(), 4, 4)


def test_truncated_png_is_refused():
    noise = np.random.default_rng(4).integers(0, 256, size=(64, 64), dtype=np.uint8)
    data = encode(Image.fromarray(noise), "PNG")
    for cut in (len(data) // 2, 40, 20):
        assert "starts like a PNG but is damaged or cut short" in refused(data[:cut], 4, 4)


def test_png_with_a_bad_checksum_is_refused():
    data = bytearray(encode(Image.new("L", (8, 8), 7), "PNG"))
    data[29] ^= 0xFF  # the IHDR chunk's CRC
    assert "damaged" in refused(bytes(data), 4, 4)


def test_corrupt_and_truncated_jpegs_are_refused():
    data = encode(Image.fromarray(np.random.default_rng(5).integers(0, 256, (64, 64), dtype=np.uint8)), "JPEG")
    garbage = data[:3] + np.random.default_rng(6).integers(0, 256, len(data) - 3, dtype=np.uint8).tobytes()
    assert "starts like a JPEG but is damaged" in refused(garbage, 4, 4)
    assert "starts like a JPEG but is damaged" in refused(data[: len(data) // 2], 4, 4)
    assert "damaged" in refused(b"\xff\xd8\xff", 4, 4)


def test_too_small_picture():
    assert "too small: 1 x 1 pixels; a photo needs at least 2 x 2 pixels" in refused(encode(Image.new("L", (1, 1)), "PNG"), 1, 1)
    assert "too small: 9 x 1" in refused(encode(Image.new("RGB", (9, 1)), "JPEG"), 1, 1)


def test_file_over_5_mb_is_refused_before_decoding():
    data = encode(Image.new("L", (8, 8)), "PNG") + b"\0" * MAX_BYTES  # a valid PNG, padded after IEND
    msg = refused(data, 4, 4)
    assert "too large: 5.0 MB; at most 5.0 MB" in msg
    assert len(data) == MAX_BYTES + len(data) - MAX_BYTES and len(data) > MAX_BYTES


def test_the_grid_is_at_most_32_by_32_and_channels_at_least_1():
    data = encode(Image.new("L", (64, 64)), "PNG")
    assert image_to_input(data, MAX_GRID, MAX_GRID).x.shape == (1, 32, 32)
    assert "at most 32 x 32 cells; the input height is 33" in refused(data, 33, 4)
    assert "the input width is 0" in refused(data, 4, 0)
    assert "at least 1 channel" in refused(data, 4, 4, channels=0)
    assert "not str" in refused("picture.png", 4, 4)


@pytest.mark.parametrize("width, height, words", [
    (6_000, 6_000, "6000 x 6000 pixels (36.0 megapixels); at most 25 megapixels"),  # under Pillow's own limit
    (10_000, 10_000, "decompression bomb"),  # Pillow warns (over 89 MP): turned into a refusal
])
def test_pictures_over_25_megapixels_are_refused_from_the_header(width, height, words):
    assert words in refused(blank_bilevel_png(width, height), 4, 4)


def test_jpeg_header_declaring_too_many_pixels():
    assert "at most 25 megapixels" in refused(jpeg_declaring(8_000, 4_000), 4, 4)
    assert "decompression bomb" in refused(jpeg_declaring(60_000, 60_000), 4, 4)


def test_decompression_bomb_is_refused_fast_without_allocating_it(bomb):
    assert len(bomb) < 200_000  # 900 megapixels in under 200 kB
    pillow_limit, filters = Image.MAX_IMAGE_PIXELS, list(warnings.filters)
    tracemalloc.start()
    try:
        start = time.perf_counter()
        msg = refused(bomb, 8, 8)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "decompression bomb" in msg and "25 megapixels" in msg
    assert seconds < 1.0, seconds
    assert peak < 50 * 1024 * 1024, peak
    assert pillow_limit == Image.MAX_IMAGE_PIXELS and warnings.filters == filters  # nothing global changed
    assert MAX_PIXELS == 25_000_000


def test_refusing_the_bomb_keeps_the_process_small(tmp_path):
    """Pillow's pixel buffers are invisible to tracemalloc: check the resident high-water mark in a fresh process."""
    path = tmp_path / "bomb.png"
    path.write_bytes(blank_bilevel_png(30_000, 30_000))
    code = (
        "import sys, pathlib\n"
        "from convviz.upload import image_to_input, UploadError\n"
        "def mb(f):\n"
        "    line = [x for x in pathlib.Path('/proc/self/status').read_text().splitlines() if x.startswith(f)][0]\n"
        "    return int(line.split()[1]) / 1024\n"
        "data = pathlib.Path(sys.argv[1]).read_bytes(); before = mb('VmRSS')\n"
        "try:\n    image_to_input(data, 32, 32, 3)\nexcept UploadError:\n    print(mb('VmHWM') - before)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert float(out.stdout) < 50, out.stdout


def test_a_picture_just_within_the_caps_is_accepted():
    data = blank_bilevel_png(5_000, 5_000)  # exactly 25 megapixels
    res = image_to_input(data, 4, 4)
    assert res.source_size == (5_000, 5_000)
    np.testing.assert_array_equal(res.x, np.zeros((1, 4, 4)))
