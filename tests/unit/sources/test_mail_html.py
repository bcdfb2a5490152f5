"""The HTML part of a mail is kept sanitised, and a stub plain part is recognised."""

from __future__ import annotations

import pytest

from focusdesk.sources.mail_html import MAX_STORED_HTML, html_part_meta, plain_is_stub

LONG = " ".join(["word"] * 200)


@pytest.mark.parametrize(
    "plain",
    [
        "",
        "See HTML version",
        "View this email in your browser: https://example.com/x",
        "This is an HTML message. Please use an HTML capable mail program.",
        "Your mail client does not support HTML.",
        "Hi,",  # very short compared with the HTML
    ],
)
def test_stubs(plain: str) -> None:
    assert plain_is_stub(plain, LONG)


@pytest.mark.parametrize(
    ("plain", "html_text"),
    [
        (LONG, LONG),  # a real plain part
        ("See you at the HTML workshop on Monday.", "See you at the HTML workshop."),
        ("Short note.", "Short note."),  # short, but so is the HTML
        ("anything", ""),  # no HTML at all
    ],
)
def test_not_stubs(plain: str, html_text: str) -> None:
    assert not plain_is_stub(plain, html_text)


def test_meta_keeps_sanitised_html_and_remote_images_held() -> None:
    meta = html_part_meta(
        ['<p onclick="x()">Hi <img src="https://t.example/c.png" alt="c"></p><script>1</script>'],
        "See the HTML version",
        "Hi " + LONG,
    )
    assert "onclick" not in meta["html"]
    assert "<script" not in meta["html"]
    assert 'data-remote-src="https://t.example/c.png"' in meta["html"]
    assert meta["has_remote_content"] is True
    assert meta["plain_is_stub"] is True


def test_no_usable_html_keeps_nothing() -> None:
    assert html_part_meta([], "plain", "") == {}
    assert html_part_meta(["<script>only</script>"], "plain", "") == {}
    assert html_part_meta(["<p>" + "x" * MAX_STORED_HTML + "</p>"], "", "x") == {}
