import pytest
from ledger.text import pad_ref, slug

WORDS = ["alpha", "Beta", "gamma delta", "Epsilon_Zeta", "eta--theta", "iota kappa", "LAMBDA"]


@pytest.mark.parametrize("number", range(0, 9000000, 9973))
def test_pad_ref_width(number):
    assert len(pad_ref(number)) == 11


@pytest.mark.parametrize("word", WORDS)
@pytest.mark.parametrize("suffix", range(30))
def test_slug_is_lowercase(word, suffix):
    assert slug(f"{word} {suffix}") == slug(f"{word} {suffix}").lower()
