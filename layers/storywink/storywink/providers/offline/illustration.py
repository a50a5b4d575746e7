"""The offline illustrator: redraws the page's photo in the book's art style with Pillow alone.

Output is a PNG at print resolution (long side 2400 px = 8 in at 300 dpi); small photos are
enlarged. Grain and paper texture are seeded from the page, so a redelivered message produces
the very same image.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from PIL import Image

from storywink.domain.enums import ArtStyle
from storywink.imaging.encoding import png_bytes
from storywink.imaging.sizing import PRINT_DPI, PRINT_LONG_SIDE, fit_size
from storywink.providers.base import IllustrationRequest, IllustrationResult
from storywink.providers.errors import PermanentProviderError
from storywink.providers.offline.decode import open_photo
from storywink.providers.offline.styles.cartoon import cartoon
from storywink.providers.offline.styles.pencil_sketch import pencil_sketch
from storywink.providers.offline.styles.watercolor import watercolor

NAME = "offline"

Style = Callable[[Image.Image, tuple[int, int], random.Random], Image.Image]
STYLES: dict[str, Style] = {
    ArtStyle.WATERCOLOR: watercolor,
    ArtStyle.CARTOON: cartoon,
    ArtStyle.PENCIL_SKETCH: pencil_sketch,
}


class OfflineIllustrationProvider:
    name = NAME

    def illustrate(self, request: IllustrationRequest) -> IllustrationResult:
        style = STYLES.get(request.art_style)
        if style is None:
            raise PermanentProviderError(
                f"Unsupported art style {request.art_style!r}; supported: {', '.join(STYLES)}", provider=NAME
            )
        # No style works above 1600 px, so a large JPEG can be decoded at a reduced scale.
        photo = open_photo(request.photo, min_size=1600)
        picture = style(photo, fit_size(photo.size, PRINT_LONG_SIDE), random.Random(_seed(request)))
        return IllustrationResult(image=png_bytes(picture, dpi=PRINT_DPI), content_type="image/png", provider=NAME)


def _seed(request: IllustrationRequest) -> int:
    digest = hashlib.sha256(f"{request.page_id}\x00{request.art_style}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
