"""Review test helpers: notes on three topics and one goal, synced with the fake encoder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NOTES = {
    "garden-tomatoes.md": (
        "# Tomato garden plan\n\n"
        "Water the tomato plants every morning. The garden soil needs compost before "
        "planting tomatoes. Dr. Smith said tomato seedlings like warm soil, e.g. 20 degrees.\n"
    ),
    "garden-roses.md": (
        "# Rose garden pruning\n\n"
        "Prune the garden roses in early spring. Garden compost helps roses and tomato beds.\n"
    ),
    "garden-herbs.md": (
        "# Herb garden notes\n\nPlant basil in garden compost next to the tomato plants. "
        "Garden planting tips.\n"
    ),
    "tax-return.md": (
        "# Tax return\n\nFile the income tax return before April. Collect receipts for the "
        "accountant.\n"
    ),
    "tax-invoices.md": "# Invoices\n\nSend invoices to clients; keep copies for tax season.\n",
    "guitar-practice.md": (
        "# Guitar practice\n\nPractice guitar scales for thirty minutes. Learn the new chord "
        "progression on the guitar.\n"
    ),
    "guitar-strings.md": (
        "# Guitar strings\n\nBuy new guitar strings, a capo and a tuner for practice.\n"
    ),
}


GOAL = "tomato garden compost planting"
GARDEN = ("Tomato garden plan", "Rose garden pruning", "Herb garden notes")
"""The notes that serve GOAL."""


def make_profile(desk: Any, root: Path, notes: dict[str, str] | None = None) -> None:
    """Write the notes into a vault, add it as a source, add a gardening goal and sync."""
    vault = root / "vault"
    vault.mkdir(parents=True, exist_ok=True)
    for name, text in (notes or NOTES).items():
        (vault / name).write_text(text, "utf-8")
    desk.sources.add("notes", str(vault), name="Notes")
    desk.goals.add(GOAL)
    desk.sources.sync()
