"""Turns uploaded photo bytes into an upright RGB image, or a permanent provider error."""

from __future__ import annotations

import io
from functools import cache

from PIL import Image, ImageOps, UnidentifiedImageError

from storywink.providers.errors import PermanentProviderError


@cache
def _register_heif() -> None:
    # Phones upload HEIC; registering the opener is cheap but not free, so do it once, on first use.
    from pillow_heif import register_heif_opener

    register_heif_opener()


def open_photo(photo: bytes, *, min_size: int | None = None) -> Image.Image:
    """Decode ``photo``; with ``min_size`` a large JPEG is decoded at a reduced scale (much faster)
    that still keeps its short side at least that big."""
    _register_heif()
    try:
        image = Image.open(io.BytesIO(photo))
        if min_size is not None:
            image.draft("RGB", (min_size, min_size))
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "P", "PA"):
            # Transparent areas become white paper, not black.
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PermanentProviderError(f"The photo could not be read: {exc}", provider="offline") from exc
