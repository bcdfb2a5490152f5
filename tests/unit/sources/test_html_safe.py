from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from focusdesk.sources.html_safe import (
    REMOTE_SRC_ATTR,
    SafeHtml,
    enable_remote_content,
    sanitize_html,
)

ALLOWED_SCHEMES = ("http:", "https:", "mailto:", "cid:", "data:image/")


class _Collect(HTMLParser):
    """Every tag and attribute of sanitised output, as a browser-like parser sees it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, k, v or "") for k, v in attrs)


def parsed(html: str) -> _Collect:
    c = _Collect()
    c.feed(html)
    c.close()
    return c


FORBIDDEN_TAGS = {
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "form",
    "input",
    "button",
    "select",
    "textarea",
    "base",
    "meta",
    "link",
    "svg",
    "math",
    "video",
    "audio",
    "source",
    "picture",
    "template",
    "noscript",
}


def assert_safe(out: SafeHtml) -> None:
    c = parsed(out.html)
    assert not FORBIDDEN_TAGS & set(c.tags), out.html
    for tag, name, value in c.attrs:
        assert not name.startswith("on"), out.html
        assert name not in ("style", "srcset", "background", "formaction", "poster"), out.html
        if name in ("href", "src", "cite", REMOTE_SRC_ATTR):
            v = re.sub(r"[\x00-\x20]", "", value).lower()
            assert ":" not in v.split("/", 1)[0] or v.startswith(ALLOWED_SCHEMES), out.html
            if name == "href":
                assert not v.startswith(("data:", "cid:")), out.html
        if tag == "img" and name == "src":
            assert not value.lower().startswith(("http:", "https:")), "remote image left loading"


# OWASP XSS filter evasion cheat sheet style vectors, and a few mXSS ones.
VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG SRC= onmouseover=\"alert('xxs')\">",
    "<IMG onmouseover=\"alert('xxs')\">",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114">',
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;"
    "&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72"
    "&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    '<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>',
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    '<<SCRIPT>alert("XSS");//<</SCRIPT>',
    "<SCRIPT SRC=http://xss.rocks/xss.js?< B >",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\"><TD BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">x</DIV>",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">x</DIV>",
    "<STYLE>@import'http://xss.rocks/xss.css';</STYLE>",
    '<LINK REL="stylesheet" HREF="http://xss.rocks/xss.css">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,'
    'PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">',
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>',
    '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH">',
    '<svg/onload=alert("XSS")>',
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<form action="javascript:alert(1)"><input type=submit formaction=javascript:alert(1)>',
    "<a href=\"javascript:alert('XSS')\">x</a>",
    '<a href="  JaVaScRiPt:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="file:///etc/passwd">x</a>',
    '<img src="file:///etc/passwd">',
    '<img srcset="http://evil/x.png 1x" src="data:image/svg+xml;base64,PHN2Zz4=">',
    '<video poster="http://evil/p.png"><source src="http://evil/v.mp4"></video>',
    '<a href="http://ok.example/" onclick="steal()" target="_blank">ok</a>',
    "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    '<XSS STYLE="behavior: url(xss.htc);">',
    "<p>\x00<scr\x00ipt>alert(1)</script></p>",
    '<details open ontoggle="alert(1)">x</details>',
    '<img src="https://example.com/a.png" usemap="#m"><map name="m"><area href="javascript:x">',
]


@pytest.mark.parametrize("vector", VECTORS)
def test_owasp_vectors_come_out_harmless(vector: str) -> None:
    out = sanitize_html(vector, base_url="https://blog.example/post/")
    assert_safe(out)
    # Allowing remote images does not weaken anything else.
    assert_safe_allowing_remote(sanitize_html(vector, allow_remote=True))


def assert_safe_allowing_remote(out: SafeHtml) -> None:
    c = parsed(out.html)
    assert not FORBIDDEN_TAGS & set(c.tags)
    assert not any(name.startswith("on") or name == "style" for _, name, _ in c.attrs)


def test_structure_and_links_survive() -> None:
    html = (
        '<h2>Title</h2><p>Some <b>bold</b> and <a href="https://x.example/a">a link</a>.</p>'
        "<ul><li>one</li></ul><blockquote>q</blockquote><pre>code</pre>"
        "<table><tr><td colspan=2>c</td></tr></table>"
    )
    out = sanitize_html(html)
    for piece in ("<h2>", "<b>bold</b>", "<li>one</li>", "<blockquote>", "<pre>", "<td"):
        assert piece in out.html
    assert '<a href="https://x.example/a" rel="noopener noreferrer">' in out.html
    assert not out.has_remote_content


def test_every_link_gets_noopener_noreferrer_and_loses_its_own_rel_and_target() -> None:
    out = sanitize_html('<a href="https://a.example/" rel="opener" target="_blank">x</a>')
    c = parsed(out.html)
    attrs = {name: value for tag, name, value in c.attrs if tag == "a"}
    assert attrs["rel"] == "noopener noreferrer"
    assert "target" not in attrs


def test_remote_images_are_held_back_with_a_placeholder() -> None:
    out = sanitize_html('<p>x</p><img src="https://cdn.example/cat.jpg" alt="a cat" width="400">')
    assert out.has_remote_content
    assert out.remote_urls == ("https://cdn.example/cat.jpg",)
    c = parsed(out.html)
    img = {name: value for tag, name, value in c.attrs if tag == "img"}
    assert "src" not in img
    assert img[REMOTE_SRC_ATTR] == "https://cdn.example/cat.jpg"
    assert img["alt"] == "a cat"
    # The reader's "load remote content": the same HTML with the images loading.
    loaded = enable_remote_content(out.html)
    assert 'src="https://cdn.example/cat.jpg"' in loaded
    assert REMOTE_SRC_ATTR not in loaded


def test_allow_remote_keeps_remote_images() -> None:
    out = sanitize_html('<img src="https://cdn.example/cat.jpg">', allow_remote=True)
    assert 'src="https://cdn.example/cat.jpg"' in out.html
    assert not out.has_remote_content


@pytest.mark.parametrize(
    "img",
    [
        '<img src="https://t.example/p.gif" width="1" height="1">',
        '<img src="https://t.example/p.gif" width="0" height="0">',
        '<img src="https://t.example/p.gif" height="2px">',
        '<img src="https://pixel.wp.com/g.gif?v=1">',
        '<img src="https://feeds.feedburner.com/~r/blog/~4/abc">',
        '<img src="https://www.google-analytics.com/collect?x=1">',
        '<img src="https://u.sendgrid.net/wf/open?upn=abc">',
        '<img src="https://list.us1.list-manage.com/track/open.php?u=1">',
    ],
)
def test_tracking_pixels_are_removed_even_when_remote_content_is_allowed(img: str) -> None:
    for allow in (False, True):
        out = sanitize_html(f"<p>text</p>{img}", allow_remote=allow)
        assert "<img" not in out.html
        assert out.trackers_removed == 1
        assert not out.has_remote_content


def test_relative_urls_resolve_against_the_base() -> None:
    out = sanitize_html(
        '<a href="../other">o</a><a href="#c">c</a><img src="/i.png">',
        base_url="https://blog.example/posts/1/",
    )
    assert 'href="https://blog.example/posts/other"' in out.html
    assert 'href="https://blog.example/posts/1/#c"' in out.html
    assert out.remote_urls == ("https://blog.example/i.png",)


def test_relative_image_without_a_base_is_dropped_not_loaded_from_disk() -> None:
    out = sanitize_html('<img src="../../etc/passwd" alt="x"><img src="/etc/hosts">')
    assert "passwd" not in out.html
    assert "hosts" not in out.html


def test_inline_images_are_kept() -> None:
    out = sanitize_html('<img src="data:image/png;base64,iVBORw0KGgo="><img src="cid:part1">')
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in out.html
    assert 'src="cid:part1"' in out.html
    assert not out.has_remote_content


def test_text_and_entities_are_preserved() -> None:
    out = sanitize_html("<p>Fish &amp; chips &lt;3 — café “quotes” 日本語</p>")
    assert out.html == "<p>Fish &amp; chips &lt;3 — café “quotes” 日本語</p>"


def test_empty_and_plain_text() -> None:
    assert sanitize_html("").html == ""
    assert sanitize_html("   ").html == ""
    assert sanitize_html("just text").html == "just text"


_FRAGMENTS = st.sampled_from(
    [
        "<script>",
        "</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:x">',
        "</a>",
        "<style>",
        "<svg>",
        "<math>",
        "<p>",
        "</p>",
        "<!--",
        "-->",
        '"',
        "'",
        "<",
        ">",
        "&",
        "<iframe>",
        "<noscript>",
        "<textarea>",
        "</textarea>",
        "<title>",
        "<img src=https://x.example/a.png>",
        "<![CDATA[",
        "]]>",
        "javascript:",
        "text",
        " onload=",
        "<table>",
        "<td>",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=25).map("".join))
def test_any_mix_of_nasty_fragments_is_safe_and_stable(html: str) -> None:
    out = sanitize_html(html)
    assert_safe(out)
    again = sanitize_html(out.html)
    assert_safe(again)
