"""Draws the PWA's PNG icons (the same picture as public/icons/icon.svg): `uv run python web/scripts/icons.py`."""
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "public" / "icons"
GREEN, WHITE, YELLOW = "#0b6e4f", "#ffffff", "#ffd166"
BARS = [((96, 288, 160, 416), WHITE), ((192, 208, 256, 416), WHITE), ((288, 128, 352, 416), WHITE),
        ((384, 240, 416, 416), YELLOW)]


def draw(size: int, maskable: bool) -> Image.Image:
    scale = size / 512
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0) if not maskable else GREEN)
    d = ImageDraw.Draw(img)
    if not maskable:
        d.rounded_rectangle((0, 0, size - 1, size - 1), radius=int(96 * scale), fill=GREEN)
    # A maskable icon keeps its picture inside the central 80 % safe zone.
    shrink, offset = (0.8, 0.1 * size) if maskable else (1.0, 0.0)
    for (x0, y0, x1, y1), colour in BARS:
        box = [offset + v * scale * shrink for v in (x0, y0, x1, y1)]
        d.rounded_rectangle(box, radius=max(1, int(12 * scale * shrink)), fill=colour)
    return img


for size in (192, 512):
    draw(size, False).save(OUT / f"icon-{size}.png", optimize=True)
draw(512, True).save(OUT / "icon-maskable-512.png", optimize=True)
