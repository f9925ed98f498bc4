"""Draw the app icon, ``ui/icons/triage.png``: ``python packaging/make_icon.py``.

A generated picture rather than a designed one, so anyone can remake it: a
navy tile with three bars of falling length (a ranked queue), the top one
amber. PyInstaller converts the PNG to ``.ico`` (Windows) and ``.icns``
(macOS) itself when Pillow is installed.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
TARGET = Path(__file__).resolve().parent.parent / "ui" / "icons" / "triage.png"


def draw() -> Image.Image:
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((8, 8, SIZE - 8, SIZE - 8), radius=44, fill=(17, 43, 84, 255))
    bars = ((176, (245, 166, 35, 255)), (132, (235, 240, 247, 255)), (88, (235, 240, 247, 255)))
    for row, (length, colour) in enumerate(bars):
        top = 62 + row * 50
        pen.rounded_rectangle((44, top, 44 + length, top + 32), radius=10, fill=colour)
    return image


if __name__ == "__main__":
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    draw().save(TARGET, optimize=True)
    print(f"wrote {TARGET}")
