"""Photo ingestion: prove an upload is a real, sane photo, then re-encode its pixels alone.

Checks run cheapest first (byte size, magic bytes, header dimensions) so a hostile file is
rejected before any pixel is decoded. The output carries no EXIF, GPS, XMP or comments.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps
from PIL.JpegImagePlugin import JpegImageFile
from PIL.PngImagePlugin import PngImageFile
from PIL.WebPImagePlugin import WebPImageFile

from storywink.domain.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from storywink.imaging.thumbnails import thumbnail_webp

MIN_SIDE = 64
JPEG_QUALITY = 90

# ftyp brands of HEVC-coded HEIF, which is what phones write; AVIF shares the container, not the codec.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})

# What Pillow and libheif raise for bytes they cannot make sense of.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, RuntimeError, struct.error)

_SIXTEEN_BIT_GREY = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


@dataclass(frozen=True)
class ProcessedPhoto:
    """A photo rebuilt from its pixels: upright, metadata-free, ready to store."""

    data: bytes
    content_type: str  # "image/jpeg", or "image/png" when the photo has real transparency
    extension: str  # "jpg" or "png"
    width: int  # after EXIF orientation
    height: int
    thumbnail: bytes  # WebP covering the library's cover box (storywink.imaging.thumbnails)
    source_format: str  # what the upload really was: "jpeg", "png", "webp" or "heic"


def sniff_image_type(data: bytes) -> str | None:
    """The real format of ``data`` from its magic bytes: "jpeg", "png", "webp", "heic" or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and _HEIC_BRANDS & _ftyp_brands(data):
        return "heic"
    return None


def process_photo(data: bytes, *, max_bytes: int, max_pixels: int) -> ProcessedPhoto:
    """Validate an uploaded photo and return it re-encoded, upright and stripped of metadata.

    Raises PayloadTooLarge (PHOTO_TOO_LARGE), UnsupportedMediaType (UNSUPPORTED_IMAGE_TYPE) or
    ValidationFailed (IMAGE_CORRUPT, IMAGE_DIMENSIONS_TOO_LARGE, IMAGE_TOO_SMALL).
    """
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The photo is {_megabytes(len(data))} MB; the most we accept is {_megabytes(max_bytes)} MB.",
            code="PHOTO_TOO_LARGE",
            details={"size_bytes": len(data), "max_bytes": max_bytes},
        )
    kind = sniff_image_type(data)
    if kind is None:
        raise UnsupportedMediaType(
            "This file isn't a photo we can read. Please upload a JPEG, PNG, WebP or HEIC image.",
            code="UNSUPPORTED_IMAGE_TYPE",
        )

    image = _open_header(data, kind)
    _check_dimensions(image.width, image.height, max_pixels)
    try:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
    except _DECODE_ERRORS as exc:
        raise _corrupt() from exc

    icc_profile = _rgb_icc_profile(image)
    image = _to_output_mode(image)
    image.info = {}  # pixels only: no EXIF, XMP, text chunks or comments may follow the photo out
    output_format = "PNG" if image.mode == "RGBA" else "JPEG"
    return ProcessedPhoto(
        data=_encode(image, output_format, icc_profile),
        content_type=f"image/{output_format.lower()}",
        extension="png" if output_format == "PNG" else "jpg",
        width=image.width,
        height=image.height,
        thumbnail=thumbnail_webp(image, icc_profile),
        source_format=kind,
    )


def _ftyp_brands(data: bytes) -> set[bytes]:
    """The major brand (bytes 8-12) and compatible brands (16 to the box's end) of an ftyp box."""
    box_end = min(int.from_bytes(data[:4], "big"), len(data))
    return {data[8:12], *(data[i : i + 4] for i in range(16, box_end - 3, 4))}


def _image_class(kind: str) -> type[ImageFile.ImageFile]:
    if kind == "heic":
        # Imported on first use: libheif is heavy and only HEIC uploads need it.
        from pillow_heif import HeifImageFile

        return HeifImageFile
    return {"jpeg": JpegImageFile, "png": PngImageFile, "webp": WebPImageFile}[kind]


def _open_header(data: bytes, kind: str) -> ImageFile.ImageFile:
    """Parse the header only: size and mode become known, no pixels are decoded.

    The plugin class is used instead of Image.open, whose decompression-bomb check follows the
    process-wide MAX_IMAGE_PIXELS and fails before we could report the photo's size; our own
    limit is applied by the caller from the size read here.
    """
    try:
        return _image_class(kind)(io.BytesIO(data))
    except _DECODE_ERRORS as exc:
        raise _corrupt() from exc


def _check_dimensions(width: int, height: int, max_pixels: int) -> None:
    details = {"width": width, "height": height, "max_pixels": max_pixels, "min_side": MIN_SIDE}
    if width * height > max_pixels:
        raise ValidationFailed(
            f"The photo is {width}×{height} pixels; the most we accept is {_megapixels(max_pixels)} megapixels.",
            code="IMAGE_DIMENSIONS_TOO_LARGE",
            details=details,
        )
    if min(width, height) < MIN_SIDE:
        raise ValidationFailed(
            f"The photo is {width}×{height} pixels; it needs to be at least {MIN_SIDE}×{MIN_SIDE} pixels.",
            code="IMAGE_TOO_SMALL",
            details=details,
        )


def _rgb_icc_profile(image: Image.Image) -> bytes | None:
    """The embedded ICC profile, if it describes RGB (a CMYK or grey one would mislabel RGB output)."""
    profile = image.info.get("icc_profile")
    return profile if profile and profile[16:20] == b"RGB " else None


def _to_output_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when some pixel is actually see-through."""
    if image.mode in _SIXTEEN_BIT_GREY:
        # A plain convert would clip every value above 255 to white; scale 16 bits down to 8.
        image = image.convert("I").point(lambda value: value / 256, "L")
    target = "RGBA" if image.has_transparency_data else "RGB"
    if image.mode != target:
        image = image.convert(target)
    if target == "RGBA" and image.getchannel("A").getextrema()[0] == 255:
        image = image.convert("RGB")  # an alpha channel that hides nothing: a JPEG is far smaller
    return image


def _encode(image: Image.Image, image_format: str, icc_profile: bytes | None) -> bytes:
    options: dict[str, object] = {"quality": JPEG_QUALITY} if image_format == "JPEG" else {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _corrupt() -> ValidationFailed:
    return ValidationFailed(
        "We couldn't read this photo; the file may be damaged or incomplete. Please try another copy.",
        code="IMAGE_CORRUPT",
    )


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f}".removesuffix(".0")


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}".removesuffix(".0")
