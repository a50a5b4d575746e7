"""Thumbnails: WebP at the size the library's cover cards show them.

A library card's cover is a 4:3 box that object-fit: cover fills (app.css: .cover-thumb); on the widest
layout (1080 px, five columns) it is 194 x 145 CSS px, so a thumbnail that covers 400 x 300 pixels stays
sharp at 2x density: the photo is scaled until both sides reach the box (never enlarged), with its long
side at most 800 so that a panorama is not kept huge only to be cropped.
"""

from __future__ import annotations

import io

from PIL import Image

from storywink.imaging.sizing import fit_size

COVER_BOX = (400, 300)
MAX_LONG_SIDE = 800
WEBP_QUALITY = 80
# Pillow's effort 0-6: 4 is its default balance; 6 is about twice as slow for ~2% smaller files.
WEBP_METHOD = 4


def thumbnail_size(size: tuple[int, int]) -> tuple[int, int]:
    """The smallest size of ``size``'s shape that covers COVER_BOX, not above the photo or MAX_LONG_SIDE."""
    width, height = size
    scale = min(1.0, max(COVER_BOX[0] / width, COVER_BOX[1] / height))
    long_side = min(MAX_LONG_SIDE, round(max(width, height) * scale))
    return fit_size(size, long_side)


def thumbnail_webp(image: Image.Image, icc_profile: bytes | None) -> bytes:
    """``image`` (RGB or RGBA) as a WebP thumbnail; transparent areas become white paper, as on the page."""
    size = thumbnail_size(image.size)
    thumbnail = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if thumbnail.mode == "RGBA":
        paper = Image.new("RGB", size, "white")
        paper.paste(thumbnail, mask=thumbnail.getchannel("A"))
        thumbnail = paper
    options: dict[str, object] = {"quality": WEBP_QUALITY, "method": WEBP_METHOD}
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="WEBP", **options)
    return buffer.getvalue()
