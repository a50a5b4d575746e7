"""Photos shaped for OpenAI requests, and its pictures shaped for print (Pillow only).

Story requests carry small JPEGs (long side 768 px): enough for the model to read a scene, and a
20-page book stays a few megabytes. The Images API draws only a few sizes, so a page's photo is
cropped to the closest one before the edit; the result is enlarged to print resolution
(storywink.imaging.sizing), so the PDF treats every provider's pictures alike.
"""

from __future__ import annotations

import base64
import io
import math

from PIL import Image, ImageOps

from storywink.imaging.decoding import DECODE_ERRORS, open_upright_rgb
from storywink.imaging.encoding import png_bytes
from storywink.imaging.sizing import PRINT_DPI, PRINT_LONG_SIDE, resized
from storywink.providers.errors import PermanentProviderError
from storywink.providers.openai.client import NAME

STORY_PHOTO_LONG_SIDE = 768
# The sizes every GPT image model draws: landscape, square, portrait.
EDIT_SIZES = ((1536, 1024), (1024, 1024), (1024, 1536))


def story_photo_url(photo: bytes) -> str:
    """The photo as a ``data:image/jpeg;base64,...`` URL, long side at most 768 px."""
    image = _open(photo, "The photo", min_size=STORY_PHOTO_LONG_SIDE)
    image.thumbnail((STORY_PHOTO_LONG_SIDE, STORY_PHOTO_LONG_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def edit_size(width: int, height: int) -> tuple[int, int]:
    """The drawable size closest to the photo's aspect ratio."""
    ratio = width / height
    return min(EDIT_SIZES, key=lambda size: abs(math.log(ratio * size[1] / size[0])))


def edit_input(photo: bytes) -> tuple[bytes, str]:
    """The photo centre-cropped and scaled to the closest drawable size, as PNG, with that size ("1536x1024")."""
    image = _open(photo, "The photo", min_size=max(EDIT_SIZES[0]))
    size = edit_size(*image.size)
    return png_bytes(ImageOps.fit(image, size, Image.Resampling.LANCZOS)), f"{size[0]}x{size[1]}"


def print_png(picture: bytes) -> bytes:
    """The model's picture as a PNG with a 2400 px long side at 300 dpi."""
    image = _open(picture, "OpenAI's picture")
    return png_bytes(resized(image, PRINT_LONG_SIDE), dpi=PRINT_DPI)


def _open(data: bytes, what: str, *, min_size: int | None = None) -> Image.Image:
    try:
        return open_upright_rgb(data, min_size=min_size)
    except DECODE_ERRORS as exc:
        raise PermanentProviderError(f"{what} could not be read: {exc}", provider=NAME) from exc
