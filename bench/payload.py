"""Payload shaping: what one 24-megapixel camera JPEG costs to turn into what the gateway is sent.

Gaitu's imaging.shape_with_still(file, 2048) against a plain baseline on the same file,
same run: full decode, thumbnail to 2048 px with LANCZOS (no draft mode), JPEG quality 90.
Both end in an upload-ready payload.

Figures: bytes sent / original bytes (goal <= 1/6), time Gaitu / baseline (goal <= 0.5) and
peak memory Gaitu / baseline (goal <= 0.5). Every measurement runs in a fresh Python process,
so one run's heap never flatters or burdens the next; Gaitu and baseline runs alternate.
"""

import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
SIZE = (6000, 4000)  # 24 megapixels, 3:2 like most camera sensors
MAX_SIDE = 2048  # GAITU_SEND_MAX_SIDE's default
RUNS = 5

# Runs in the child. Memory is VmHWM minus VmRSS just before the work, both from
# /proc/self/status. VmHWM belongs to this address space alone: it starts afresh at exec.
# ru_maxrss does not: Linux carries the pre-exec peak over (the forked copy of the parent,
# here a runner that has just held a 24-megapixel picture), so it can report the parent's size.
# Subtracting the RSS after imports leaves what the work itself needed, so Gaitu's larger
# imports are not counted against it. imaging imports no Django at all, so no django.setup()
# is needed; the imports happen before the baseline.
CHILD = """
import io, json, sys, time
sys.path.insert(0, sys.argv[3])
from PIL import Image

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

mode, path, side = sys.argv[1], sys.argv[2], int(sys.argv[4])
if mode == "gaitu":
    from imaging import shape_with_still

    def work():
        with open(path, "rb") as file:
            return shape_with_still(file, side)[0]
else:
    def work():
        with Image.open(path) as image:
            image.load()
            image.thumbnail((side, side), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=90)
            return out.getvalue()

before = status("VmRSS")
began = time.perf_counter()
payload = work()
seconds = time.perf_counter() - began
print(json.dumps({"seconds": seconds, "peak": status("VmHWM") - before, "bytes": len(payload)}))
"""


def run() -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="gaitu-payload-") as folder:
        photo = Path(folder) / "camera.jpg"
        make_photo(photo)
        original = photo.stat().st_size
        print(f"  test photo: {SIZE[0]}x{SIZE[1]}, {original / 2**20:.1f} MiB", file=sys.stderr)
        runs = {"gaitu": [], "baseline": []}
        for _ in range(RUNS):
            for mode, results in runs.items():
                results.append(_measure(mode, photo))
    gaitu, baseline = _summary(runs["gaitu"]), _summary(runs["baseline"])
    sent = gaitu["bytes"]
    return [
        (
            "bytes sent / original bytes",
            f"{sent / original:.3f} ({sent / 2**20:.2f} MiB / {original / 2**20:.2f} MiB)",
            "<= 0.167 (1/6)",
        ),
        (
            f"time, Gaitu / plain decode + resize (median of {RUNS})",
            f"{gaitu['seconds'] / baseline['seconds']:.2f}x "
            f"({gaitu['seconds']:.2f} s / {baseline['seconds']:.2f} s)",
            "<= 0.5",
        ),
        (
            "peak memory above idle, Gaitu / plain decode + resize",
            f"{gaitu['peak'] / baseline['peak']:.2f}x "
            f"({gaitu['peak'] / 2**20:.0f} MiB / {baseline['peak'] / 2**20:.0f} MiB)",
            "<= 0.5",
        ),
    ]


def _measure(mode: str, photo: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(photo), str(ROOT), str(MAX_SIDE)],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return json.loads(done.stdout)


def _summary(results: list[dict]) -> dict:
    """Medians: time varies from run to run, memory hardly, bytes not at all."""
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def make_photo(path: Path) -> None:
    """A picture that compresses like a real photo: smooth colour gradients, soft-edged
    objects, texture at several scales and sensor grain, saved at quality 92 (about 9 MB,
    like a 24-megapixel camera's JPEG)."""
    width, height = SIZE

    def ramp(gradient: Image.Image, angle: int) -> Image.Image:
        return gradient.rotate(angle).resize(SIZE, Image.Resampling.BILINEAR)

    base = Image.merge(
        "RGB",
        (
            ramp(Image.linear_gradient("L"), 0),
            ramp(Image.radial_gradient("L"), 0),
            ramp(Image.linear_gradient("L"), 90),
        ),
    )
    shapes = Image.new("RGB", (width // 4, height // 4))
    draw = ImageDraw.Draw(shapes)
    rnd = random.Random(24)
    for _ in range(60):
        x, y = rnd.randrange(width // 4), rnd.randrange(height // 4)
        side = rnd.randrange(20, 300)
        box = (x, y, x + side, y + side * rnd.uniform(0.3, 1.5))
        colour = tuple(rnd.randrange(256) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.6 else draw.rectangle)(box, fill=colour)
    shapes = shapes.filter(ImageFilter.GaussianBlur(2)).resize(SIZE, Image.Resampling.BICUBIC)
    picture = Image.blend(base, shapes, 0.55)
    coarse = Image.effect_noise((width // 3, height // 3), 60).resize(
        SIZE, Image.Resampling.BICUBIC
    )
    grain = Image.blend(coarse, Image.effect_noise(SIZE, 50), 0.5)
    picture = Image.blend(picture, Image.merge("RGB", (grain, grain, grain)), 0.3)
    exif = Image.Exif()
    exif[0x0112] = 1  # orientation: upright, as cameras write it
    picture.save(path, "JPEG", quality=92, exif=exif)
