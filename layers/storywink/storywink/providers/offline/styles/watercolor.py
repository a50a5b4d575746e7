"""Watercolour: soft washes that bleed into each other, darker pigment at their edges, a light
palette, a faint pencil under-drawing and the paper's grain and deckled, unpainted border."""

from __future__ import annotations

import random

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from storywink.imaging.sizing import resized
from storywink.providers.offline.styles.texture import levels, noise, paper

# Washes have no fine detail, so they are painted at this size and enlarged; the paper grain
# is added afterwards at full size, where it is what the eye reads as "real".
_WORK_SIDE = 800
_COLOURS = 28
_PAPER = (251, 248, 241)


def watercolor(photo: Image.Image, size: tuple[int, int], rng: random.Random) -> Image.Image:
    small = resized(photo, _WORK_SIDE)
    smooth = small.filter(ImageFilter.MedianFilter(3)).filter(ImageFilter.MedianFilter(3))
    regions = _colour_regions(smooth)
    wash = _bleed(regions, smooth)
    wash = _pool_pigment_at_edges(wash, regions)
    wash = ImageChops.multiply(wash, _uneven_pigment(wash.size, rng))
    wash = _underdrawing(wash, smooth)
    painting = wash.resize(size, Image.Resampling.LANCZOS)
    painting = ImageChops.multiply(painting, paper(size, rng, depth=22).convert("RGB"))
    return Image.composite(painting, Image.new("RGB", size, _PAPER), _deckled_edge(size, rng))


def _colour_regions(smooth: Image.Image) -> Image.Image:
    # A lighter, fresher palette than the photo: pigment on white paper never reaches black.
    light = ImageEnhance.Color(smooth).enhance(1.4)
    light = light.point(_lighten)
    light = Image.blend(light, Image.new("RGB", light.size, _PAPER), 0.12)
    palette = light.resize((160, round(160 * light.height / light.width))).quantize(
        _COLOURS, method=Image.Quantize.MEDIANCUT
    )
    return light.quantize(palette=palette, dither=Image.Dither.NONE).filter(ImageFilter.ModeFilter(3)).convert("RGB")


def _lighten(value: int) -> int:
    return 50 + value * 205 // 255


def _bleed(regions: Image.Image, smooth: Image.Image) -> Image.Image:
    """Wet-in-wet: region edges soften, and a blurred copy of the photo seeps under them."""
    soft_regions = regions.filter(ImageFilter.GaussianBlur(3))
    seep = ImageEnhance.Color(smooth.filter(ImageFilter.GaussianBlur(8))).enhance(1.4).point(_lighten)
    return Image.blend(soft_regions, seep, 0.35)


def _pool_pigment_at_edges(wash: Image.Image, regions: Image.Image) -> Image.Image:
    """Drying watercolour leaves a darker rim where a wash ends."""
    # Only real shape boundaries, not the small steps inside a gradient, or it reads as a map.
    rims = regions.convert("L").filter(ImageFilter.FIND_EDGES).point(lambda value: value if value > 28 else 0)
    rims = ImageOps.expand(ImageOps.crop(rims, 3), 3, fill=0).filter(ImageFilter.GaussianBlur(1.5))
    darken = rims.point(lambda value: 255 - min(70, value * 2))
    return ImageChops.multiply(wash, Image.merge("RGB", (darken, darken, darken)))


def _uneven_pigment(size: tuple[int, int], rng: random.Random) -> Image.Image:
    blotches = levels(noise(size, rng, cell=max(8, size[0] // 12)), 212, 255)
    granules = levels(noise(size, rng, cell=4), 238, 255)
    return ImageChops.multiply(blotches, granules).convert("RGB")


def _underdrawing(wash: Image.Image, smooth: Image.Image) -> Image.Image:
    """A light pencil line under the paint keeps faces and shapes readable."""
    grey = smooth.convert("L").filter(ImageFilter.GaussianBlur(1))
    lines = ImageChops.subtract(grey.filter(ImageFilter.GaussianBlur(3)), grey).point(
        lambda value: 255 - min(80, max(0, value - 8) * 7)
    )
    return ImageChops.multiply(wash, Image.merge("RGB", (lines, lines, lines)))


def _deckled_edge(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A mask that is white where paint is and fades raggedly to bare paper near the border."""
    width, height = size
    small = (max(16, width // 8), max(16, height // 8))
    margin = max(2, round(min(small) * 0.04))
    mask = Image.new("L", small, 0)
    ImageDraw.Draw(mask).rectangle((margin, margin, small[0] - margin, small[1] - margin), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(margin * 0.8))
    # Gentle noise moves the fade line in and out; it is too weak to punch holes further in.
    wobble = Image.blend(noise(small, rng, cell=margin * 2), noise(small, rng, cell=max(1, margin // 2)), 0.4)
    wobble = levels(wobble, 0, 110)
    ragged = ImageChops.add(mask, wobble, scale=1.0, offset=-55)
    ragged = ragged.point(lambda value: max(0, min(255, (value - 110) * 4)))
    return ragged.resize(size, Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(3))
