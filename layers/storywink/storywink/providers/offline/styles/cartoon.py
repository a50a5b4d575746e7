"""Cartoon: flat, bright colour fills with bold dark outlines, like a hand-inked comic."""

from __future__ import annotations

import random

from PIL import Image, ImageChops, ImageEnhance, ImageFilter

_SMALL_SIDE = 640  # smoothing and flattening are the slow steps: done small, then enlarged
_COLOURS = 14
_INK = (34, 28, 44)


def cartoon(photo: Image.Image, size: tuple[int, int], rng: random.Random) -> Image.Image:
    del rng  # a clean comic look has no grain
    scale = _SMALL_SIDE / max(photo.size)
    small = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.Resampling.LANCZOS)
    # Median filters erase texture (fur, wood grain, skin) but keep the shapes' edges sharp.
    smooth = small.filter(ImageFilter.MedianFilter(5)).filter(ImageFilter.MedianFilter(5))
    return _ink(_flat_colours(smooth).resize(size, Image.Resampling.LANCZOS), smooth.resize(size, Image.Resampling.BICUBIC))


def _flat_colours(smooth: Image.Image) -> Image.Image:
    vivid = ImageEnhance.Contrast(ImageEnhance.Color(smooth).enhance(1.45)).enhance(1.1)
    flat = vivid.quantize(_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).convert("RGB")
    return flat.filter(ImageFilter.ModeFilter(3))  # removes single-pixel specks between regions


def _ink(flat: Image.Image, smooth: Image.Image) -> Image.Image:
    """Outlines where the picture has a dark edge: the dark side of a difference of Gaussians."""
    grey = smooth.convert("L").filter(ImageFilter.GaussianBlur(1))
    surround = grey.filter(ImageFilter.GaussianBlur(5))
    edges = ImageChops.subtract(surround, grey, scale=1.0, offset=0)
    lines = edges.point(lambda value: 255 if value > 7 else 0)
    lines = lines.filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.GaussianBlur(0.8))
    return Image.composite(Image.new("RGB", flat.size, _INK), flat, lines)
