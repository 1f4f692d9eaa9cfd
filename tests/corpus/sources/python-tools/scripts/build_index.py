"""Builds an in-memory search index of every n-gram of the catalogue."""

from __future__ import annotations


def ngrams(text: str, n: int) -> list[str]:
    return [text[i : i + n] for i in range(len(text) - n + 1)]


def main() -> int:
    catalogue = [f"product {i} deluxe edition with extras" * 4 for i in range(200_000)]
    print(f"index: {len(catalogue)} documents")
    index: list[tuple[str, int]] = []
    for doc_id, doc in enumerate(catalogue):
        for n in range(1, 12):
            index.extend((gram, doc_id) for gram in ngrams(doc, n))
        if doc_id % 500 == 0:
            print(f"index: {doc_id} documents, {len(index)} postings", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
