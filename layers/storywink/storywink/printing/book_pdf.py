"""Renders a finished book as a print-ready PDF: a cover, then one page per book page.

Pages are 8.5 x 8.5 in, the common square picture-book trim. Each page holds its
illustration above the text, set in Andika (a typeface designed for beginning readers: Latin and
Cyrillic) with M PLUS 2 as the fallback for Japanese and DejaVu Sans for Greek (Andika has only the
letters mathematics uses). Illustrations are re-encoded as JPEG
at about 200 dpi for their printed size, so a 20-page book stays a few megabytes.

No text the API accepts is ever lost: a long text gets a smaller size and then more of its page (the
picture the rest), never an ellipsis (only a text longer than the API allows could be cut); a character neither font has (an emoji) is printed as U+FFFD, visibly, and logged.
Each line is set as a cell of its own, told to select its font again: fpdf2 2.8 selects a line's fonts
inside the line's own `q … Q` when a fallback font takes part, so the next line would start with no font
selected (poppler: "No font in show") and its words would be lost.
"""

from __future__ import annotations

import io
import logging
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos
from PIL import Image

from storywink.imaging.decoding import open_upright_rgb
from storywink.observability import logger
from storywink.printing.book import PrintBook, PrintPage

PAGE_SIZE_IN = 8.5
MARGIN_IN = 0.6
IMAGE_DPI = 200
JPEG_QUALITY = 85

_BODY_SIZES_PT = (22, 20, 18, 16, 14, 12, 11, 10)  # the largest that fits wins
_LINE_HEIGHT = 1.35
_TEXT_MAX_SHARE = 0.45  # text never takes more than this share of the page's height
_INK = (43, 40, 58)
_SOFT_INK = (110, 104, 130)
_COVER_PAPER = (251, 247, 238)
_FRAME = (232, 226, 212)
_FONT = "Andika"
_FALLBACK_FONT = "MPLUS2"
_GREEK_FONT = "DejaVuSans"
# What the three cover between them (bold covers what regular does).
_FONT_FILES = ("Andika-Regular.ttf", "MPLUS2-Regular.ttf", "DejaVuSans.ttf")
_NOT_COVERED = "\ufffd"  # Andika's replacement character

# fontTools warns about Andika's Graphite tables it cannot subset; they are not needed in a PDF.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)


def render_book_pdf(book: PrintBook) -> bytes:
    """The PDF has exactly 1 + len(book.pages) pages; text is shrunk, never spilled or cut, to fit."""
    book = PrintBook(
        printable(book.title),
        printable(book.child_name),
        book.cover_image,
        [PrintPage(printable(page.text) if page.text else page.text, page.image) for page in book.pages],
    )
    pdf = _new_document(book)
    _cover(pdf, book)
    for number, page in enumerate(book.pages, start=1):
        _story_page(pdf, page, number)
    return bytes(pdf.output())


def printable(text: str) -> str:
    """``text`` with every character no font has replaced by U+FFFD (logged: how many, never which)."""
    covered = _covered()
    missing = sum(1 for character in text if not character.isspace() and ord(character) not in covered)
    if not missing:
        return text
    logger.warning("text no font covers was replaced", extra={"characters": missing})
    return "".join(c if c.isspace() or ord(c) in covered else _NOT_COVERED for c in text)


@cache
def _covered() -> frozenset[int]:
    return frozenset(
        code for name in _FONT_FILES for code in TTFont(str(_font_dir() / name), lazy=True).getBestCmap()
    )


def _new_document(book: PrintBook) -> FPDF:
    pdf = FPDF(unit="in", format=(PAGE_SIZE_IN, PAGE_SIZE_IN))
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN_IN, MARGIN_IN, MARGIN_IN)
    fonts = _font_dir()
    pdf.add_font(_FONT, "", str(fonts / "Andika-Regular.ttf"))
    pdf.add_font(_FONT, "B", str(fonts / "Andika-Bold.ttf"))
    pdf.add_font(_FALLBACK_FONT, "", str(fonts / "MPLUS2-Regular.ttf"))
    pdf.add_font(_GREEK_FONT, "", str(fonts / "DejaVuSans.ttf"))
    # A character Andika lacks comes from the first fallback that has it: kana and kanji from M PLUS 2,
    # Greek from DejaVu Sans (M PLUS 2 has no Greek).
    pdf.set_fallback_fonts([_FALLBACK_FONT, _GREEK_FONT], exact_match=False)
    pdf.set_title(book.title)
    pdf.set_subject(f"A story for {book.child_name}")
    pdf.set_creator("Storywink")
    pdf.set_author("Storywink")
    return pdf


@cache
def _font_dir() -> Traversable:
    return files("storywink") / "assets" / "fonts"


def _cover(pdf: FPDF, book: PrintBook) -> None:
    pdf.add_page()
    pdf.set_fill_color(*_COVER_PAPER)
    pdf.rect(0, 0, PAGE_SIZE_IN, PAGE_SIZE_IN, style="F")
    width = PAGE_SIZE_IN - 2 * MARGIN_IN

    title_size = _fit_size(pdf, book.title, width, 1.9, sizes=(40, 36, 32, 28, 24, 20, 16), style="B")
    subtitle = f"A story for {book.child_name}"
    subtitle_height = 0.5
    if book.cover_image is None:
        title_height = _text_height(pdf, book.title, width, title_size, "B")
        top = (PAGE_SIZE_IN - title_height - subtitle_height - 0.3) / 2
        _write(pdf, book.title, MARGIN_IN, top, width, title_size, "B", _INK)
        _write(pdf, subtitle, MARGIN_IN, top + title_height + 0.3, width, 20, "", _SOFT_INK)
        return

    title_height = _text_height(pdf, book.title, width, title_size, "B")
    _write(pdf, book.title, MARGIN_IN, MARGIN_IN, width, title_size, "B", _INK)
    subtitle_top = PAGE_SIZE_IN - MARGIN_IN - subtitle_height
    image_top = MARGIN_IN + title_height + 0.3
    _framed_image(pdf, book.cover_image, MARGIN_IN, image_top, width, subtitle_top - 0.25 - image_top)
    _write(pdf, subtitle, MARGIN_IN, subtitle_top, width, 20, "", _SOFT_INK)


def _story_page(pdf: FPDF, page: PrintPage, number: int) -> None:
    pdf.add_page()
    width = PAGE_SIZE_IN - 2 * MARGIN_IN
    bottom = PAGE_SIZE_IN - MARGIN_IN - 0.25  # room for the page number
    text = (page.text or "").strip()

    if not text:
        if page.image is not None:
            _framed_image(pdf, page.image, MARGIN_IN, MARGIN_IN, width, bottom - MARGIN_IN)
    elif page.image is None:
        text = _fit_text(pdf, text, width, bottom - MARGIN_IN)
        size = _fit_size(pdf, text, width, bottom - MARGIN_IN, sizes=(28, *_BODY_SIZES_PT))
        height = _text_height(pdf, text, width, size)
        _write(pdf, text, MARGIN_IN, MARGIN_IN + (bottom - MARGIN_IN - height) / 2, width, size, "", _INK)
    else:
        # The text gets up to its share of the page; one too long even at the smallest size takes what it
        # needs, and the picture the rest.
        max_text = (PAGE_SIZE_IN - 2 * MARGIN_IN) * _TEXT_MAX_SHARE
        text = _fit_text(pdf, text, width, bottom - MARGIN_IN)
        size = _fit_size(pdf, text, width, max_text)
        text_height = _text_height(pdf, text, width, size)
        text_top = bottom - text_height
        _framed_image(pdf, page.image, MARGIN_IN, MARGIN_IN, width, text_top - 0.3 - MARGIN_IN)
        _write(pdf, text, MARGIN_IN, text_top, width, size, "", _INK)

    _write(pdf, str(number), MARGIN_IN, PAGE_SIZE_IN - MARGIN_IN, width, 10, "", _SOFT_INK)


def _write(pdf: FPDF, text: str, x: float, y: float, width: float, size: float, style: str, colour) -> None:
    """``text`` wrapped to ``width`` and centred, one cell a line (see the module's note)."""
    pdf.set_text_color(*colour)
    pdf.set_xy(x, y)
    for line in _lines(pdf, text, width, size, style):
        pdf.set_font(_FONT, style, size)
        pdf.current_font_is_set_on_page = False  # this line selects its font itself (see the module's note)
        pdf.cell(width, _line_height(size), line, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)


def _lines(pdf: FPDF, text: str, width: float, size: float, style: str = "") -> list[str]:
    """How fpdf2 wraps ``text`` at ``width`` (each fragment measured in the font, or fallback, it is set in)."""
    pdf.set_font(_FONT, style, size)
    return pdf.multi_cell(width, _line_height(size), text, align=Align.C, dry_run=True, output=MethodReturnValue.LINES)


def _text_height(pdf: FPDF, text: str, width: float, size: float, style: str = "") -> float:
    return len(_lines(pdf, text, width, size, style)) * _line_height(size)


def _fit_size(pdf: FPDF, text: str, width: float, height: float, sizes=_BODY_SIZES_PT, style: str = "") -> float:
    for size in sizes:
        if _text_height(pdf, text, width, size, style) <= height:
            return size
    return sizes[-1]


def _fit_text(pdf: FPDF, text: str, width: float, height: float) -> str:
    """A text that cannot fit ``height`` even at the smallest size is cut short with an ellipsis, so it
    cannot spill off its page (the page count is part of the contract). Only a text beyond the API's
    PAGE_TEXT_MAX can be that long: one within it fits the page at the smallest size."""
    smallest = _BODY_SIZES_PT[-1]
    if _text_height(pdf, text, width, smallest) <= height:
        return text
    low, high = 0, len(text)  # the longest prefix that fits, found by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if _text_height(pdf, text[:middle] + "…", width, smallest) <= height:
            low = middle
        else:
            high = middle - 1
    cut = text[:low]
    if " " in cut[len(cut) * 4 // 5 :]:
        cut = cut[: cut.rindex(" ")]  # end on a whole word where the script has spaces
    return cut.rstrip() + "…"


def _line_height(size_pt: float) -> float:
    return size_pt * _LINE_HEIGHT / 72


def _framed_image(pdf: FPDF, data: bytes, x: float, y: float, width: float, height: float) -> None:
    """Fits the picture inside the box, centred, with a thin frame; downscaled to IMAGE_DPI."""
    if width <= 0 or height <= 0:
        return
    picture = open_upright_rgb(data)
    scale = min(width / picture.width, height / picture.height)
    shown_w, shown_h = picture.width * scale, picture.height * scale
    left, top = x + (width - shown_w) / 2, y + (height - shown_h) / 2
    pdf.image(_print_jpeg(picture, shown_w, shown_h), x=left, y=top, w=shown_w, h=shown_h)
    pdf.set_draw_color(*_FRAME)
    pdf.set_line_width(0.015)
    pdf.rect(left, top, shown_w, shown_h)


def _print_jpeg(picture: Image.Image, width_in: float, height_in: float) -> io.BytesIO:
    target = (max(1, round(width_in * IMAGE_DPI)), max(1, round(height_in * IMAGE_DPI)))
    if picture.width > target[0]:
        picture = picture.resize(target, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    buffer.seek(0)
    return buffer
