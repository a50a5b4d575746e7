"""Turns stored picture bytes into an upright RGB image.

Uploads are normalised by storywink.imaging.photos (JPEG, or PNG when transparent, upright, no
metadata); this still honours EXIF orientation and flattens transparency, so a picture from
anywhere else (a model's output, an older upload) is read the same way.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

# What open_upright_rgb raises for bytes that are not a picture Pillow can read.
DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError)


def open_upright_rgb(data: bytes, *, min_size: int | None = None) -> Image.Image:
    """Decode ``data``; with ``min_size`` a large JPEG is decoded at a reduced scale (much
    faster) that still keeps it at least that big. Raises one of DECODE_ERRORS."""
    image = Image.open(io.BytesIO(data))
    if min_size is not None:
        image.draft("RGB", (min_size, min_size))
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P", "PA"):
        # Transparent areas become white paper, not black.
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return image.convert("RGB")
