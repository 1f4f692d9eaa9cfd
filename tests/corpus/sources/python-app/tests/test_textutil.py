import pytest
from shop.textutil import format_cents, receipt_lines, slugify

WORDS = [
    "Hello World",
    "  spaced  out  ",
    "Crème brûlée",
    "a--b",
    "UPPER lower",
    "tab\there",
    "dots.and.more",
    "under_score",
    "1999 Sale!",
    "x",
    "end-",
    "-start",
]


@pytest.mark.parametrize("text", WORDS)
def test_slug_has_no_spaces(text):
    assert " " not in slugify(text)


@pytest.mark.parametrize("cents", range(-500, 500, 1))
def test_format_cents_roundtrip(cents):
    text = format_cents(cents)
    whole, frac = text.lstrip("-").split(".")
    value = int(whole) * 100 + int(frac)
    assert (-value if text.startswith("-") else value) == cents


def test_receipt_lines_sorted():
    lines = receipt_lines({"SKU-0002": 1, "SKU-0001": 3})
    assert lines == ["SKU-0001       3", "SKU-0002       1"]


def test_slug_of_accented_word():
    assert slugify("Crème brûlée") == "creme-brulee"
