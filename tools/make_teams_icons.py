"""Generate the Teams app icons: manifest/teams/color.png (192x192) and outline.png (32x32).

Teams wants a full-colour icon on a solid background and a white-on-transparent outline icon
(the outline's only colour must be white). The glyph is a page of minutes with a tick: drawn
at 8x and scaled down, so the edges are smooth. The output is deterministic (no timestamps), so
re-running changes nothing unless this file does.  Run:  .venv/bin/python tools/make_teams_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

OUT_DIR = Path(__file__).resolve().parent.parent / "manifest" / "teams"
ACCENT = (31, 78, 121, 255)  # #1F4E79, the referat's heading colour
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)
SCALE = 8


def _page(
    draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], stroke: float, fill: bool
) -> None:
    """A sheet with a folded corner, three text lines and a tick, inside `box` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    fold = w * 0.28
    outline = [(x0, y0), (x1 - fold, y0), (x1, y0 + fold), (x1, y1), (x0, y1)]
    if fill:
        draw.polygon(outline, fill=WHITE)
        ink = ACCENT
    else:
        draw.line([*outline, outline[0]], fill=WHITE, width=round(stroke), joint="curve")
        ink = WHITE
    draw.line([(x1 - fold, y0), (x1 - fold, y0 + fold), (x1, y0 + fold)], fill=ink, width=round(stroke * 0.8))
    for i in range(3):
        y = y0 + h * (0.34 + 0.15 * i)
        draw.line([(x0 + w * 0.18, y), (x0 + w * (0.78 if i < 2 else 0.5), y)], fill=ink, width=round(stroke))
    tick = [(x0 + w * 0.55, y0 + h * 0.80), (x0 + w * 0.66, y0 + h * 0.90), (x0 + w * 0.86, y0 + h * 0.68)]
    draw.line(tick, fill=ink, width=round(stroke * 1.2), joint="curve")


def color_icon(size: int = 192) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), ACCENT)
    draw = ImageDraw.Draw(image)
    margin = big * 0.2
    _page(
        draw,
        (margin + big * 0.04, margin, big - margin - big * 0.04, big - margin),
        stroke=big * 0.03,
        fill=True,
    )
    return image.resize((size, size), Image.Resampling.LANCZOS).convert("RGB")


def outline_icon(size: int = 32) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), CLEAR)
    draw = ImageDraw.Draw(image)
    margin = big * 0.1
    _page(
        draw,
        (margin + big * 0.06, margin, big - margin - big * 0.06, big - margin),
        stroke=big * 0.075,
        fill=False,
    )
    small = image.resize((size, size), Image.Resampling.LANCZOS)
    # Keep the outline pure white: only the alpha channel carries the anti-aliasing.
    alpha = small.getchannel("A")
    white = Image.new("RGBA", (size, size), WHITE)
    white.putalpha(alpha)
    return white


def main(out_dir: Path = OUT_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, image in (("color.png", color_icon()), ("outline.png", outline_icon())):
        path = out_dir / name
        image.save(path, format="PNG", optimize=True)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR):
        print(path)
