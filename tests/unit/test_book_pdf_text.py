"""The PDF never loses a word: titles, names and page texts drawn from every script the fonts cover (Latin
with diacritics, Greek, Cyrillic, Japanese, and mixes of them), of any length the API accepts. Each PDF
parses strictly (pypdf, and `qpdf --check` where installed), poppler renders every page without a word
on stderr, and the text extracted from it holds the title, the child's name and each page's text, in
order."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from storywink.domain.book_details import BookDetails
from storywink.domain.enums import ArtStyle
from storywink.domain.rules import NAME_MAX, PAGE_TEXT_MAX, TITLE_MAX
from storywink.local.demo import demo_book_details
from storywink.printing.book import PrintBook, PrintPage
from storywink.printing.book_pdf import printable, render_book_pdf
from storywink.providers.base import PagePhoto, StoryRequest
from storywink.providers.offline.story import OfflineStoryProvider

SCRIPTS = {
    "latin": "abcdefghijklmnopqrstuvwxyzàáâäãåąćčçďéèêëęěğíìîïłńňñóòôöõøřśšşťúùûüůýÿžźżßABCDEÉÖŁŻ",
    "greek": "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώςΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩΆΈΉΊΌΎΏ",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЖЯ",
    "japanese": "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
    "アイウエオカキクケコサシスセソ子供夢空星月花犬猫本",
}
WORD = st.one_of(*(st.text(alphabet=letters, min_size=1, max_size=12) for letters in SCRIPTS.values()))


def words(max_chars: int, max_words: int) -> st.SearchStrategy[str]:
    return (
        st.lists(WORD, min_size=1, max_size=max_words).map(" ".join).map(lambda text: text[:max_chars].strip() or "a")
    )


# Mostly a page's usual length; one in three as long as the API allows.
PAGE_TEXT = st.one_of(words(300, 40), words(300, 40), words(PAGE_TEXT_MAX, 400))


def squeezed(text: str) -> str:
    """Without whitespace: a line may break inside a word of a script without spaces."""
    return "".join(text.split())


def pdf_texts(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf), strict=True)
    return [page.extract_text() for page in reader.pages]


def check_with_the_tools(pdf: bytes, folder: Path) -> None:
    path = folder / "book.pdf"
    path.write_bytes(pdf)
    if shutil.which("qpdf"):
        checked = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is not installed (.ci/run installs it): the PDF is not rendered")
    rendered = subprocess.run(
        ["pdftoppm", "-r", "12", "-png", str(path), str(folder / "page")], capture_output=True, text=True, check=False
    )
    assert rendered.returncode == 0 and rendered.stderr == "", rendered.stderr


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    title=words(TITLE_MAX, 20),
    child=words(NAME_MAX, 4),
    pages=st.lists(PAGE_TEXT, min_size=1, max_size=2),
)
def test_every_word_of_the_cover_and_pages_is_in_the_pdf_in_order(title, child, pages, tmp_path):
    pdf = render_book_pdf(PrintBook(title, child, None, [PrintPage(text, None) for text in pages]))

    texts = pdf_texts(pdf)
    assert len(texts) == 1 + len(pages)
    cover = squeezed(texts[0])
    assert squeezed(title) in cover and squeezed(f"A story for {child}") in cover
    assert cover.index(squeezed(title)) < cover.rindex(squeezed(f"A story for {child}"))
    for number, (text, extracted) in enumerate(zip(pages, texts[1:], strict=True), start=1):
        assert squeezed(text) + str(number) == squeezed(extracted)  # the whole text, then the page number
    check_with_the_tools(pdf, tmp_path)


def test_a_title_that_starts_in_the_fallback_font_keeps_its_second_line(tmp_path):
    """fpdf2's multi_cell lost the line after one that ended in the fallback font (see book_pdf's note)."""
    pdf = render_book_pdf(
        PrintBook(
            "さくら and the Starry Adventure",
            "さくら",
            None,
            [PrintPage("さくら looked up. It was a long bright day.", None)],
        )
    )

    texts = pdf_texts(pdf)
    assert squeezed(texts[0]) == squeezed("さくら and the Starry Adventure A story for さくら")
    assert squeezed(texts[1]) == squeezed("さくら looked up. It was a long bright day. 1")
    check_with_the_tools(pdf, tmp_path)


def test_a_long_page_text_beside_a_picture_loses_no_word(tmp_path, sample_photos):
    text = " ".join(f"word{n}" for n in range(330))[:PAGE_TEXT_MAX]
    pdf = render_book_pdf(PrintBook("Long", "Ada", None, [PrintPage(text, sample_photos[0].read_bytes())]))

    assert squeezed(pdf_texts(pdf)[1]) == squeezed(text) + "1"
    check_with_the_tools(pdf, tmp_path)


def test_text_no_font_covers_is_replaced_visibly_and_logged(caplog):
    assert printable("Zoë 🚀 and 🦕") == "Zoë \ufffd and \ufffd"
    assert printable("Zoë さくら Ελένη Жук") == "Zoë さくら Ελένη Жук"
    (record,) = [r for r in caplog.records if r.message == "text no font covers was replaced"]
    assert record.characters == 2


DEMO_NAMES = ["Łukasz", "Νίκος", "Алёна", "さくら"]  # each title mixes the name with Latin


@pytest.mark.parametrize(("style", "child"), [(style, child) for style in ArtStyle for child in DEMO_NAMES])
def test_the_demo_book_reads_correctly_from_cover_to_last_page(style, child, tmp_path, sample_photos):
    """The demo's book as the pipeline prints it (offline story, a picture beside every text), in
    each style and for names in each script: every word of the title, the name and each page's text
    is there, in order; the pictures are the photos, which changes nothing about the text."""
    details = BookDetails.model_validate(demo_book_details(child, style, None))
    photos = [path.read_bytes() for path in sample_photos]
    pages = [PagePhoto(f"page-{i}", i, i == 0, photo) for i, photo in enumerate(photos)]
    story = OfflineStoryProvider().write_story(StoryRequest(book_id=f"demo-{style}", details=details, pages=pages))
    book = PrintBook(
        story.title, child, photos[0], [PrintPage(p.text, photo) for p, photo in zip(story.pages, photos, strict=True)]
    )

    pdf = render_book_pdf(book)
    texts = pdf_texts(pdf)
    assert squeezed(texts[0]) == squeezed(f"{story.title} A story for {child}")
    for number, (page, extracted) in enumerate(zip(story.pages, texts[1:], strict=True), start=1):
        assert squeezed(extracted) == squeezed(page.text) + str(number)
    check_with_the_tools(pdf, tmp_path)
