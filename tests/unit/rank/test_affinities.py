"""The learnt affinities in plain Python: ``priors.json`` (the layout before the one
ranking model) and the sender key they are kept under."""

from __future__ import annotations

from pathlib import Path

from focusdesk.rank.affinities import Priors, sender_key


def test_priors_round_trip(tmp_path: Path) -> None:
    p = Priors({3: 0.1}, {"ann@example.com": -0.2})
    p.save(tmp_path / "priors.json")
    assert Priors.load(tmp_path / "priors.json") == p
    assert Priors.load(tmp_path / "missing.json") == Priors()


def test_sender_key() -> None:
    assert sender_key("Ann Lee <Ann@Example.com>") == "ann@example.com"
    assert sender_key("bob@example.org") == "bob@example.org"
    assert sender_key(None) == ""
