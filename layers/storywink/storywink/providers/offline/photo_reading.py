"""Reads what simple statistics can tell about a photo: light, colours, setting, busyness, subject.

The offline story provider has no vision model; these traits are what lets it describe each
page's photo instead of writing the same words for every picture. The subject is a cautious
guess from colour shares (a furry coat filling the frame, a vivid warm plate or cup, a face-toned
patch in the upper middle) and stays None unless a rule fires, so the story names a subject only
when the statistics point at one; a hosted provider's vision model is what reads photos for real.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageStat

from storywink.imaging.sizing import fit_size
from storywink.providers.offline.decode import open_photo

_SAMPLE_SIZE = 96  # statistics on a thumbnail: fast, and blind to JPEG noise


@dataclass(frozen=True)
class PhotoTraits:
    orientation: str  # "portrait" | "landscape" | "square"
    brightness: float  # 0 (black) .. 1 (white)
    light: str  # "bright" | "soft" | "dark"
    colours: tuple[str, ...]  # named dominant colours, most dominant first
    warmth: str  # "warm" | "cool" | "neutral"
    saturation: float  # 0 .. 1
    vividness: str  # "vivid" | "gentle" | "muted"
    setting: str  # "night-sky" | "outdoor" | "indoor"
    edge_density: float  # 0 .. 1
    busy: bool
    subject: str | None = None  # "animal" | "food" | "person" | None (nothing the statistics can name)


def read_photo(photo: bytes) -> PhotoTraits:
    # A reduced-scale decode keeps the aspect ratio, which is all the size information used.
    return read_image(open_photo(photo, min_size=_SAMPLE_SIZE * 2))


def read_image(image: Image.Image) -> PhotoTraits:
    width, height = image.size
    thumb = image.resize(fit_size(image.size, _SAMPLE_SIZE), Image.Resampling.BOX)
    grey = thumb.convert("L")
    hsv = thumb.convert("HSV")

    brightness = ImageStat.Stat(grey).mean[0] / 255
    saturation = ImageStat.Stat(hsv).mean[1] / 255
    red, _, blue = ImageStat.Stat(thumb).mean
    edges = grey.filter(ImageFilter.SMOOTH).filter(ImageFilter.FIND_EDGES)
    edge_density = ImageStat.Stat(edges).mean[0] / 255

    setting = _setting(grey, hsv, brightness)
    return PhotoTraits(
        orientation=_orientation(width, height),
        brightness=round(brightness, 3),
        light="bright" if brightness > 0.55 else "dark" if brightness < 0.28 else "soft",
        colours=_dominant_colours(thumb),
        warmth="warm" if red - blue > 18 else "cool" if blue - red > 12 else "neutral",
        saturation=round(saturation, 3),
        vividness="vivid" if saturation > 0.45 else "muted" if saturation < 0.18 else "gentle",
        setting=setting,
        edge_density=round(edge_density, 3),
        busy=edge_density > 0.09,
        subject=_subject(hsv, saturation, setting),
    )


def _orientation(width: int, height: int) -> str:
    ratio = width / height
    if ratio > 1.1:
        return "landscape"
    if ratio < 0.9:
        return "portrait"
    return "square"


def _dominant_colours(thumb: Image.Image, limit: int = 3) -> tuple[str, ...]:
    palette_image = thumb.quantize(colors=8, method=Image.Quantize.MEDIANCUT)
    palette = palette_image.getpalette() or []
    total = thumb.width * thumb.height
    shares: dict[str, float] = {}
    for count, index in palette_image.getcolors() or []:
        rgb = palette[index * 3 : index * 3 + 3]
        name = colour_name(*rgb)
        shares[name] = shares.get(name, 0.0) + count / total
    ranked = sorted(shares.items(), key=lambda item: (-item[1], item[0]))
    names = [name for name, share in ranked if share >= 0.08][:limit]
    return tuple(names or [ranked[0][0]])


def colour_name(red: int, green: int, blue: int) -> str:
    """A child-friendly name for an RGB colour ("deep blue", "warm orange", "snowy white")."""
    hue, sat, val = colorsys.rgb_to_hsv(red / 255, green / 255, blue / 255)
    degrees = hue * 360
    if val < 0.16:
        return "inky black"
    if sat < 0.16 or (sat < 0.25 and val < 0.35):
        if val > 0.85:
            return "snowy white"
        if val > 0.6:
            return "silver grey"
        return "soft grey" if val > 0.38 else "charcoal grey"
    if degrees < 14 or degrees >= 345:
        if val < 0.45:
            return "deep red"
        return "rosy pink" if sat < 0.45 else "bright red"
    if degrees < 45:
        if val < 0.55:
            return "chocolate brown"
        if sat < 0.45:
            return "sandy beige" if val > 0.7 else "toffee brown"
        return "warm orange"
    if degrees < 70:
        if val < 0.5:
            return "mossy olive"
        return "creamy yellow" if sat < 0.4 else "sunny yellow"
    if degrees < 160:
        if val < 0.4:
            return "deep forest green"
        return "sage green" if sat < 0.35 else "leafy green"
    if degrees < 200:
        return "deep teal" if val < 0.4 else "sea green"
    if degrees < 250:
        if val < 0.6:  # blue looks darker than its value says
            return "deep blue"
        return "sky blue" if sat < 0.55 else "bright blue"
    if degrees < 290:
        if val < 0.4:
            return "deep purple"
        return "lavender" if sat < 0.4 else "violet"
    if val < 0.4:
        return "plum purple"
    return "rosy pink" if sat < 0.45 else "bright pink"


def _setting(grey: Image.Image, hsv: Image.Image, brightness: float) -> str:
    if brightness < 0.2 and _has_bright_specks(grey):
        return "night-sky"
    top = (0, 0, hsv.width, max(1, hsv.height // 3))
    if _share(hsv.crop(top), _is_sky) > 0.3 or _share(hsv, _is_foliage) > 0.3:
        return "outdoor"
    return "indoor"


def _subject(hsv: Image.Image, saturation: float, setting: str) -> str | None:
    if setting == "night-sky":
        return None
    coat = _share(hsv, _is_coat)
    if coat > 0.6:
        return "animal"  # one brown, ginger or tabby coat filling the frame
    if setting == "indoor" and saturation > 0.55 and _share(hsv, _is_red) > 0.12 and coat > 0.25:
        return "food"  # a vivid red or orange dish or cup on a warm table
    width, height = hsv.size
    upper_middle = hsv.crop((width // 4, 0, 3 * width // 4, max(1, height // 2)))
    if 0.05 < _share(upper_middle, _is_face_tone) < 0.4 and coat < 0.4:
        return "person"  # a face-sized patch of skin tone, with something else around it
    return None


def _has_bright_specks(grey: Image.Image) -> bool:
    """Stars: a mostly dark frame sprinkled with small, scattered bright points."""
    histogram = grey.histogram()
    total = grey.width * grey.height
    bright = sum(histogram[140:]) / total
    dark = sum(histogram[:50]) / total
    return dark > 0.7 and 0.002 < bright < 0.12


def _is_sky(hue: int, sat: int, val: int) -> bool:
    degrees = hue * 360 / 255
    return 180 <= degrees <= 250 and sat > 40 and val > 60


def _is_foliage(hue: int, sat: int, val: int) -> bool:
    degrees = hue * 360 / 255
    return 70 <= degrees <= 160 and sat > 60 and val > 50


def _is_coat(hue: int, sat: int, val: int) -> bool:
    return 12 <= hue * 360 / 255 <= 50 and 50 <= sat <= 190 and 70 <= val <= 235


def _is_red(hue: int, sat: int, val: int) -> bool:
    degrees = hue * 360 / 255
    return (degrees < 15 or degrees > 340) and sat > 130 and val > 70


def _is_face_tone(hue: int, sat: int, val: int) -> bool:
    return 8 <= hue * 360 / 255 <= 35 and 50 <= sat <= 150 and val > 120


def _share(hsv: Image.Image, predicate) -> float:
    pixels = list(hsv.get_flattened_data())
    return sum(1 for pixel in pixels if predicate(*pixel)) / len(pixels)
