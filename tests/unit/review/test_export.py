"""Export: Markdown and self-contained HTML (no scripts, no remote loads), charts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from calibrated import calibrate, serve
from review_helpers import GARDEN, GOAL

from focusdesk.review.assemble import assemble_review
from focusdesk.review.export import focus_chart_png, sn_chart_png, to_html, to_markdown
from focusdesk.review.stats import GoalFocus, SourceSignal


def test_html_is_self_contained(profile: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calibrate(monkeypatch, serve(GOAL, *GARDEN))
    now = datetime.now(UTC)
    review = assemble_review(profile, now - timedelta(days=1), now + timedelta(minutes=1))
    review.focus = [GoalFocus(1, "garden", 30, 20, {"2026-11-21": 20.0})]
    page = to_html(review)
    assert "<script" not in page.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert "url(" not in page.lower()
    assert "@import" not in page.lower()
    assert page.count("data:image/png;base64,") == 2
    assert "Tomato garden plan" in page


def test_markdown_has_groups_summaries_and_totals(
    profile: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calibrate(monkeypatch, serve(GOAL, *GARDEN))
    now = datetime.now(UTC)
    review = assemble_review(profile, now - timedelta(days=1), now + timedelta(minutes=1))
    md = to_markdown(review)
    assert md.startswith("# Review ")
    assert "## tomato garden compost planting" in md
    assert "**Tomato garden plan**" in md
    assert "## Sources: signal to noise" in md


def test_charts_are_png() -> None:
    png = focus_chart_png([GoalFocus(1, "g", 10, 5, {"2026-11-20": 5.0})], ["2026-11-20"])
    assert png is not None
    assert png.startswith(b"\x89PNG")
    sn = sn_chart_png([SourceSignal(1, "s", 4, 1)])
    assert sn is not None
    assert sn.startswith(b"\x89PNG")
    assert focus_chart_png([], []) is None


def test_export_says_how_many_matched_a_goal_weakly(
    profile: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calibrate(monkeypatch, serve(GOAL, *GARDEN))
    now = datetime.now(UTC)
    review = assemble_review(profile, now - timedelta(days=1), now + timedelta(minutes=1))
    assert review.groups[0].weak == 4  # the tax and guitar notes
    assert "- _4 more matched this goal weakly_" in to_markdown(review)
    assert '<p class="weak">4 more matched this goal weakly</p>' in to_html(review)
