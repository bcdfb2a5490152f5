from __future__ import annotations

import pytest

from focusdesk.sources.charsets import (
    decode_text,
    detect_charset,
    lookup_codec,
    repair_surrogates,
    xml_as_utf8,
)


def test_declared_charset_wins_when_the_bytes_fit() -> None:
    assert decode_text("Привет".encode("koi8-r"), "koi8-r") == "Привет"


def test_one_bad_byte_in_declared_utf8_gives_one_replacement_character() -> None:
    data = "Grüße, schöne Größe ".encode() + b"\xff" + " Jürgen".encode()
    assert decode_text(data, "utf-8") == "Grüße, schöne Größe \ufffd Jürgen"


def test_utf8_declared_but_latin1_is_detected() -> None:
    assert decode_text("naïve café".encode("latin-1"), "UTF-8") == "naïve café"


def test_ascii_declared_but_8bit_is_detected() -> None:
    assert decode_text("Größe".encode("cp1252"), "us-ascii") == "Größe"


def test_hint_decodes_undeclared_bytes() -> None:
    data = "會議".encode("big5")
    assert decode_text(data, None, hint="big5") == "會議"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("會議通知：下週一", "big5"),
        ("关于下周的会议安排", "gb2312"),
        ("Привет, как дела?", "koi8-r"),
        ("Привет мир", "cp1251"),
        ("Jörg Grüße", "latin-1"),
        ("€5 – “quotes”", "cp1252"),
        ("日本語のテキストです", "shift_jis"),
        ("請準時出席下週一的會議。" * 20, "big5"),
        ("Grüße aus München, die Größe passt. " * 20, "cp1252"),
    ],
)
def test_undeclared_charsets_are_detected(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    assert decode_text(data) == text
    codec = detect_charset(data)
    assert codec is not None
    assert data.decode(codec) == text


def test_unknown_or_non_text_codecs_are_not_used() -> None:
    assert lookup_codec("x-no-such") is None
    assert lookup_codec("base64") is None
    assert lookup_codec("unknown-8bit") is None
    assert lookup_codec(' "UTF-8" ') == "utf-8"


def test_byte_order_mark_is_honoured_and_dropped() -> None:
    assert decode_text(b"\xef\xbb\xbfGr\xc3\xbc\xc3\x9fe") == "Grüße"
    assert decode_text("Grüße".encode("utf-16")) == "Grüße"


def test_no_lone_surrogates_come_out() -> None:
    assert decode_text(b"+2AA- x", "utf-7") == "\ufffd x"
    assert repair_surrogates("caf\udce9") == "café"  # a surrogate-escaped Latin-1 byte
    assert repair_surrogates("a\ud800b") == "a\ufffdb"
    assert repair_surrogates("a\ud800\udce9") == "a\ufffd\ufffd"
    assert repair_surrogates("plain") == "plain"


def test_xml_without_a_declared_encoding_becomes_utf8() -> None:
    body = "<rss><channel><title>Новости дня и недели</title></channel></rss>"
    data = body.encode("koi8-r")
    assert xml_as_utf8(data).decode("utf-8") == body
    declared = b'<?xml version="1.0" encoding="koi8-r"?>' + data
    assert xml_as_utf8(declared) is declared
    assert xml_as_utf8(data, "application/rss+xml; charset=koi8-r") is data
    utf8 = body.encode("utf-8")
    assert xml_as_utf8(utf8) is utf8
