"""Turns a stored photo's bytes into an upright RGB image, or a permanent provider error.

Uploads are normalised by storywink.imaging.photos (JPEG, or PNG when transparent, upright, no
metadata); this still honours EXIF orientation and flattens transparency, so a photo from
anywhere else is read the same way.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from storywink.providers.errors import PermanentProviderError


def open_photo(photo: bytes, *, min_size: int | None = None) -> Image.Image:
    """Decode ``photo``; with ``min_size`` a large JPEG is decoded at a reduced scale (much
    faster) that still keeps it at least that big."""
    try:
        image = Image.open(io.BytesIO(photo))
        if min_size is not None:
            image.draft("RGB", (min_size, min_size))
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "P", "PA"):
            # Transparent areas become white paper, not black.
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PermanentProviderError(f"The photo could not be read: {exc}", provider="offline") from exc
