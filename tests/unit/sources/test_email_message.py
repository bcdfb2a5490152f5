from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from focusdesk.sources.base import RawItem
from focusdesk.sources.email_message import message_to_item, parse_message_bytes


def item_from(data: bytes, fallback_id: str = "fallback-1") -> RawItem:
    return message_to_item(parse_message_bytes(data), fallback_id=fallback_id)


PLAIN = b"""\
From: Ann Lee <ann@example.com>
To: Bob <bob@example.org>, carol@example.net
Cc: Dan <dan@example.com>
Subject: Budget review on Friday
Date: Tue, 05 Mar 2024 09:30:00 +0100
Message-ID: <budget-1@example.com>
In-Reply-To: <budget-0@example.com>
References: <budget-0@example.com>
Content-Type: text/plain; charset=utf-8

Can we move the budget review to Friday afternoon?

On Mon, 4 Mar 2024 at 17:00, Bob <bob@example.org> wrote:
> Is Thursday still fine for the review?
> Bob

--SIG
Ann Lee
Finance team
""".replace(b"--SIG", b"-- ")  # the signature delimiter has a trailing space


def test_plain_message_fields() -> None:
    item = item_from(PLAIN)
    assert item.kind == "email"
    assert item.external_id == "<budget-1@example.com>"
    assert item.title == "Budget review on Friday"
    assert item.author == "Ann Lee <ann@example.com>"
    assert item.published_at == datetime(2024, 3, 5, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert item.meta["message_id"] == "<budget-1@example.com>"
    assert item.meta["from_addr"] == "ann@example.com"
    assert item.meta["to"] == ["Bob <bob@example.org>", "carol@example.net"]
    assert item.meta["cc"] == ["Dan <dan@example.com>"]
    assert item.meta["has_html"] is False
    assert item.meta["attachments"] == []
    assert item.meta["in_reply_to"] == "<budget-0@example.com>"
    assert item.meta["references"] == ["<budget-0@example.com>"]
    assert "newsgroups" not in item.meta


def test_quoted_reply_absent_from_text_present_in_body() -> None:
    item = item_from(PLAIN)
    assert item.text == "Can we move the budget review to Friday afternoon?"
    assert "Is Thursday still fine" in item.body
    assert "wrote:" in item.body


def test_signature_trimmed_from_text_kept_in_body() -> None:
    item = item_from(PLAIN)
    assert "Finance team" not in item.text
    assert "Finance team" in item.body


def test_missing_subject_gives_placeholder_title() -> None:
    item = item_from(b"From: a@example.com\nMessage-ID: <x@y>\n\nHello")
    assert item.title == "(no subject)"


def test_missing_message_id_gives_the_same_fallback_id_twice() -> None:
    data = b"From: a@example.com\nSubject: No id\nDate: Tue, 05 Mar 2024 09:30:00 +0000\n\nBody"
    first, second = item_from(data, "f1"), item_from(data, "f2")
    assert first.external_id == second.external_id
    assert first.external_id.startswith("sha256:")
    assert first.meta["message_id"] is None
    changed = item_from(data.replace(b"Body", b"Other body"))
    assert changed.external_id != first.external_id


def test_message_with_nothing_to_hash_uses_fallback_id() -> None:
    item = item_from(b"Content-Type: multipart/mixed; boundary=x\n\n--x--\n", "mbox-message-7")
    assert item.external_id == "mbox-message-7"
    assert item.title == "(no subject)"
    assert item.text == ""


def test_html_only_mail_is_reduced_to_text() -> None:
    data = b"""\
From: news@example.com
Subject: Newsletter
Message-ID: <n1@example.com>
Content-Type: text/html; charset=utf-8

<html><head><style>.x{}</style></head><body><h1>Release&nbsp;3.0</h1>
<p>New <b>features</b> &amp; fixes.</p><script>track()</script></body></html>
"""
    item = item_from(data)
    assert item.text == "Release 3.0\n\nNew features & fixes."
    assert "<" not in item.body
    assert item.meta["has_html"] is True


def test_alternative_prefers_plain_text() -> None:
    data = b"""\
From: a@example.com
Subject: Alt
Message-ID: <alt@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b"

--b
Content-Type: text/plain; charset=us-ascii

Plain version
--b
Content-Type: text/html; charset=us-ascii

<p>HTML version</p>
--b--
"""
    item = item_from(data)
    assert item.text == "Plain version"
    assert item.meta["has_html"] is True


def test_non_utf8_charset_decoded() -> None:
    body = "Привет, мир".encode("koi8-r")
    data = (
        b"From: a@example.com\nSubject: =?koi8-r?b?"
        + __import__("base64").b64encode("Тема".encode("koi8-r"))
        + b"?=\nMessage-ID: <k@x>\nContent-Type: text/plain; charset=koi8-r\n\n"
        + body
    )
    item = item_from(data)
    assert item.text == "Привет, мир"
    assert item.title == "Тема"


def test_quoted_printable_latin1() -> None:
    data = (
        b"From: a@example.com\nMessage-ID: <q@x>\nContent-Type: text/plain; charset=iso-8859-1\n"
        b"Content-Transfer-Encoding: quoted-printable\n\nCaf=E9 cr=E8me br=FBl=E9e"
    )
    assert item_from(data).text == "Café crème brûlée"


def test_bogus_charset_falls_back_to_utf8_then_latin1() -> None:
    utf8 = b"From: a@x\nMessage-ID: <1@x>\nContent-Type: text/plain; charset=x-no-such\n\n"
    assert item_from(utf8 + "naïve café".encode()).text == "naïve café"
    mislabelled = b"From: a@x\nMessage-ID: <2@x>\nContent-Type: text/plain; charset=utf-8\n\n"
    assert item_from(mislabelled + "naïve café".encode("latin-1")).text == "naïve café"


def test_raw_8bit_latin1_header_decoded() -> None:
    data = "From: Jörg <j@example.de>\nSubject: Grüße\nMessage-ID: <g@x>\n\nHallo".encode("latin-1")
    item = item_from(data)
    assert item.title == "Grüße"
    assert item.author == "Jörg <j@example.de>"


@pytest.mark.parametrize(
    ("header", "expected_author"),
    [
        (b'From: "', '"'),
        (b"From: ;\\a, .\\,:\t", None),
        (b"From: a@[", "a@[]"),
    ],
)
def test_header_that_breaks_the_policy_does_not_raise(
    header: bytes, expected_author: str | None
) -> None:
    data = header + b"\nTo: <\nMessage-ID: <<>>\nSubject: Still readable\n\nBody text"
    item = item_from(data)
    assert item.title == "Still readable"
    assert item.text == "Body text"
    assert item.external_id == "<<>>"
    assert item.meta["to"] == ["<"]
    if expected_author is not None:
        assert item.author == expected_author


def test_usenet_style_from_with_comment_name() -> None:
    data = b"From: mppa3@syma.sussex.ac.uk (Alan Richardson)\nMessage-ID: <u@x>\n\nHi"
    item = item_from(data)
    assert item.author == "Alan Richardson <mppa3@syma.sussex.ac.uk>"
    assert item.meta["from_addr"] == "mppa3@syma.sussex.ac.uk"


def test_newsgroups_header_in_meta() -> None:
    data = b"From: a@x\nNewsgroups: sci.space, sci.astro\nMessage-ID: <n@x>\n\nOrbit"
    assert item_from(data).meta["newsgroups"] == ["sci.space", "sci.astro"]


def test_dates_naive_becomes_utc_and_bad_gives_none() -> None:
    naive = item_from(b"From: a@x\nDate: Tue, 05 Mar 2024 09:30:00 -0000\nMessage-ID: <d@x>\n\nx")
    assert naive.published_at == datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    bad = item_from(b"From: a@x\nDate: Tue, 7 Apr 2026 10:00:t\nMessage-ID: <e@x>\n\nx")
    assert bad.published_at is None
    missing = item_from(b"From: a@x\nMessage-ID: <f@x>\n\nx")
    assert missing.published_at is None


def test_attachments_listed_and_not_ranked() -> None:
    data = b"""\
From: a@example.com
Subject: Report
Message-ID: <att@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: text/plain

See the attached report.
--m
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

secret attachment words
--m
Content-Type: application/pdf
Content-Disposition: attachment; filename="C:\\\\Reports\\\\q1.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--m--
"""
    item = item_from(data)
    assert item.text == "See the attached report."
    assert "secret" not in item.body
    assert item.meta["attachments"] == ["notes.txt", "q1.pdf"]


def test_base64_encoded_attached_message_is_read() -> None:
    inner = b"From: x@y\nSubject: Inner\n\nForwarded words\n"
    data = (
        b"From: a@x\nMessage-ID: <fw@x>\nContent-Type: multipart/mixed; boundary=z\n\n"
        b"--z\nContent-Type: text/plain\n\nSee below\n"
        b"--z\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="fw.eml"\n\n'
        + __import__("base64").encodebytes(inner)
        + b"--z--\n"
    )
    item = item_from(data)
    assert "Forwarded words" in item.text
    assert "fw.eml" in item.meta["attachments"]


def test_unusual_text_subtype_used_when_nothing_else() -> None:
    data = (
        b"From: faq@x\nSubject: FAQ\nMessage-ID: <faq@x>\n"
        b'Content-Type: text/x-usenet-FAQ; version=1.0; title="RIPEM FAQ"\n\n'
        b"Archive-name: ripem/faq\n\nWhat is RIPEM?\n"
    )
    assert item_from(data).text == "Archive-name: ripem/faq\n\nWhat is RIPEM?"


def test_message_without_usable_text_is_still_an_item() -> None:
    data = (
        b"From: a@x\nSubject: Photo\nMessage-ID: <p@x>\n"
        b"Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"
    )
    item = item_from(data)
    assert item.title == "Photo"
    assert item.text == ""
    assert item.body == ""


def test_empty_input_is_a_clean_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        parse_message_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        parse_message_bytes(b" \r\n\r\n")


def test_headerless_binary_is_a_clean_value_error() -> None:
    msg = parse_message_bytes(b"\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    with pytest.raises(ValueError, match="not an email"):
        message_to_item(msg, fallback_id="x")


def test_text_has_no_surrogates_and_hash_is_stable() -> None:
    data = b"From: a@x\nSubject: \xff\xfe odd\nMessage-ID: <s@x>\n\nbytes \xff\xfe here"
    item = item_from(data)
    for value in (item.title, item.text, item.body, item.author or ""):
        value.encode("utf-8")  # raises on lone surrogates
    assert item.content_hash == item_from(data).content_hash


_NEWSLETTER = (
    b"From: Weekly <news@example.com>\r\nSubject: Weekly\r\nMessage-ID: <w1@example.com>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n"
    b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"
    b"--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b"<h1>Weekly</h1><p onclick='x()'>The soak test passed on every unit this week, "
    b"with no resets in forty-eight hours.</p><img src='https://t.example/c.png' alt='c'>"
    b"<p>More results, charts and the raw logs follow below for the curious reader.</p>\r\n"
    b"--XX--\r\n"
)


def test_html_part_is_kept_sanitised_and_a_stub_plain_part_is_not_read() -> None:
    item = item_from(_NEWSLETTER % b"See the HTML version.")
    assert "See the HTML version" not in item.body
    assert "soak test passed" in item.body
    assert "soak test passed" in item.text
    assert "<h1>Weekly</h1>" in item.meta["html"]
    assert "onclick" not in item.meta["html"]
    assert item.meta["plain_is_stub"] is True
    assert item.meta["has_remote_content"] is True


def test_a_real_plain_part_is_read_and_the_html_kept_beside_it() -> None:
    plain = b"The soak test passed on every unit this week, with no resets. More below."
    item = item_from(_NEWSLETTER % plain)
    assert item.body.startswith("The soak test passed")
    assert item.meta["plain_is_stub"] is False
    assert "<h1>Weekly</h1>" in item.meta["html"]


# -- crafted cases of real-world defects (tests/data/mail) ------------------------------
DATA = Path(__file__).resolve().parents[2] / "data" / "mail"


def crafted(name: str) -> RawItem:
    return item_from((DATA / name).read_bytes())


def no_lone_surrogates(item: RawItem) -> None:
    texts = [item.external_id, item.title, item.text, item.body, item.author or ""]
    texts += [str(v) for v in item.meta.values()]
    for text in texts:
        text.encode("utf-8")  # raises on a lone surrogate, which SQLite refuses too


def test_byte_order_mark_before_the_headers_is_ignored() -> None:
    item = crafted("bom-message.eml")
    assert item.title == "Budget review"
    assert item.external_id == "<bom-1@example.com>"
    assert item.author == "Ann Lee <ann@example.com>"
    assert item.body == "The budget review moves to Friday."


def test_utf16_message_with_a_byte_order_mark_is_read() -> None:
    data = "From: a@x\nSubject: Größe\nMessage-ID: <u16@x>\n\nHallo Jürgen".encode("utf-16")
    item = item_from(data)
    assert (item.title, item.body) == ("Größe", "Hallo Jürgen")


def test_declared_utf8_with_one_bad_byte_keeps_the_utf8_text() -> None:
    item = crafted("utf8-one-bad-byte.eml")
    assert item.body == (
        "Grüße aus München: die Größe passt, schöne Woche. \ufffd Bis bald, Jürgen."
    )
    assert item.title == "Grüße"


def test_declared_utf8_that_is_really_latin1_is_still_read() -> None:
    data = b"From: a@x\nMessage-ID: <l1@x>\nContent-Type: text/plain; charset=utf-8\n\n"
    assert item_from(data + "Größe und Gewicht".encode("latin-1")).text == "Größe und Gewicht"


def test_multipart_whose_boundary_does_not_match_keeps_its_text() -> None:
    item = crafted("boundary-mismatch.eml")
    assert item.text == "The quarterly report is attached; please read section two."
    assert item.meta["attachments"] == ["report.pdf"]


def test_multipart_without_a_boundary_keeps_its_text() -> None:
    item = crafted("boundary-missing.eml")
    assert item.body == (
        "The meeting notes: we agreed to ship on Monday.\nNothing else was decided."
    )


@pytest.mark.parametrize(
    ("name", "subject", "author", "body"),
    [
        (
            "big5-subject.eml",
            "會議通知：下週一",
            "陳大文 <chan@example.com.tw>",
            "請準時出席下週一的會議。",
        ),  # noqa: E501
        (
            "gb2312-subject.eml",
            "关于下周的会议安排",
            "王小明 <wang@example.cn>",
            "请准时参加下周一的会议。",
        ),  # noqa: E501
    ],
)
def test_raw_8bit_chinese_headers_are_detected(
    name: str, subject: str, author: str, body: str
) -> None:
    item = crafted(name)
    assert (item.title, item.author, item.body) == (subject, author, body)


@pytest.mark.parametrize(
    "subject", ["會議通知", "中文郵件測試", "关于下周的会议安排", "测试邮件"], ids=repr
)
def test_short_raw_chinese_subject_alone_is_detected(subject: str) -> None:
    encoding = "big5" if subject in ("會議通知", "中文郵件測試") else "gb2312"
    data = b"From: a@x\nMessage-ID: <c@x>\nSubject: " + subject.encode(encoding) + b"\n\nx"
    assert item_from(data).title == subject


def test_no_lone_surrogate_reaches_the_item() -> None:
    item = crafted("lone-surrogates.eml")
    no_lone_surrogates(item)
    assert item.title == "Plan \ufffd review"
    assert item.body == "The plan \ufffd is ready \ufffd."
    assert item.meta["attachments"] == ["r\ufffdport.bin"]


def test_a_long_patch_or_rules_of_dashes_are_never_cut() -> None:
    # Messages are cut before their 1000th MIME boundary line (bounded parsing time);
    # diff lines, signatures and rules of dashes are not boundary lines.
    patch = b"Subject: [PATCH] big\n\n" + b"--- a/x.sql\n--- old comment\n" * 2000 + b"END\n"
    assert item_from(patch).body.endswith("END")
    lines = b"-------\n-- sig\n--- a/x\n" * 2000
    mixed = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\n" + lines + b"END\n--b--\n"
    assert item_from(mixed).body.endswith("END")


def test_a_thousand_parts_are_read_and_the_rest_is_cut() -> None:
    parts = b"".join(b"--b\n\npart %d\n" % n for n in range(3000))
    item = item_from(b"Content-Type: multipart/mixed; boundary=b\n\n" + parts + b"--b--\n")
    assert "part 0\n\npart 1\n" in item.body
    assert "part 990" in item.body
    assert "part 2999" not in item.body
