"""Pencil sketch: graphite lines from a colour-dodge blend, hatched shading in the darker areas,
on a faintly warm paper tone. Near-greyscale by design."""

from __future__ import annotations

import random

from PIL import Image, ImageChops, ImageFilter, ImageMath, ImageOps

from storywink.imaging.sizing import resized
from storywink.providers.offline.styles.texture import noise, paper

# Pencil lines are fine detail, so unlike the painted styles this one is drawn near full size.
_WORK_SIDE = 1600
_PAPER_TONE = (246, 243, 236)
_HATCH_ANGLE = 38


def pencil_sketch(photo: Image.Image, size: tuple[int, int], rng: random.Random) -> Image.Image:
    grey = ImageOps.autocontrast(resized(photo.convert("L"), _WORK_SIDE, Image.Resampling.BICUBIC), cutoff=1)
    lines = _dodge_sketch(grey)
    shading = _hatching(grey, rng)
    drawing = ImageChops.multiply(lines, shading).resize(size, Image.Resampling.BICUBIC)
    drawing = ImageChops.multiply(drawing, paper(size, rng, depth=16))
    tone = Image.new("RGB", size, _PAPER_TONE)
    return ImageChops.multiply(Image.merge("RGB", (drawing, drawing, drawing)), tone)


def _dodge_sketch(grey: Image.Image) -> Image.Image:
    """The classic sketch: the image colour-dodged with its own blurred negative leaves white
    where it is flat and a graphite line where it changes."""
    blurred_negative = ImageOps.invert(grey).filter(ImageFilter.GaussianBlur(max(2, grey.width / 160)))
    dodged = ImageMath.lambda_eval(
        lambda args: args["convert"](args["min"](args["base"] * 256 / (256 - args["blend"]), 255), "L"),
        base=grey,
        blend=blurred_negative,
    )
    # A raw dodge is too faint for graphite: a curve deepens the strokes, but stops at a soft
    # charcoal, since pencil never gets truly black.
    return dodged.point(lambda value: 40 + round(215 * (value / 255) ** 2))


def _hatching(grey: Image.Image, rng: random.Random) -> Image.Image:
    """Diagonal pencil strokes, denser where the photo is darker (255 = no stroke)."""
    strokes = _strokes(grey.size, rng)
    darkness = ImageOps.invert(grey.filter(ImageFilter.GaussianBlur(6)))
    darkness = darkness.point(lambda value: max(0, min(170, (value - 80) * 2)))
    shade = ImageChops.multiply(ImageOps.invert(strokes), darkness)
    return ImageOps.invert(shade)


def _strokes(size: tuple[int, int], rng: random.Random) -> Image.Image:
    # Noise stretched along one axis becomes streaks; rotated, they read as hatching.
    width, height = size
    side = round((width**2 + height**2) ** 0.5) + 2
    streaks = noise((side // 2, side // 28), rng).resize((side, side), Image.Resampling.BICUBIC)
    # Bright gaps between streaks become bare paper, so strokes read as separate lines.
    streaks = ImageOps.autocontrast(streaks, cutoff=10).point(lambda value: 255 if value > 150 else value)
    rotated = streaks.rotate(_HATCH_ANGLE, resample=Image.Resampling.BILINEAR)
    left, top = (side - width) // 2, (side - height) // 2
    return rotated.crop((left, top, left + width, top + height))
