"""Photo ingestion: what we accept, what we reject, and what leaves with the cleaned photo."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib

import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile
from PIL.PngImagePlugin import PngInfo

from storywink.domain.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from storywink.domain.rules import SUPPORTED_UPLOAD_TYPES
from storywink.imaging.photos import process_photo, sniff_image_type
from storywink.storage import keys

MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 50_000_000


def _process(data: bytes, **limits: int):
    return process_photo(data, **{"max_bytes": MAX_BYTES, "max_pixels": MAX_PIXELS, **limits})


def _encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _photo(size: tuple[int, int] = (320, 240)) -> Image.Image:
    """Noise, so JPEG scan data dominates the file (truncating it cuts pixels, not headers)."""
    return Image.merge("RGB", [Image.effect_noise(size, 60) for _ in range(3)])


def _heic(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, quality=80)
    return buffer.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_from_parts(width: int, height: int, idat: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _decompression_bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid all-black 1-bit PNG: ~50 KB on disk, 400 megapixels decoded.

    Rows are compressed one at a time, so building it never holds more than a row in memory.
    """
    row = bytes(1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return _png_from_parts(width, height, idat)


def _exif_with_orientation_and_gps(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (51.0, 30.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (0.0, 7.0, 39.0),
    }
    return exif


# --- accepted formats ------------------------------------------------------------------------


@pytest.mark.parametrize(("image_format", "source_format"), [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp")])
def test_valid_photo_is_accepted_with_its_dimensions(image_format: str, source_format: str) -> None:
    result = _process(_encode(_photo((320, 240)), image_format))

    assert (result.width, result.height) == (320, 240)
    assert result.source_format == source_format
    assert (result.content_type, result.extension) == ("image/jpeg", "jpg")
    with Image.open(io.BytesIO(result.data)) as output:
        assert output.format == "JPEG"
        assert output.size == (320, 240)


def test_heic_photo_round_trips_to_jpeg() -> None:
    result = _process(_heic(_photo((300, 200))))

    assert result.source_format == "heic"
    assert (result.width, result.height) == (300, 200)
    with Image.open(io.BytesIO(result.data)) as output:
        assert (output.format, output.size) == ("JPEG", (300, 200))


def test_supported_upload_types_are_the_four_formats_we_decode() -> None:
    assert SUPPORTED_UPLOAD_TYPES == {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"}


# --- orientation and metadata ---------------------------------------------------------------


def test_exif_orientation_6_rotates_the_photo_upright() -> None:
    source = _encode(_photo((320, 240)), "JPEG", exif=_exif_with_orientation_and_gps(6))

    result = _process(source)

    assert (result.width, result.height) == (240, 320)
    with Image.open(io.BytesIO(result.data)) as output:
        assert output.size == (240, 320)


def test_output_keeps_no_exif_or_gps() -> None:
    source = _encode(_photo(), "JPEG", exif=_exif_with_orientation_and_gps(6))
    with Image.open(io.BytesIO(source)) as original:
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really carries a location

    result = _process(source)

    for encoded in (result.data, result.thumbnail):
        with Image.open(io.BytesIO(encoded)) as output:
            exif = output.getexif()
            assert dict(exif) == {}
            assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
            assert "exif" not in output.info


def test_png_text_chunks_are_dropped() -> None:
    text = PngInfo()
    text.add_text("Location", "12 Acacia Avenue")

    result = _process(_encode(_photo(), "PNG", pnginfo=text))

    with Image.open(io.BytesIO(result.data)) as output:
        assert "Location" not in output.info


def test_rgb_icc_profile_is_kept() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

    result = _process(_encode(_photo(), "JPEG", icc_profile=srgb))

    with Image.open(io.BytesIO(result.data)) as output:
        assert output.info.get("icc_profile") == srgb


# --- colour modes ---------------------------------------------------------------------------


def test_png_with_real_transparency_stays_png_with_alpha() -> None:
    image = _photo().convert("RGBA")
    image.putpixel((0, 0), (0, 0, 0, 0))

    result = _process(_encode(image, "PNG"))

    assert (result.content_type, result.extension) == ("image/png", "png")
    with Image.open(io.BytesIO(result.data)) as output:
        assert (output.format, output.mode) == ("PNG", "RGBA")


def test_fully_opaque_alpha_channel_is_stored_as_jpeg() -> None:
    result = _process(_encode(_photo().convert("RGBA"), "PNG"))

    assert result.content_type == "image/jpeg"


def test_palette_png_with_transparent_index_becomes_rgba() -> None:
    image = Image.new("P", (100, 100), 1)
    image.putpalette([0, 0, 0, 255, 0, 0])
    image.paste(0, (0, 0, 50, 100))

    result = _process(_encode(image, "PNG", transparency=0))

    with Image.open(io.BytesIO(result.data)) as output:
        assert output.mode == "RGBA"
        assert output.getpixel((0, 0))[3] == 0
        assert output.getpixel((99, 0)) == (255, 0, 0, 255)


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    result = _process(_encode(Image.new("CMYK", (100, 100), (0, 255, 255, 0)), "JPEG"))

    with Image.open(io.BytesIO(result.data)) as output:
        assert output.mode == "RGB"
        red, green, blue = output.getpixel((50, 50))
        assert red > 200 and green < 60 and blue < 60


def test_sixteen_bit_greyscale_keeps_its_midtones() -> None:
    image = Image.new("I;16", (100, 100), 32768)  # 50% grey; clipping would make it white

    result = _process(_encode(image, "PNG"))

    with Image.open(io.BytesIO(result.data)) as output:
        assert all(120 <= channel <= 135 for channel in output.getpixel((50, 50)))


# --- thumbnail ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("photo", "expected"),
    [
        ((1200, 800), (450, 300)),  # landscape: as tall as the 400 x 300 cover box
        ((800, 1200), (400, 600)),  # portrait: as wide as it
        ((1600, 1200), (400, 300)),  # the box's own shape: exactly the box
        ((4000, 1000), (800, 200)),  # a panorama stops at the long-side cap
    ],
)
def test_thumbnail_is_a_webp_covering_the_library_cover_box(photo, expected) -> None:
    result = _process(_encode(_photo(photo), "JPEG"))

    with Image.open(io.BytesIO(result.thumbnail)) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert thumbnail.get_format_mimetype() == keys.THUMBNAIL_CONTENT_TYPE
        assert thumbnail.size == expected


def test_thumbnail_of_a_small_photo_is_not_enlarged() -> None:
    result = _process(_encode(_photo((120, 90)), "JPEG"))

    with Image.open(io.BytesIO(result.thumbnail)) as thumbnail:
        assert thumbnail.size == (120, 90)


# --- rejections -----------------------------------------------------------------------------


def test_oversized_upload_is_photo_too_large() -> None:
    data = _encode(_photo(), "JPEG")

    with pytest.raises(PayloadTooLarge) as caught:
        _process(data, max_bytes=len(data) - 1)

    assert (caught.value.code, caught.value.status_code) == ("PHOTO_TOO_LARGE", 413)


def test_text_file_is_unsupported_media_type() -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        _process(b"Dear diary, today we went to the beach.\n" * 10)

    assert (caught.value.code, caught.value.status_code) == ("UNSUPPORTED_IMAGE_TYPE", 415)


def test_truncated_jpeg_is_image_corrupt() -> None:
    data = _encode(_photo((400, 300)), "JPEG")

    with pytest.raises(ValidationFailed) as caught:
        _process(data[: len(data) * 2 // 3])

    assert (caught.value.code, caught.value.status_code) == ("IMAGE_CORRUPT", 422)


def test_garbled_header_is_image_corrupt() -> None:
    with pytest.raises(ValidationFailed) as caught:
        _process(b"\xff\xd8\xff" + b"\x00" * 200)

    assert caught.value.code == "IMAGE_CORRUPT"


def test_decompression_bomb_png_is_rejected_as_too_many_pixels() -> None:
    bomb = _decompression_bomb_png()
    assert len(bomb) < 100_000

    with pytest.raises(ValidationFailed) as caught:
        _process(bomb)

    assert (caught.value.code, caught.value.status_code) == ("IMAGE_DIMENSIONS_TOO_LARGE", 422)
    assert caught.value.message == "The photo is 20000×20000 pixels; the most we accept is 50 megapixels."


def test_dimension_limit_is_checked_from_the_header_before_decoding() -> None:
    # The pixel data is garbage: decoding it would fail as IMAGE_CORRUPT, so this error proves
    # the size check came first.
    header_only = _png_from_parts(20_000, 20_000, b"this is not zlib data")

    with pytest.raises(ValidationFailed) as caught:
        _process(header_only)

    assert caught.value.code == "IMAGE_DIMENSIONS_TOO_LARGE"


def test_pixel_limit_comes_from_the_argument_not_pillows_global() -> None:
    with pytest.raises(ValidationFailed) as caught:
        _process(_encode(_photo((100, 100)), "PNG"), max_pixels=9_999)

    assert caught.value.code == "IMAGE_DIMENSIONS_TOO_LARGE"


def test_photo_smaller_than_64_pixels_is_too_small() -> None:
    with pytest.raises(ValidationFailed) as caught:
        _process(_encode(_photo((63, 200)), "PNG"))

    assert caught.value.code == "IMAGE_TOO_SMALL"
    assert "63×200" in caught.value.message


def test_pillow_global_settings_are_left_untouched() -> None:
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    truncated = _encode(_photo((400, 300)), "JPEG")[:5_000]

    for data in (_decompression_bomb_png(), truncated):
        with pytest.raises(ValidationFailed):
            _process(data)

    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES) == before


# --- sniffing -------------------------------------------------------------------------------


@pytest.mark.parametrize(("image_format", "expected"), [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp")])
def test_sniff_recognises_encoded_formats(image_format: str, expected: str) -> None:
    assert sniff_image_type(_encode(_photo((64, 64)), image_format)) == expected


def test_sniff_recognises_heic_written_by_libheif() -> None:
    assert sniff_image_type(_heic(_photo((64, 64)))) == "heic"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heic"),  # HEVC brand only in the compatible list
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1miaf", None),  # same container, AV1 codec
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommp41", None),  # an MP4 video
    ],
)
def test_sniff_reads_heic_brands_from_the_ftyp_box(data: bytes, expected: str | None) -> None:
    assert sniff_image_type(data) == expected


@pytest.mark.parametrize("data", [b"", b"GIF89a" + bytes(20), b"hello world", b"RIFF\x00\x00\x00\x00WAVEfmt "])
def test_sniff_returns_none_for_anything_else(data: bytes) -> None:
    assert sniff_image_type(data) is None


def test_importing_the_module_does_not_load_pillow_heif() -> None:
    code = "import sys, storywink.imaging.photos; sys.exit('pillow_heif' in sys.modules)"

    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
