from __future__ import annotations

import pytest

from focusdesk.sources.text import (
    clean_for_ranking,
    html_to_text,
    normalise_whitespace,
    strip_quoted_reply,
    strip_signature,
)

# --- html_to_text -----------------------------------------------------------------


def test_html_drops_script_style_and_head() -> None:
    html = (
        "<html><head><title>Page title</title><style>p { color: red }</style></head>"
        "<body><script>alert('x')</script><p>Visible text</p><noscript>nojs</noscript></body>"
        "</html>"
    )
    assert html_to_text(html) == "Visible text"


def test_html_keeps_paragraphs_lines_and_list_items() -> None:
    html = """
    <h1>Quarterly   plan</h1>
    <p>First
       paragraph.</p>
    <p>Line one<br>Line two</p>
    <ul>
      <li>alpha</li>
      <li>beta <b>bold</b></li>
    </ul>
    <div><div>left</div><div>right</div></div>
    """
    assert html_to_text(html) == (
        "Quarterly plan\n\nFirst paragraph.\n\nLine one\nLine two\n\n- alpha\n- beta bold\n\n"
        "left\nright"
    )


def test_html_unescapes_entities_and_collapses_whitespace() -> None:
    assert html_to_text(
        "<p>Fish&nbsp;&amp;&nbsp;chips &lt;today&gt; &#8212; &eacute;t&eacute;</p>"
    ) == ("Fish & chips <today> \u2014 \u00e9t\u00e9")


def test_html_table_cells_and_images() -> None:
    html = "<table><tr><td>Name</td><td>Score</td></tr><tr><td>Ann</td><td>9</td></tr></table>"
    html += '<p><img src="x.png" alt="A chart"> <img src="spacer.gif"></p>'
    assert html_to_text(html) == "Name Score\nAnn 9\n\nA chart"


def test_html_pre_keeps_its_lines() -> None:
    assert html_to_text("<pre>def f():\n    return 1</pre>") == "def f():\nreturn 1"


def test_html_deeply_nested_does_not_overflow() -> None:
    html = "<div>" * 5000 + "deep inside" + "</div>" * 5000
    assert html_to_text(html) == "deep inside"


def test_html_unclosed_comments_take_linear_time() -> None:
    # html.parser looks for the end of every unclosed "<!--" again: 200 KB took minutes.
    import time

    html = "<p>Kept</p>" + "<!--" * 50_000
    start = time.perf_counter()
    assert html_to_text(html) == "Kept"
    assert time.perf_counter() - start < 5  # about 0.05 s; was over 60 s
    assert html_to_text("a<!-- hidden -->b<!-- x --><!--y") == "ab"


def test_html_empty_and_broken() -> None:
    assert html_to_text("") == ""
    assert html_to_text("   ") == ""
    assert html_to_text("<p>unclosed <b>bold <i>both") == "unclosed bold both"
    assert html_to_text("<!-- only a comment -->") == ""


# --- normalise_whitespace --------------------------------------------------------------


def test_normalise_whitespace() -> None:
    text = "  Hello\u00a0\u00a0 world \r\n\r\n\r\n\r\nNext\tline\x00\u200b  \rLast  "
    assert normalise_whitespace(text) == "Hello world\n\nNext line\nLast"
    assert normalise_whitespace("") == ""
    assert normalise_whitespace(" \n\t ") == ""


# --- strip_quoted_reply --------------------------------------------------------------


def test_quoted_lines_and_gmail_attribution_removed() -> None:
    text = (
        "Sounds good, see you Friday.\n"
        "\n"
        "On Mon, 4 Mar 2024 at 10:02, Ann Lee <ann@example.com> wrote:\n"
        "> Shall we meet on Friday?\n"
        "> Ann\n"
    )
    assert strip_quoted_reply(text) == "Sounds good, see you Friday."


def test_attribution_wrapped_over_two_lines_removed() -> None:
    text = (
        "Agreed.\n\nOn Mon, Mar 4, 2024 at 10:02 AM Ann Lee <\nann@example.com> wrote:\n\n> Plan?\n"
    )
    assert strip_quoted_reply(text) == "Agreed."


def test_usenet_attributions_removed_interleaved_reply_kept() -> None:
    text = (
        "In article <1993Apr5.1234@cs.example.edu>, joe@example.edu (Joe) writes:\n"
        ">I think the Sabres will win.\n"
        "|> Nested older quote\n"
        "\n"
        "No chance, their defence is too weak.\n"
        "\n"
        "smith@example.org writes:\n"
        "> Goalie is key.\n"
        "Right about that.\n"
    )
    assert strip_quoted_reply(text) == "No chance, their defence is too weak.\n\nRight about that."


def test_newsreader_quote_marks_after_an_attribution() -> None:
    text = (
        "In article <1r19l9$7dv@usenet.example.edu> oldham@example.edu (Dan) writes:\n"
        ":What happened is not their fault.\n"
        ":\n"
        "} older quote\n"
        "I disagree: the raid was planned badly.\n"
    )
    assert strip_quoted_reply(text) == "} older quote\nI disagree: the raid was planned badly."
    assert strip_quoted_reply(":colon line\nplain") == ":colon line\nplain"  # no attribution


def test_usenet_attribution_removed_even_before_indented_quote() -> None:
    text = (
        "In article <6ZV8@theporch.example.net> gene@example.net (Gene) writes:\n\n"
        "   Announce a reward for a moon base.\n\n"
        "From article <1993Apr15@x.edu>, by t@x.edu (T):\n"
        "Good idea."
    )
    assert strip_quoted_reply(text) == "   Announce a reward for a moon base.\n\nGood idea."


def test_attribution_like_line_without_quote_is_kept() -> None:
    text = "The reviewer wrote:\nthe method is sound and the results are convincing."
    assert strip_quoted_reply(text) == text


def test_outlook_original_message_tail_removed() -> None:
    text = (
        "Please find the figures attached.\n\n"
        "-----Original Message-----\n"
        "From: Bob\nSent: Monday\nSubject: figures\n\nCan you send the figures?\n"
    )
    assert strip_quoted_reply(text) == "Please find the figures attached."


def test_outlook_underscore_rule_with_headers_removed() -> None:
    text = "Done.\n\n________________________________\nFrom: Bob <b@x.org>\nSent: Monday\n\nOld"
    assert strip_quoted_reply(text) == "Done."


def test_underscore_rule_without_headers_kept() -> None:
    text = "Title\n________________________________\nBody text"
    assert strip_quoted_reply(text) == text


# --- strip_signature -----------------------------------------------------------------


def test_signature_cut_at_delimiter() -> None:
    text = "The build is green again.\n\n-- \nAlan Richardson\nUniv. of Sussex\n"
    assert strip_signature(text) == "The build is green again."


def test_signature_delimiter_without_trailing_space() -> None:
    assert strip_signature("Body\n--\nsig") == "Body"


def test_signature_delimiter_far_from_the_end_is_kept() -> None:
    body = "\n".join(f"line {i}" for i in range(30))
    text = "Intro\n-- \n" + body
    assert strip_signature(text) == text


def test_signature_never_empties_the_text() -> None:
    assert strip_signature("-- \nonly a signature") == "-- \nonly a signature"


def test_mobile_footer_and_sign_off_removed() -> None:
    assert strip_signature("On my way.\n\nSent from my iPhone") == "On my way."
    text = "Here is the report you asked for.\n\nBest regards,\nAnn Lee\nACME Corp\n+1 555 0100"
    assert strip_signature(text) == "Here is the report you asked for."


def test_sign_off_followed_by_long_text_is_kept() -> None:
    text = "Thanks,\nthe patch fixes the crash on startup and the tests now pass on all platforms."
    assert strip_signature(text) == text
    assert strip_signature("Thanks!") == "Thanks!"


# --- clean_for_ranking ---------------------------------------------------------------


def test_clean_for_ranking_strips_quote_signature_and_whitespace() -> None:
    text = (
        "Yes,   the  deadline   moved to May.\r\n\r\n\r\n"
        "On Tue, Jan 2, 2024, Bob wrote:\r\n"
        "> Did the deadline move?\r\n"
        "\r\n-- \r\nCarol\r\n"
    )
    assert clean_for_ranking(text) == "Yes, the deadline moved to May."


def test_clean_for_ranking_keeps_a_message_that_is_only_quotes() -> None:
    text = "> forwarded words\n> more words"
    assert clean_for_ranking(text) == text
    assert clean_for_ranking("") == ""


_PAGE = (
    "<html><head><title>T</title><style>p{}</style></head><body><h1>Title &amp; more</h1>"
    "<p>First   para <b>bold</b> text.</p><div>line one<br>line two</div>"
    "<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table>"
    '<img src="x.png" alt="a chart"><script>var x=1;</script><p>end</p></body></html>'
)


def test_html_past_the_tree_limit_reads_as_the_tree_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from focusdesk.sources import text

    as_tree = html_to_text(_PAGE)
    assert as_tree == (
        "Title & more\n\nFirst para bold text.\n\nline one\nline two\n\n- one\n- two"
        "\n\na b\n\na chart\n\nend"
    )
    monkeypatch.setattr(text, "MAX_TREE_TAGS", 0)  # the flat pass for any size
    assert html_to_text(_PAGE) == as_tree


@pytest.mark.parametrize(
    "html",
    ["<div>" * 200_000, "<b>" * 330_000, "<td>x" * 200_000, "<a<a" * 250_000],
    ids=["bare div", "unclosed b", "cells", "tag openers"],
)
def test_a_megabyte_of_tags_is_read_in_bounded_time(html: str) -> None:
    import time

    start = time.process_time()
    html_to_text(html)
    # CPU seconds (not wall time, which a loaded machine stretches): the tree took 2-3 s.
    assert time.process_time() - start < 2.0
