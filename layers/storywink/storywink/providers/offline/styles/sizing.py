"""Sizes keep the photo's aspect ratio: every style works at a set long side, then enlarges."""

from __future__ import annotations

from PIL import Image


def fit_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    width, height = size
    scale = long_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resized(image: Image.Image, long_side: int, resample=Image.Resampling.LANCZOS) -> Image.Image:
    return image.resize(fit_size(image.size, long_side), resample)
