"""Markdown notes rendered as safe HTML: Obsidian's syntax, and nothing unsafe gets through."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from focusdesk.sources.note_html import MAX_RENDERED_CHARS, render_note, wikilink_href


def test_headings_emphasis_code_tables_and_links() -> None:
    out = render_note(
        "# Title\n\nSome **bold**, *em*, ~~gone~~ and `code`.\n\n"
        "```python\nprint(1)\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "[site](https://example.org) and <https://example.com>\n"
    ).html
    assert "<h1>Title</h1>" in out
    assert "<strong>bold</strong>" in out
    assert "<em>em</em>" in out
    assert "<s>gone</s>" in out
    assert "<code>code</code>" in out
    assert "<pre><code" in out
    assert '<table border="1"' in out  # a data table gets rules
    assert "<td>2</td>" in out
    assert 'href="https://example.org"' in out


def test_tab_indented_lists_nest() -> None:
    out = render_note("- one\n\t- two\n\t\t- three\n- four\n").html
    assert out.count("<ul>") == 3
    assert "<li>three</li>" in out


def test_single_newlines_are_line_breaks_as_in_obsidian() -> None:
    assert "<br" in render_note("first line\nsecond line").html


@pytest.mark.parametrize(
    ("source", "href", "shown"),
    [
        ("[[Kyoto]]", "Kyoto", "Kyoto"),
        ("[[Places/Kyoto|the old capital]]", "Places/Kyoto", "the old capital"),
        ("[[Kyoto#Temples]]", "Kyoto#Temples", "Kyoto › Temples"),
        ("[[Kyoto#^block1|see]]", "Kyoto#^block1", "see"),
        ("[[2023 Japan Trip]]", "2023%20Japan%20Trip", "2023 Japan Trip"),
    ],
)
def test_wikilinks_become_relative_links(source: str, href: str, shown: str) -> None:
    out = render_note(f"Go to {source}.").html
    assert f'<a href="{href}" rel="noopener noreferrer">{shown}</a>' in out
    assert "[[" not in out


def test_wikilinks_in_code_stay_text() -> None:
    out = render_note("`[[not a link]]`").html
    assert "<code>[[not a link]]</code>" in out


def test_embeds_are_named_not_loaded() -> None:
    out = render_note("![[photo.png]] ![[Books.base]]").html
    assert "[image: photo.png]" in out
    assert "<img" not in out
    assert '<a href="Books.base"' in out


def test_callouts_are_boxes_with_their_title_and_no_markers() -> None:
    out = render_note("> [!warning]- Mind the *gap*\n> Stand back.\n\n> plain quote\n").html
    assert "[!warning]" not in out
    assert "Mind the <em>gap</em>" in out
    assert "<p>Stand back.</p>" in out
    assert "background-color:#ec7500" in out  # the warning colour
    assert "<blockquote>" in out  # the ordinary quote stays a quote


def test_a_callout_without_title_is_named_by_its_type_and_nests() -> None:
    out = render_note("> [!tip]\n> outer\n> > [!bug] inner\n> > deep\n").html
    assert "Tip</b>" in out
    assert "inner</b>" in out
    assert "deep" in out
    assert out.count("<table") == 2


def test_a_callout_in_a_list_is_a_quote_with_a_bold_title() -> None:
    out = render_note("- item\n\n  > [!note] Aside\n  > text\n").html
    assert "<blockquote><p><b>Aside</b></p>" in out
    assert "[!note]" not in out


def test_tasks_get_check_boxes() -> None:
    out = render_note("- [ ] todo\n- [x] done\n").html
    assert "☐ todo" in out
    assert "☑ done" in out


def test_comments_are_hidden() -> None:
    assert "secret" not in render_note("Visible %%secret%% text").html


def test_front_matter_is_a_properties_table_with_links() -> None:
    fm = {
        "categories": ["[[Trips]]"],
        "start": "2023-09-12",
        "url": "https://minimal.guide",
        "tags": ["travel", "#japan"],
        "empty": None,
        "done": True,
    }
    out = render_note("Body", fm).html
    assert out.index("Properties") < out.index("Body")
    assert '<a href="Trips" rel="noopener noreferrer">Trips</a>' in out
    assert '<a href="https://minimal.guide"' in out
    assert "#travel, #japan" in out
    assert "empty" not in out
    assert "☑" in out


def test_a_body_that_still_has_its_front_matter_shows_it_as_properties() -> None:
    out = render_note("---\ntitle: Hello\nowner: Priya\n---\n# Heading\n").html
    assert "---" not in out
    assert "owner: Priya" not in out
    assert "Properties" in out
    assert "Priya" in out
    assert "Hello" not in out  # the title is the reader's heading already
    assert "<h1>Heading</h1>" in out


def test_unsafe_html_in_a_note_is_sanitised_and_remote_images_held() -> None:
    out = render_note(
        '<script>alert(1)</script>\n\n<b onclick="x()">b</b> [x](javascript:alert(1))\n\n'
        "![chart](https://example.org/c.png)\n\n"
        '> [!info] <img src="https://t.example/p.gif" onerror="x()">\n> body\n'
    )
    assert "<script" not in out.html
    assert "onclick" not in out.html
    assert "onerror" not in out.html
    assert 'href="javascript' not in out.html
    assert 'data-remote-src="https://example.org/c.png"' in out.html
    assert out.has_remote_content
    assert out.remote_urls[0] == "https://example.org/c.png"


def test_a_huge_note_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="too long"):
        render_note("x" * (MAX_RENDERED_CHARS + 1))


def test_wikilink_href_quotes_what_a_url_cannot_hold() -> None:
    assert wikilink_href("A & B?", "Sec 1") == "A%20%26%20B%3F#Sec%201"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \n\t#>-*[]!|`<>=%:")), max_size=200))
def test_any_markdown_renders_without_scripts(text: str) -> None:
    out = render_note(text + "\n<script>x</script>").html
    assert "<script" not in out
