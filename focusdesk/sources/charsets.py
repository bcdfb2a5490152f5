"""Turning bytes of an uncertain charset into text: the one place that decides.

Mail parts and headers, and feeds that declare no encoding, come here. The declared
charset wins when the bytes fit it (with a few replacement characters for a few bad
bytes); text that declares nothing or declares the wrong thing goes through
charset-normalizer, restricted to the charsets mail and web text really use, so that a
short string is not read as some rare code page. Nothing returned here holds a lone
surrogate, so it can always be encoded as UTF-8 and stored.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from focusdesk.sources.text import valid_unicode

__all__ = [
    "decode_text",
    "detect_charset",
    "lookup_codec",
    "repair_surrogates",
    "xml_as_utf8",
]

# Charsets that real mail and feeds use; detection picks among these only, and in this
# order of preference when a short text fits several equally well.
_CANDIDATES = [
    "utf_8",
    "cp1252",
    "iso8859_15",
    "gb18030",
    "big5",
    "shift_jis",
    "euc_jp",
    "iso2022_jp",
    "euc_kr",
    "koi8_r",
    "koi8_u",
    "cp1251",
    "iso8859_5",
    "cp866",
    "iso8859_2",
    "cp1250",
    "iso8859_7",
    "cp1253",
    "iso8859_8",
    "cp1255",
    "cp1256",
    "iso8859_9",
    "cp1254",
    "cp1257",
    "cp874",
]
_DETECT_SAMPLE = 64 * 1024
# Below this many non-ASCII bytes charset-normalizer has no language evidence and many
# charsets fit equally: the candidates are then ranked by how plausible their text looks.
_SHORT = 64
_PLAUSIBLE_SAMPLE = 4096
_SCRIPTS: tuple[str, ...] = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "LATIN", "CYRILLIC")
_SCRIPTS += ("GREEK", "HEBREW", "ARABIC", "THAI")
# Symbols, marks, controls and unassigned code points: rare in text, common in mojibake.
_UNLIKELY = frozenset({"So", "Sk", "No", "Mn", "Me", "Cc", "Cf", "Co", "Cn", "Lm"})
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def lookup_codec(name: str | None) -> str | None:
    """Python's codec name for a declared charset, or None when unknown or not text."""
    if not name:
        return None
    cleaned = name.strip().strip("\"'").lower()
    if cleaned in ("", "unknown-8bit", "x-unknown", "unknown", "default", "8bit"):
        return None
    try:
        info = codecs.lookup(cleaned)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None  # base64_codec, rot13 and friends are not charsets
    return info.name


def bom_codec(data: bytes) -> tuple[str, int] | None:
    """(codec, length of the mark) when ``data`` starts with a Unicode byte-order mark."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    return None


def detect_charset(data: bytes) -> str | None:
    """The charset charset-normalizer finds most plausible for ``data``, or None."""
    if not data:
        return None
    sample = data[:_DETECT_SAMPLE]
    if sum(1 for b in sample if b > 127) < _SHORT:
        return _most_plausible(sample)
    from charset_normalizer import from_bytes

    try:
        matches = list(from_bytes(sample, cp_isolation=_CANDIDATES))
    except Exception:  # a detector bug must not lose the text: the caller falls back
        return None
    if not matches:
        return None
    # Its best guess first, unless another candidate reads as clearly more plausible text.
    ranked = sorted(
        enumerate(matches),
        key=lambda im: (_implausibility(str(im[1])[:_PLAUSIBLE_SAMPLE], im[1].encoding), im[0]),
    )
    return lookup_codec(ranked[0][1].encoding)


def _most_plausible(data: bytes) -> str | None:
    """For a short text: the candidate charset whose decoding looks most like text."""
    scored: list[tuple[int, int, str]] = []
    for order, codec in enumerate(_CANDIDATES):
        text = _strict(data, codec)
        if text is not None:
            scored.append((_implausibility(text, codec), order, codec))
    return lookup_codec(min(scored)[2]) if scored else None


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if ch.isascii():
        return "LATIN"
    for script in _SCRIPTS:
        if name.startswith(script):
            return "CJK" if script in ("HIRAGANA", "KATAKANA") else script
    return name.split(" ", 1)[0]


def _implausibility(text: str, encoding: str) -> int:
    """How unlike real text a decoding looks: non-ASCII symbols and marks, words that mix
    scripts or flip to capitals midway, Latin words with no plain ASCII letter (Cyrillic
    read as cp1252), half-width katakana and GB18030 characters outside common GB2312."""
    score = 0
    prev = ""
    accented_run = 0
    for ch in text:
        if ord(ch) > 127:
            rare = "\uff61" <= ch <= "\uff9f"  # half-width katakana: Big5 read as Shift-JIS
            rare = rare or (encoding == "gb18030" and not _encodes(ch, "gb2312"))
            if rare or unicodedata.category(ch) in _UNLIKELY:
                score += 1
        in_word = prev.isalpha() and ch.isalpha()
        if in_word and (_script(prev) != _script(ch) or (prev.islower() and ch.isupper())):
            score += 1
        if ch.isalpha() and not ch.isascii() and _script(ch) == "LATIN":
            accented_run += 1
            if accented_run == 3:
                score += 1
        else:
            accented_run = 0
        prev = ch
    return score


def _encodes(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _good_and_bad(text: str) -> tuple[int, int]:
    """(non-ASCII characters decoded, replacement characters) of a lenient decode."""
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return good, bad


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None


def decode_text(data: bytes, declared: str | None = None, *, hint: str | None = None) -> str:
    """Decode text whose declared charset may be missing, unknown or simply wrong.

    In order: a byte-order mark; the declared charset; UTF-8; the declared charset
    with replacement characters when it decoded more than it replaced (one bad byte
    in UTF-8 text); ``hint`` (the charset the rest of the message uses); detection;
    Latin-1, which always succeeds. The result holds no lone surrogate.
    """
    codec = lookup_codec(declared)
    if codec is None and data.isascii():
        return data.decode("ascii")
    marked = bom_codec(data)
    if marked is not None and (codec is None or codec.startswith("utf")):
        return repair_surrogates(data[marked[1] :].decode(marked[0], "replace"))
    text = _decode(data, codec, lookup_codec(hint))
    return repair_surrogates(text)


def _decode(data: bytes, codec: str | None, hint: str | None) -> str:
    if codec:
        text = _strict(data, codec)
        if text is not None:
            return text
    text = _strict(data, "utf-8")
    if text is not None:
        return text
    if codec and codec != "ascii":
        try:
            lenient = data.decode(codec, "replace")
        except (LookupError, ValueError):
            lenient = ""
        good, bad = _good_and_bad(lenient)
        if lenient and good > bad:
            return lenient
    if hint and hint != codec:
        text = _strict(data, hint)
        if text is not None:
            return text
    detected = detect_charset(data)
    if detected:
        try:
            return data.decode(detected, "replace")
        except (LookupError, ValueError):
            pass
    return data.decode("latin-1")


def repair_surrogates(text: str, hint: str | None = None) -> str:
    """``text`` without lone surrogates, which cannot be encoded and stored.

    Raw bytes the email package or the file system kept as surrogate escapes are
    decoded for real (see ``decode_text``); any other lone surrogate becomes U+FFFD.
    """
    if _ESCAPED_BYTE.search(text):
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            pass
        else:
            return decode_text(raw, None, hint=hint)
    return valid_unicode(text)


_XML_DECLARED = re.compile(rb"^\s*<\?xml[^>]*?\bencoding\s*=", re.IGNORECASE)
_CHARSET_PARAM = re.compile(r";\s*charset\s*=", re.IGNORECASE)


def xml_as_utf8(data: bytes, content_type: str | None = None) -> bytes:
    """An XML document that declares no encoding, converted to UTF-8 by detection.

    A document with a byte-order mark, an ``encoding=`` in its XML declaration or a
    charset in its Content-Type, or one that is valid UTF-8, is returned unchanged;
    for the rest XML parsers would guess (cp1252 mojibake), so the charset is detected.
    """
    if data.isascii() or bom_codec(data) is not None:
        return data
    if content_type and _CHARSET_PARAM.search(content_type):
        return data
    if _XML_DECLARED.match(data[:1024]):
        return data
    if _strict(data, "utf-8") is not None:
        return data
    detected = detect_charset(data)
    if detected is None or detected == "utf-8":
        return data
    try:
        return data.decode(detected, "replace").encode("utf-8")
    except (LookupError, ValueError):
        return data
