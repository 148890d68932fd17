"""The report chart: daily consumption as stacked bars per energy, a PNG made with Pillow."""
from __future__ import annotations

import functools
import io
import unicodedata

from PIL import Image, ImageDraw, ImageFont

COLOURS = {"electricity": (242, 169, 0), "gas": (46, 117, 182), "heat": (192, 80, 77), "water": (75, 172, 198)}
WIDTH, HEIGHT, MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 640, 260, 68, 36, 28


@functools.cache
def _font() -> tuple[ImageFont.ImageFont | ImageFont.FreeTypeFont, bool]:
    """DejaVu when the machine has it; Pillow's built-in font otherwise, which has no accented letters."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", 11), True
    except OSError:
        return ImageFont.load_default(), False


def _label(text: str, unicode_ok: bool) -> str:
    if unicode_ok:
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def daily_chart(days: list[str], series: dict[str, dict[str, int]], labels: dict[str, str]) -> bytes:
    """``series`` maps an energy to {day: Wh}; bars are drawn in the order of ``days``."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font, unicode_ok = _font()
    labels = {k: _label(v, unicode_ok) for k, v in labels.items()}
    totals = [sum(s.get(d, 0) for s in series.values()) for d in days]
    top = max(totals, default=0) or 1
    plot_w, plot_h = WIDTH - MARGIN_LEFT - 10, HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    base = MARGIN_TOP + plot_h
    draw.line([(MARGIN_LEFT, MARGIN_TOP), (MARGIN_LEFT, base), (WIDTH - 10, base)], fill=(90, 90, 90))
    for frac in (0.5, 1.0):
        y = base - plot_h * frac
        draw.line([(MARGIN_LEFT - 3, y), (WIDTH - 10, y)], fill=(225, 225, 225))
        draw.text((4, y - 6), f"{top * frac / 1000:.1f} kWh", fill=(60, 60, 60), font=font)
    step = plot_w / max(len(days), 1)
    bar = max(step * 0.75, 1)
    for i, day in enumerate(days):
        x = MARGIN_LEFT + i * step + (step - bar) / 2
        y = base
        for energy, values in series.items():
            h = values.get(day, 0) / top * plot_h
            if h > 0:
                draw.rectangle([x, y - h, x + bar, y], fill=COLOURS.get(energy, (120, 120, 120)))
                y -= h
        if len(days) <= 10 or i % 5 == 0:
            draw.text((x, base + 4), day[8:10], fill=(60, 60, 60), font=font)
    x = MARGIN_LEFT
    for energy in series:
        draw.rectangle([x, 8, x + 10, 18], fill=COLOURS.get(energy, (120, 120, 120)))
        draw.text((x + 14, 7), labels.get(energy, energy), fill=(30, 30, 30), font=font)
        x += 24 + int(draw.textlength(labels.get(energy, energy), font=font))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
