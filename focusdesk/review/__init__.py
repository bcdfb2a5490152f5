"""The review: a period's items by goal, stories, extractive summaries, focus time, S/N."""

from __future__ import annotations

from focusdesk.review.assemble import Review, assemble_review, resolve_period, review_period

__all__ = ["Review", "assemble_review", "resolve_period", "review_period"]
