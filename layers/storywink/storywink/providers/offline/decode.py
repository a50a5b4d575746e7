"""Turns a stored photo's bytes into an upright RGB image, or a permanent provider error."""

from __future__ import annotations

from PIL import Image

from storywink.imaging.decoding import DECODE_ERRORS, open_upright_rgb
from storywink.providers.errors import PermanentProviderError


def open_photo(photo: bytes, *, min_size: int | None = None) -> Image.Image:
    """Decode ``photo`` (see open_upright_rgb for ``min_size``)."""
    try:
        return open_upright_rgb(photo, min_size=min_size)
    except DECODE_ERRORS as exc:
        raise PermanentProviderError(f"The photo could not be read: {exc}", provider="offline") from exc
