"""What an upload costs: time and peak memory of convviz.upload.image_to_input on the worst files it accepts, and
on a decompression bomb it refuses.

Run: python bench/upload.py [--grid 32]

Files (built here, in a temporary directory):
- jpeg-baseline / jpeg-progressive: 5000 x 5000 (25 MP, the pixel cap) RGB JPEGs, a smooth picture plus noise at the
  highest quality that stays within 5 MB (the byte cap). Progressive JPEGs make libjpeg hold every coefficient.
- png-rgb: 5000 x 5000 RGB PNG within 5 MB (PNG is never decoded at reduced scale: every pixel is decoded).
- bomb: a valid 30,000 x 30,000 1-bit PNG of about 110 kB (900 MP), refused from its header.
Each case runs in a fresh Python process (so the RSS high-water mark is its own) with channels 1 and 3:
time (best of 3), tracemalloc peak (Python and NumPy allocations; Pillow's own pixel buffers are not traced),
and RSS: the process's resident size before the call and its high-water mark after (resource.getrusage ru_maxrss).
Figures only, no asserts.
"""
from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from convviz.upload import MAX_BYTES, UploadError, image_to_input  # noqa: E402
from tests.engine.test_upload import blank_bilevel_png  # noqa: E402

SIDE = 5000  # 5000 x 5000 = 25 MP, the cap


def photo_like(seed: int = 0) -> np.ndarray:
    """(SIDE, SIDE, 3) uint8: smooth colour gradients and blobs plus fine noise, so JPEG has real work."""
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) / SIDE
    rng = np.random.default_rng(seed)
    chans = [128 + 100 * np.sin(6 * x + 3 * c) * np.cos(5 * y - c) for c in range(3)]
    pic = np.stack(chans, axis=-1) + rng.normal(0, 12, size=(SIDE, SIDE, 3)).astype(np.float32)
    return np.clip(pic, 0, 255).astype(np.uint8)


def largest_jpeg(pic: Image.Image, progressive: bool) -> tuple[bytes, int]:
    """The highest JPEG quality (binary search) whose file is at most MAX_BYTES."""
    lo, hi, best = 60, 95, None
    while lo <= hi:
        q = (lo + hi) // 2
        buf = io.BytesIO()
        pic.save(buf, "JPEG", quality=q, progressive=progressive)
        if buf.tell() <= MAX_BYTES:
            best, lo = (buf.getvalue(), q), q + 1
        else:
            hi = q - 1
    if best is None:
        raise SystemExit("no JPEG quality fits in 5 MB")
    return best


def smooth_png() -> bytes:
    """A 25 MP RGB PNG within 5 MB: smooth gradients compress well."""
    y, x = np.mgrid[0:SIDE, 0:SIDE]
    pic = np.stack([(x * 255 // SIDE), (y * 255 // SIDE), ((x + y) * 255 // (2 * SIDE))], axis=-1).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pic).save(buf, "PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def status_mb(field: str) -> float:
    """A memory line of /proc/self/status in MB (VmRSS: resident now; VmHWM: resident high-water mark of this
    process image, which starts afresh at exec, unlike getrusage's ru_maxrss that Linux carries over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(path: str, grid: int, channels: int) -> dict:
    """Run in a fresh process: time, tracemalloc peak and RSS of image_to_input on the file at path."""
    data = Path(path).read_bytes()
    rss_before = status_mb("VmRSS")
    times, outcome, peak = [], "", 0
    for rep in range(3):
        if rep == 0:
            tracemalloc.start()
        start = time.perf_counter()
        try:
            res = image_to_input(data, grid, grid, channels)
            outcome = "accepted: " + "; ".join(res.notes)
        except UploadError as err:
            outcome = f"refused: {err}"
        times.append(time.perf_counter() - start)
        if rep == 0:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    return {"seconds": min(times), "seconds_with_tracemalloc": times[0], "tracemalloc_mb": peak / 2**20,
            "rss_before_mb": rss_before, "hwm_mb": status_mb("VmHWM"),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "outcome": outcome}


def build(folder: Path) -> None:
    """Write the cases' files into folder, with a line describing each (run in its own process)."""
    pic = Image.fromarray(photo_like())
    about = {}
    for name, progressive in (("jpeg-baseline", False), ("jpeg-progressive", True)):
        data, quality = largest_jpeg(pic, progressive)
        (folder / name).write_bytes(data)
        about[name] = f"5000 x 5000 RGB, quality {quality}"
    (folder / "png-rgb").write_bytes(smooth_png())
    about["png-rgb"] = "5000 x 5000 RGB gradients, compress_level 9"
    (folder / "bomb").write_bytes(blank_bilevel_png(30_000, 30_000))
    about["bomb"] = "30000 x 30000 1-bit PNG"
    (folder / "about.json").write_text(json.dumps(about))


def run_self(*args: str) -> str:
    """This script in a fresh Python process; its stdout."""
    return subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=32, help="target h = w (default 32, the largest)")
    ap.add_argument("--measure", nargs=2, metavar=("PATH", "CHANNELS"), help=argparse.SUPPRESS)
    ap.add_argument("--build", metavar="FOLDER", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], args.grid, int(args.measure[1]))))
        return
    if args.build:
        build(Path(args.build))
        return

    with tempfile.TemporaryDirectory() as tmp:
        print(f"building files (5000 x 5000 = 25 MP, at most {MAX_BYTES / 2**20:.0f} MB) ...", flush=True)
        t0 = time.perf_counter()
        run_self("--build", tmp)
        about = json.loads((Path(tmp) / "about.json").read_text())
        print(f"built in {time.perf_counter() - t0:.1f} s; each case below runs in a fresh process, grid {args.grid} x {args.grid}")
        print(f"parent RSS {status_mb('VmRSS'):.0f} MB (children's ru_maxrss starts from the parent's high-water mark)\n")
        print(f"{'case':<17} {'file':>9} {'ch':>2} {'time':>8} {'tracemalloc':>11} {'RSS before':>10} "
              f"{'VmHWM':>7} {'ru_maxrss':>9}  outcome")
        for name, how in about.items():
            path = Path(tmp) / name
            size = path.stat().st_size
            for channels in (1, 3):
                m = json.loads(run_self("--grid", str(args.grid), "--measure", str(path), str(channels)))
                print(f"{name:<17} {size / 2**20:>7.2f}MB {channels:>2} {m['seconds'] * 1000:>6.0f}ms "
                      f"{m['tracemalloc_mb']:>9.1f}MB {m['rss_before_mb']:>8.0f}MB {m['hwm_mb']:>5.0f}MB "
                      f"{m['maxrss_mb']:>7.0f}MB  {m['outcome']}")
            print(f"{'':<17} ({how})")


if __name__ == "__main__":
    main()
