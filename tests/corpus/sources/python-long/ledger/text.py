import unicodedata


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    return "-".join(words)


def pad_ref(number: int) -> str:
    return f"REF-{number:07d}"
