"""Seeded noise and paper: the hand-made grain that keeps a filtered photo from looking filtered.

Pillow's own noise (effect_noise, effect_spread) uses an unseeded C generator; everything here
draws from a ``random.Random`` so the same page always gets the same grain.
"""

from __future__ import annotations

import random

from PIL import Image, ImageFilter, ImageOps


def noise(size: tuple[int, int], rng: random.Random, cell: int = 1) -> Image.Image:
    """Uniform grey noise; ``cell`` > 1 gives smooth blotches about that many pixels across."""
    width, height = size
    small = (max(1, -(-width // cell)), max(1, -(-height // cell)))
    image = Image.frombytes("L", small, rng.randbytes(small[0] * small[1]))
    if cell > 1:
        image = image.resize(size, Image.Resampling.BICUBIC)
    return image


def levels(image: Image.Image, low: int, high: int) -> Image.Image:
    """Maps 0..255 linearly onto low..high: how strongly a texture will darken when multiplied."""
    return image.point(lambda value: low + (high - low) * value // 255)


def paper(size: tuple[int, int], rng: random.Random, depth: int = 18) -> Image.Image:
    """A light paper grain, as a multiply layer (255 = no change)."""
    fibres = noise(size, rng).filter(ImageFilter.GaussianBlur(0.8))
    fibres = ImageOps.autocontrast(fibres)
    tooth = noise(size, rng, cell=6)
    return levels(Image.blend(fibres, tooth, 0.35), 255 - depth, 255)
