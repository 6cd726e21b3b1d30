"""Pure helpers: names, ranges, text detection."""

import pytest

from files.download import RangeNotSatisfiable, content_disposition, parse_range
from files.naming import ascii_fallback_name, sanitize_file_name
from files.sniff import TextDetector, sniff_content_type


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("dir/sub/photo.jpg", "photo.jpg"),
        ("C:\\x\\photo.jpg", "photo.jpg"),
        ("  spaced   out .txt ", "spaced out .txt"),
        ("bad\x00\x1b\u202ename.txt", "badname.txt"),
        ("line\nbreak.txt", "line break.txt"),
        ("..", "file"),
        ("", "file"),
        (None, "file"),
        ("e\u0301t\u00e9.txt", "\u00e9t\u00e9.txt"),  # NFC
    ],
)
def test_sanitize_file_name(raw, expected):
    assert sanitize_file_name(raw) == expected


def test_sanitize_bounds_the_length_and_keeps_a_short_extension():
    assert sanitize_file_name("a" * 400 + ".tar") == "a" * 251 + ".tar"
    assert len(sanitize_file_name("a" * 400 + "." + "b" * 40)) == 255


@pytest.mark.parametrize(
    ("name", "fallback"),
    [("résumé.pdf", "resume.pdf"), ("报告.pdf", "file.pdf"), ('a"b\\c.txt', "a_b_c.txt")],
)
def test_ascii_fallback_name(name, fallback):
    assert ascii_fallback_name(name) == fallback


def test_content_disposition_carries_both_names():
    assert content_disposition("报告 1.pdf") == (
        "attachment; filename=\"__ 1.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%201.pdf"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", (0, 0)),
        ("bytes = 5-", (5, 9)),
        ("bytes=-3", (7, 9)),
        ("bytes=-30", (0, 9)),
        ("bytes=2-100", (2, 9)),
        ("bytes=5-2", None),
        ("bytes=-", None),
        ("bytes=1-2,4-5", None),
        ("lines=1-2", None),
    ],
)
def test_parse_range(header, expected):
    assert parse_range(header, 10) == expected


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=-0"])
def test_parse_range_unsatisfiable(header):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 10)


def test_text_detector_handles_characters_split_across_chunks():
    encoded = "文字".encode()
    detector = TextDetector()
    for byte in encoded:
        detector.feed(bytes([byte]))
    assert detector.finish() is True


@pytest.mark.parametrize("chunks", [[b"\xe6\x96"], [b"ok", b"\xff"], [b"a\x00b"]])
def test_text_detector_rejects_binary_and_truncated_utf8(chunks):
    detector = TextDetector()
    for chunk in chunks:
        detector.feed(chunk)
    assert detector.finish() is False


def test_sniff_falls_back_to_octet_stream():
    assert sniff_content_type(b"\x00\x01", is_text=False) == "application/octet-stream"
    assert sniff_content_type(b"%PDF-1.7\n", is_text=True) == "application/pdf"
