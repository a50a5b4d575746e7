"""The book PDF: a cover and one page per book page, with readable, extractable text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from storywink.printing.book_pdf import PAGE_SIZE_IN, PrintBook, PrintPage, render_book_pdf

PHOTOS = sorted((Path(__file__).parents[2] / "samples" / "photos").glob("*.jpg"))


def _book(child_name="Zoë", title="Zoë and the Moon", pages=None, cover=True) -> PrintBook:
    if pages is None:
        pages = [
            PrintPage(text=f"Page {i}: {child_name} looked up at the sky.", image=p.read_bytes())
            for i, p in enumerate(PHOTOS)
        ]
    return PrintBook(
        title=title, child_name=child_name, cover_image=PHOTOS[0].read_bytes() if cover else None, pages=pages
    )


def _read(book: PrintBook) -> PdfReader:
    return PdfReader(io.BytesIO(render_book_pdf(book)))


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_pdf_has_a_cover_plus_one_page_per_book_page():
    assert len(_read(_book()).pages) == 1 + len(PHOTOS)


def test_pages_are_square_picture_book_pages():
    box = _read(_book()).pages[1].mediabox
    assert (float(box.width), float(box.height)) == (PAGE_SIZE_IN * 72, PAGE_SIZE_IN * 72)


def test_the_cover_shows_the_title_and_who_the_story_is_for():
    cover = _flat(_read(_book()).pages[0].extract_text())
    assert "Zoë and the Moon" in cover
    assert "A story for Zoë" in cover


def test_a_page_shows_its_text():
    assert "Page 2: Zoë looked up at the sky." in _flat(_read(_book()).pages[3].extract_text())


def test_a_page_embeds_its_illustration():
    page = _read(_book()).pages[1]
    assert len(page.images) == 1


@pytest.mark.parametrize("name", ["Zoë", "Łukasz", "Ђорђе"])
def test_names_outside_ascii_are_printed(name):
    reader = _read(_book(child_name=name, title=f"{name} and the Moon"))
    assert f"{name} and the Moon" in _flat(reader.pages[0].extract_text())
    assert f"{name} looked up" in _flat(reader.pages[1].extract_text())


def test_a_japanese_name_renders_with_the_fallback_font():
    reader = _read(_book(child_name="さくら", title="さくらのぼうけん"))
    assert len(reader.pages) == 1 + len(PHOTOS)
    assert "さくら" in reader.pages[0].extract_text()


def test_a_book_without_a_cover_illustration_still_has_a_cover():
    reader = _read(_book(cover=False))
    assert "Zoë and the Moon" in _flat(reader.pages[0].extract_text())
    assert not reader.pages[0].images


def test_pages_without_text_or_without_a_picture_are_printed():
    pages = [PrintPage(text=None, image=PHOTOS[1].read_bytes()), PrintPage(text="Just words.", image=None)]
    reader = _read(_book(pages=pages))
    assert len(reader.pages) == 3
    assert "Just words." in reader.pages[2].extract_text()


def test_a_text_longer_than_the_api_allows_is_shortened_rather_than_spilling_off_its_page():
    pages = [PrintPage(text="Once upon a time " * 400, image=PHOTOS[2].read_bytes())]  # 6,800 characters
    reader = _read(_book(pages=pages))
    assert len(reader.pages) == 2
    assert "…" in reader.pages[1].extract_text()


def test_illustrations_are_downscaled_so_a_twenty_page_book_stays_small():
    buffer = io.BytesIO()
    Image.open(PHOTOS[2]).convert("RGB").resize((2400, 1596)).save(buffer, "PNG")  # print-size PNG
    reader = _read(_book(pages=[PrintPage(text="Hello.", image=buffer.getvalue())] * 20))
    embedded = reader.pages[1].images[0].image
    assert embedded.width <= 1500  # about 200 dpi across the 7.3 in text block, not 2400 px
    assert sum(len(page.images[0].data) for page in reader.pages[1:]) < 20 * 400_000
