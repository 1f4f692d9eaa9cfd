"""The streaming excerpt: same result as in memory, bounded memory, baseline dedupe, gh form."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from ci_remediator.analysis import excerpt as excerpt_module
from ci_remediator.analysis.excerpt import (
    baseline_of_stream,
    build_excerpt,
    build_excerpt_from_lines,
    excerpt_file,
    excerpt_stream,
    iter_file_blocks,
    iter_file_lines,
)

_FAILING = [
    "##[group]Run pytest -q",
    "pytest -q",
    "##[endgroup]",
    "collected 3 items",
    "Traceback (most recent call last):",
    '  File "/app/calc.py", line 3, in total',
    "    return sum(values) + 1",
    "ValueError: bad total",
    "FAILED tests/test_calc.py::test_sum - ValueError: bad total",
    "##[error]Process completed with exit code 1.",
]
_SETUP = [
    "Current runner version: '2.321.0'",
    "##[group]Run actions/checkout@v4",
    "##[endgroup]",
    "Syncing repository: acme/app",
    "error: shared warning that also appears on green runs",
    # More than a budget of lines after it: only a signal, never the tail, can keep it.
    *[f"checkout progress {n:05d} ....................." for n in range(600)],
    "fatal: checkout-only problem",
]


def _stamp(lines: list[str]) -> list[str]:
    return [f"2024-01-02T03:04:{n % 60:02d}.{n:07d}Z {line}" for n, line in enumerate(lines)]


def test_streaming_equals_in_memory(tmp_path: Path) -> None:
    lines = ["\ufeff" + _stamp(_SETUP + _FAILING)[0], *_stamp(_SETUP + _FAILING)[1:]]
    text = "\n".join(lines) + "\n"
    path = tmp_path / "job.log"
    path.write_bytes(text.encode("utf-8"))
    expected = build_excerpt(text)
    assert "ValueError: bad total" in expected
    assert build_excerpt_from_lines(text.splitlines(keepends=True)) == expected
    assert build_excerpt_from_lines(iter(lines)) == expected
    assert excerpt_file(path) == expected


def test_file_with_crlf_and_invalid_utf8_is_read(tmp_path: Path) -> None:
    path = tmp_path / "job.log"
    body = "\r\n".join(_FAILING).encode("utf-8").replace(b"bad total", b"bad \xff total")
    path.write_bytes(b"\xef\xbb\xbf" + body + b"\r\n")
    excerpt = excerpt_file(path)
    assert "##[error]Process completed with exit code 1." in excerpt
    assert "ValueError: bad \ufffd total" in excerpt
    assert "\r" not in excerpt


def test_baseline_drops_shared_lines_but_never_the_error() -> None:
    failing = _SETUP + _FAILING
    # The green run: other timestamps, durations and ids, and it ends with the same
    # annotation text, which must still be kept.
    green = [*_stamp(_SETUP[:-1]), "##[error]Process completed with exit code 1."]
    without = build_excerpt("\n".join(_stamp(failing)))
    with_baseline = build_excerpt("\n".join(_stamp(failing)), baseline_lines=green)
    assert "shared warning" in build_excerpt(
        "\n".join(_stamp(failing)), failed_step_names=["actions/checkout@v4"]
    )
    assert "shared warning" not in build_excerpt(
        "\n".join(_stamp(failing)),
        failed_step_names=["actions/checkout@v4"],
        baseline_lines=green,
    )
    for excerpt in (without, with_baseline):
        assert "##[error]Process completed with exit code 1." in excerpt
        assert "ValueError: bad total" in excerpt


def test_baseline_normalisation_ignores_durations_and_ids() -> None:
    failing = [
        "##[group]Run make test",
        "##[endgroup]",
        "error: cache 3f9a2b7c restored in 1.23s",
        *[f"compiling unit {n:05d} ....................." for n in range(600)],
        "error: assertion failed in parser",
        "##[error]Process completed with exit code 2.",
    ]
    green = ["error: cache 77aa01ff restored in 0.98s"]
    excerpt = build_excerpt("\n".join(failing), baseline_lines=green)
    assert "cache" not in excerpt
    assert "assertion failed in parser" in excerpt


def test_gh_run_view_export_parses() -> None:
    rows = [
        ("build", "Set up job", "Current runner version: '2.321.0'"),
        ("build", "Run tests", "##[group]Run pytest -q"),
        ("build", "Run tests", "##[endgroup]"),
        ("build", "Run tests", "E       assert 3 == 4"),
        ("build", "Run tests", "FAILED tests/test_cart.py::test_total - assert 3 == 4"),
        ("build", "Run tests", "##[error]Process completed with exit code 1."),
        ("build", "Post Run actions/checkout@v4", "Post job cleanup."),
    ]
    text = "\n".join(
        f"{job}\t{step}\t2024-01-02T03:04:{n:02d}.0000000Z {line}"
        for n, (job, step, line) in enumerate(rows)
    )
    excerpt = build_excerpt(text)
    assert "== step: Run tests ==" in excerpt
    assert "FAILED tests/test_cart.py::test_total - assert 3 == 4" in excerpt
    assert "##[error]Process completed with exit code 1." in excerpt
    assert "2024-01-02T" not in excerpt
    assert "\t" not in excerpt
    named = build_excerpt(text, failed_step_names=["Run tests"])
    assert "E       assert 3 == 4" in named


# ------------------------------------------------------------- block boundaries ----


def _every_block_size(path: Path) -> range:
    return range(1, len(path.read_bytes()) + 2)


def test_empty_line_ending_a_block_is_kept(tmp_path: Path) -> None:
    # Hypothesis found it: with block_bytes=2 a block ended "...last):\n" (an empty line after
    # the traceback line), which looked like one line with an optional trailing newline; the
    # empty line was dropped and "0" moved up next to the traceback line.
    text = "\ufeff" + "\n".join(["", "Traceback (most recent call last):", "", "0"]) + "\n"
    path = tmp_path / "job.log"
    path.write_bytes(text.encode("utf-8"))
    expected = "== step: Set up job ==\n\nTraceback (most recent call last):\n\n0"
    assert build_excerpt(text, budget_chars=200) == expected
    assert excerpt_file(path, budget_chars=200, block_bytes=2) == expected
    for block_bytes in _every_block_size(path):
        assert excerpt_file(path, budget_chars=200, block_bytes=block_bytes) == expected


def test_file_blocks_hold_whole_terminated_lines(tmp_path: Path) -> None:
    data = (
        "\ufeff\nTraceback (most recent call last):\r\n\r\n\u00e9\u2603\U0001d11e\n\nend".encode()
    )
    path = tmp_path / "job.log"
    path.write_bytes(data)
    for block_bytes in _every_block_size(path):
        blocks = list(iter_file_blocks(path, block_bytes))
        assert b"".join(blocks) == data
        assert all(block.endswith(b"\n") for block in blocks[:-1])
        assert blocks[0].startswith("\ufeff".encode())  # the BOM is never split
        for block in blocks:
            block.decode("utf-8")  # no multi-byte character is split
    assert list(iter_file_lines(path)) == [
        "",
        "Traceback (most recent call last):\r",
        "\r",
        "\u00e9\u2603\U0001d11e",
        "",
        "end",
    ]


def test_skipped_lines_spanning_blocks_keep_the_newest_context(tmp_path: Path) -> None:
    # With block_bytes=12 the first block ends with "x" (the 8th skipped line) and the next
    # holds one more skipped empty line: it was pushed in front of the older ones, so the
    # bounded context deque dropped "x", the line just before the diagnostic.
    # The lines after it are more than the budget, so that the tail does not reach it.
    text = "\ufeff" + "\n" * 7 + "x\n\nE       assert 1 == 2\n" + ("y" * 30 + "\n") * 20
    path = tmp_path / "job.log"
    path.write_bytes(text.encode("utf-8"))
    expected = build_excerpt(text, budget_chars=500)
    assert "\nx\n[... 1 lines omitted ...]\nE       assert 1 == 2\n" in expected
    assert excerpt_file(path, budget_chars=500, block_bytes=12) == expected
    for block_bytes in _every_block_size(path):
        assert excerpt_file(path, budget_chars=500, block_bytes=block_bytes) == expected


_EDGY_LINES = [
    "",
    "##[group]Run pytest -q",
    "pytest -q",
    "##[endgroup]",
    "",
    "caf\u00e9 \u2603 \U0001d11e progress",
    "Traceback (most recent call last):",
    "",
    "",
    '  File "/app/\u00e9.py", line 3, in total',
    "x" * 30,
    "E       assert '\u2603' == '\U0001d11e'",
    "",
    "plain output",
    "FAILED tests/test_calc.py::test_sum - AssertionError",
    "",
    "##[error]Process completed with exit code 1.",
    "",
]


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("final_newline", [False, True])
def test_any_block_size_gives_the_in_memory_excerpt(
    tmp_path: Path, crlf: bool, final_newline: bool
) -> None:
    # Blocks may end on an empty line, between "\r" and "\n", inside the BOM or inside a
    # multi-byte character: the reader only ever cuts just after a newline.
    text = "\ufeff" + "\n".join(_EDGY_LINES) + ("\n" if final_newline else "")
    path = tmp_path / "job.log"
    path.write_bytes(text.replace("\n", "\r\n" if crlf else "\n").encode("utf-8"))
    for budget in (200, 3_000):
        expected = build_excerpt(text, budget_chars=budget)
        for block_bytes in _every_block_size(path):
            streamed = excerpt_file(path, budget_chars=budget, block_bytes=block_bytes)
            assert streamed == expected, block_bytes


def test_invalid_utf8_in_any_block_size(tmp_path: Path) -> None:
    data = "\n".join(_EDGY_LINES).encode("utf-8").replace(b"plain", b"pl\xff\xe2\x98ain")
    path = tmp_path / "job.log"
    path.write_bytes(b"\xef\xbb\xbf" + data)
    expected = excerpt_file(path, budget_chars=3_000)
    assert "pl\ufffd\ufffdain output" in expected
    for block_bytes in _every_block_size(path):
        assert excerpt_file(path, budget_chars=3_000, block_bytes=block_bytes) == expected


def test_gh_export_in_any_block_size(tmp_path: Path) -> None:
    # The gh form used to add an empty line at the end of every block.
    rows = [
        ("Run tests", "##[group]Run pytest -q"),
        ("Run tests", "##[endgroup]"),
        ("Run tests", "FAILED tests/test_a.py::test_one - boom"),
        ("Run tests", ""),
        ("Run tests", "collected 3 items"),
        ("Run tests", "##[error]Process completed with exit code 1."),
    ]
    text = "".join(f"build\t{step}\t2024-01-02T03:04:05.0000000Z {line}\n" for step, line in rows)
    path = tmp_path / "job.log"
    path.write_bytes(text.encode("utf-8"))
    expected = build_excerpt(text, budget_chars=500)
    assert expected == (
        "== job: build ==\n"
        "== step: Run tests ==\n"
        "\n"
        "FAILED tests/test_a.py::test_one - boom\n"
        "\n"
        "collected 3 items\n"
        "##[error]Process completed with exit code 1."
    )
    for block_bytes in _every_block_size(path):
        assert excerpt_file(path, budget_chars=500, block_bytes=block_bytes) == expected


@pytest.mark.parametrize("block_bytes", [1, 2, 3, 5, 8, 13])
def test_in_memory_blocks_keep_empty_lines(
    monkeypatch: pytest.MonkeyPatch, block_bytes: int
) -> None:
    # A text or an iterable of lines longer than BLOCK_BYTES is fed in several blocks too.
    text = "\ufeff" + "\n".join(_EDGY_LINES) + "\n"
    expected = build_excerpt(text, budget_chars=3_000)
    lines = text.splitlines(keepends=True)
    monkeypatch.setattr(excerpt_module, "BLOCK_BYTES", block_bytes)
    assert build_excerpt(text, budget_chars=3_000) == expected
    assert build_excerpt_from_lines(lines, budget_chars=3_000) == expected
    assert build_excerpt_from_lines([line.rstrip("\n") for line in lines]) == build_excerpt(text)


def _write_big_log(path: Path, megabytes: int) -> None:
    noise = (
        "2024-01-02T03:04:05.1234567Z tests/test_mod.py::test_case_{n} PASSED [ 42%]\n"
        "2024-01-02T03:04:05.1234567Z error: flaky-looking line {n} that repeats a lot\n"
        "2024-01-02T03:04:05.1234567Z Downloading pkg_{n}-1.0-py3-none-any.whl (12 kB)\n"
    )
    with path.open("w", encoding="utf-8") as out:
        out.write("\ufeff2024-01-02T03:04:05.0000000Z ##[group]Run pytest\n")
        out.write("2024-01-02T03:04:05.0000000Z ##[endgroup]\n")
        n = 0
        while out.tell() < megabytes * 1_000_000:
            out.write(noise.format(n=n))
            n += 1
        out.write("2024-01-02T03:04:06.0000000Z ##[error]Process completed with exit code 1.\n")


@pytest.mark.slow
def test_memory_stays_bounded_on_a_30_mb_log(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    _write_big_log(path, 30)
    tracemalloc.start()
    try:
        excerpt = excerpt_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "##[error]Process completed with exit code 1." in excerpt
    assert len(excerpt) <= 12_000
    # Held at once: one 1 MiB block as bytes, its decoded text and its lower-cased copy (a few
    # MB), the candidate map pruned at 4 budgets (~50 KB of text plus dict overhead, per kept
    # step) and the tail. 16 MB is far below the 30 MB file and does not grow with it.
    assert peak < 16 * 1024 * 1024, peak


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 7, 64, 1 << 20])
def test_a_stream_in_chunks_of_any_size_gives_the_in_memory_excerpt(chunk_bytes: int) -> None:
    # HTTP chunks end anywhere: inside a line, a "\r\n", the BOM or a multi-byte character.
    text = "\ufeff" + "\r\n".join(_EDGY_LINES) + "\n"
    data = text.encode("utf-8")
    chunks = (data[i : i + chunk_bytes] for i in range(0, len(data), chunk_bytes))
    assert excerpt_stream(chunks, budget_chars=3_000) == build_excerpt(text, budget_chars=3_000)


def test_a_baseline_read_as_a_stream_equals_the_one_read_as_lines() -> None:
    lines = ["error: shared warning 1.2s", "", "caf\u00e9 \u2603 ok", "##[endgroup]"]
    data = ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")
    chunks = (data[i : i + 3] for i in range(0, len(data), 3))
    assert baseline_of_stream(chunks) == excerpt_module.baseline_hashes(lines)
