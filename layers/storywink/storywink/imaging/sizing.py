"""Sizes that keep a picture's aspect ratio, and the print size every illustration is delivered at."""

from __future__ import annotations

from PIL import Image

# Illustrations leave every provider at print resolution (8 in at 300 dpi on the long side), so
# the PDF treats all providers' pictures alike.
PRINT_LONG_SIDE = 2400
PRINT_DPI = 300


def fit_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """``size`` scaled, up or down, so its longer side is ``long_side``; never below 1 px."""
    width, height = size
    scale = long_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resized(image: Image.Image, long_side: int, resample=Image.Resampling.LANCZOS) -> Image.Image:
    return image.resize(fit_size(image.size, long_side), resample)
