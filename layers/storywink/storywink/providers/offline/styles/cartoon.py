"""Cartoon: flat, bright colour fills with bold dark outlines, like a hand-inked comic."""

from __future__ import annotations

import random

from PIL import Image, ImageChops, ImageEnhance, ImageFilter, ImageOps

from storywink.imaging.sizing import resized

# The look is worked out at this size and enlarged: flat fills and bold lines lose nothing by
# it, and median filtering a 2400 px image would take seconds.
_WORK_SIDE = 720
_COLOURS = 14
_INK = (34, 28, 44)


def cartoon(photo: Image.Image, size: tuple[int, int], rng: random.Random) -> Image.Image:
    del rng  # a clean comic look has no grain
    small = resized(photo, _WORK_SIDE)
    # Repeated small medians erase texture (fur, wood grain) but keep the edges of shapes.
    smooth = small
    for _ in range(3):
        smooth = smooth.filter(ImageFilter.MedianFilter(3))
    flat, palette = _flat_colours(smooth)
    picture = _with_sparkles(_enlarge_flat(flat, palette, size), small, smooth)
    lines = _crisp(_outlines(smooth, flat).filter(ImageFilter.GaussianBlur(1)).resize(size, Image.Resampling.BICUBIC))
    return Image.composite(Image.new("RGB", size, _INK), picture, lines)


def _enlarge_flat(flat: Image.Image, palette: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Enlarging flat colours directly gives staircase edges; enlarging a softened copy and
    snapping it back onto the palette gives smooth, crisp ones."""
    soft = flat.filter(ImageFilter.GaussianBlur(1)).resize(size, Image.Resampling.BICUBIC)
    return soft.quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB")


def _flat_colours(smooth: Image.Image) -> tuple[Image.Image, Image.Image]:
    vivid = ImageEnhance.Contrast(ImageEnhance.Color(smooth).enhance(1.45)).enhance(1.1)
    # The palette is chosen on a thumbnail (fast) and then mapped over the whole picture.
    palette = vivid.resize((160, round(160 * vivid.height / vivid.width))).quantize(
        _COLOURS, method=Image.Quantize.MEDIANCUT
    )
    flat = vivid.quantize(palette=palette, dither=Image.Dither.NONE)
    return flat.filter(ImageFilter.ModeFilter(3)).convert("RGB"), palette  # no single-pixel specks


def _with_sparkles(picture: Image.Image, small: Image.Image, smooth: Image.Image) -> Image.Image:
    """Stars, fairy lights and eye glints are small bright dots the medians erase; paint them back."""
    erased = ImageChops.subtract(small.convert("L"), smooth.convert("L"))
    sparkles = erased.point(lambda value: 255 if value > 35 else 0).filter(ImageFilter.MaxFilter(3))
    if not sparkles.getbbox():
        return picture
    glow = ImageEnhance.Brightness(small).enhance(1.4).resize(picture.size, Image.Resampling.BICUBIC)
    mask = _crisp(sparkles.filter(ImageFilter.GaussianBlur(0.8)).resize(picture.size, Image.Resampling.BICUBIC))
    return Image.composite(glow, picture, mask)


def _outlines(smooth: Image.Image, flat: Image.Image) -> Image.Image:
    """Ink where the picture has a dark edge (the dark side of a difference of Gaussians) and
    where two flat colours of very different lightness meet."""
    grey = smooth.convert("L").filter(ImageFilter.GaussianBlur(1))
    surround = grey.filter(ImageFilter.GaussianBlur(3))
    dark_edges = ImageChops.subtract(surround, grey).point(lambda value: 255 if value > 12 else 0)
    steps = flat.convert("L").filter(ImageFilter.FIND_EDGES).point(lambda value: 255 if value > 60 else 0)
    steps = ImageOps.expand(ImageOps.crop(steps, 2), 2, fill=0)  # FIND_EDGES rims the picture's border
    lines = ImageChops.lighter(dark_edges, steps)
    return lines.filter(ImageFilter.MedianFilter(3))  # drop lone dots, keep strokes


def _crisp(mask: Image.Image) -> Image.Image:
    """An enlarged line mask is blurry; a steep ramp around mid-grey makes it sharp but anti-aliased."""
    return mask.point(lambda value: max(0, min(255, (value - 90) * 4)))
