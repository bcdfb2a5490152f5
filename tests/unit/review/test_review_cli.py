"""`focusdesk review` end to end through the CLI with --data-dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from calibrated import calibrate, serve
from review_helpers import GARDEN, GOAL, NOTES

from focusdesk.cli import main


def make_cli_profile(tmp_path: Path) -> Path:
    data = tmp_path / "cli-profile"
    vault = tmp_path / "vault"
    vault.mkdir()
    for name, text in NOTES.items():
        (vault / name).write_text(text, "utf-8")
    from fakes import FakeEncoder

    from focusdesk.app import FocusDesk
    from focusdesk.paths import resolve_paths

    desk = FocusDesk(resolve_paths(data), encoder=FakeEncoder())  # type: ignore[arg-type]
    desk.sources.add("notes", str(vault), name="Notes")
    desk.goals.add(GOAL)
    desk.sources.sync()
    desk.close()
    return data


def test_cli_review_markdown_and_html(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    from fakes import FakeEncoder

    import focusdesk.app

    data = make_cli_profile(tmp_path)
    real_init = focusdesk.app.FocusDesk.__init__

    def init(self: Any, paths: Any, settings: Any = None, encoder: Any = None) -> None:
        real_init(self, paths, settings, encoder or FakeEncoder())

    monkeypatch.setattr(focusdesk.app.FocusDesk, "__init__", init)
    calibrate(monkeypatch, serve(GOAL, *GARDEN))
    assert main(["--data-dir", str(data), "review", "--since", "7d"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Review ")
    assert "Tomato garden plan" in out
    target = tmp_path / "review.html"
    code = main(
        [
            "--data-dir",
            str(data),
            "review",
            "--since",
            "1d",
            "--format",
            "html",
            "--output",
            str(target),
        ]
    )
    assert code == 0
    page = target.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert (data / "review_state.json").exists()
    assert main(["--data-dir", str(data), "review", "--since", "nonsense"]) == 1
    assert "not a period" in capsys.readouterr().err
