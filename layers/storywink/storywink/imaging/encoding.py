"""Pictures encoded for storage and for providers' APIs."""

from __future__ import annotations

import io

from PIL import Image


def png_bytes(image: Image.Image, *, dpi: int | None = None) -> bytes:
    """``image`` as PNG, tagged with ``dpi`` when given."""
    buffer = io.BytesIO()
    # Fast compression: level 6+ costs ~3x the time for ~15% smaller files.
    options = {"dpi": (dpi, dpi)} if dpi else {}
    image.save(buffer, "PNG", compress_level=2, **options)
    return buffer.getvalue()
