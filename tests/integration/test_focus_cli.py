"""`focusdesk focus ...` as a user types it (in-process, the fake encoder, a fake clock)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from fakes import FakeEncoder
from focus_fixtures import add_note, berlin, make_vault, seed
from icalendar import Calendar

from focusdesk.app import FocusDesk
from focusdesk.cli import main
from focusdesk.paths import resolve_paths


@pytest.fixture
def cli(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``cli(*args) -> (exit code, stdout, stderr)`` on the test profile, fake encoder."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data_dir), *args], encoder=FakeEncoder())  # type: ignore[arg-type]
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Monday 23 November 2026, 07:00 in Berlin, and Berlin the local time zone."""
    with time_machine.travel(berlin(2026, 11, 23, 7, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def vault(tmp_path: Path, data_dir: Path, clock: time_machine.Traveller) -> Path:
    root = make_vault(tmp_path / "vault")
    desk = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder())  # type: ignore[arg-type]
    try:
        seed(desk, root)
    finally:
        desk.close()
    return root


def test_blocks_add_list_edit_remove_and_export(
    cli: object, vault: Path, tmp_path: Path, clock: time_machine.Traveller
) -> None:
    run = cli  # type: ignore[assignment]
    code, out, _ = run(
        "focus", "blocks", "add", "Deep work", "--at", "09:00", "--minutes", "90",
        "--days", "mon,wed,fri", "--goal", "1", "--top", "3", "--tz", "Europe/Berlin",
    )  # fmt: skip
    assert code == 0
    assert "Added focus block 1" in out
    assert "09:00 Europe/Berlin, 90 min, FREQ=WEEKLY;BYDAY=MO,WE,FR" in out
    code, out, _ = run(
        "focus", "blocks", "add", "Planning", "--at", "14:00", "--minutes", "60",
        "--rrule", "FREQ=MONTHLY;BYDAY=1MO", "--tz", "Europe/Berlin",
    )  # fmt: skip
    assert code == 0
    code, out, _ = run("focus", "blocks", "list", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["title"] for r in rows] == ["Deep work", "Planning"]
    starts = [datetime.fromisoformat(r["next_start"]) for r in rows]
    assert starts == [berlin(2026, 11, 23, 9), berlin(2026, 12, 7, 14)]

    code, out, _ = run("focus", "blocks", "edit", "2", "--at", "15:30", "--disable")
    assert code == 0
    assert "(off)" in out
    code, out, _ = run("focus", "export-ics", str(tmp_path / "blocks.ics"))
    assert code == 0
    assert "Wrote 1 focus block(s)" in out
    cal = Calendar.from_ical((tmp_path / "blocks.ics").read_bytes())
    (event,) = cal.walk("VEVENT")
    assert dict(event["RRULE"]) == {"FREQ": ["WEEKLY"], "BYDAY": ["MO", "WE", "FR"]}

    code, out, _ = run("focus", "blocks", "remove", "2")
    assert code == 0
    assert "Removed focus block 2" in out
    code, _, err = run("focus", "blocks", "remove", "2")
    assert code == 1
    assert "no focus block with id 2" in err
    code, _, err = run("focus", "blocks", "add", "Bad", "--at", "9", "--rrule", "FREQ=HOURLY")
    assert code == 1
    assert "at most once a day" in err


def test_start_status_item_pause_extend_stop(
    cli: object, vault: Path, clock: time_machine.Traveller
) -> None:
    run = cli  # type: ignore[assignment]
    code, out, _ = run("focus", "start", "--minutes", "60", "--goal", "1", "--json")
    assert code == 0
    session = json.loads(out)
    assert session["state"] == "running"
    assert sum(i["planned_minutes"] for i in session["items"]) == 60
    first = session["items"][0]["item_id"]

    code, _, err = run("focus", "start")
    assert code == 1
    assert "already running" in err

    clock.move_to(berlin(2026, 11, 23, 7, 20))
    code, out, _ = run("focus", "item", str(first), "done", "--note", "rollback verified")
    assert code == 0
    assert "done — rollback verified" in out
    add_note(vault, "new.md", "# Vendor update\n\nNew BLE stack release notes.")
    assert run("sync")[0] == 0
    code, out, _ = run("focus", "status")
    assert "running, 40 min left" in out
    assert "Held until the block ends: 1 new item(s)" in out
    assert "Vendor update" in out

    assert "paused" in run("focus", "pause")[1]
    clock.move_to(berlin(2026, 11, 23, 7, 30))
    assert "running until 08:10" in run("focus", "resume")[1]
    assert "running until 08:25" in run("focus", "extend", "15")[1]

    code, out, _ = run("focus", "stop")
    assert code == 0
    assert "ended (ended early)" in out
    assert "1 new item(s) arrived during the block" in out
    assert "Vendor update" in out
    assert "rollback verified" in out
    code, out, _ = run("focus", "status", "--json")
    status = json.loads(out)
    assert status["session"] is None
    assert status["held"] == []


def test_status_records_missed_blocks_and_ends_finished_ones(
    cli: object, vault: Path, clock: time_machine.Traveller
) -> None:
    run = cli  # type: ignore[assignment]
    run("focus", "blocks", "add", "Deep work", "--at", "09:00", "--tz", "Europe/Berlin")
    clock.move_to(berlin(2026, 11, 23, 12, 0))
    code, out, _ = run("focus", "status")
    assert "No focus block is running." in out
    assert "Missed in the last 7 days: 1" in out
    assert "Deep work (not running)" in out
    assert "Next block: 'Deep work' on Tue 2026-11-24" in out


def test_import_ics_warns_about_meetings(
    cli: object, vault: Path, tmp_path: Path, clock: time_machine.Traveller
) -> None:
    run = cli  # type: ignore[assignment]
    run("focus", "blocks", "add", "Deep work", "--at", "09:00", "--days", "mon",
        "--tz", "Europe/Berlin")  # fmt: skip
    ics = tmp_path / "meetings.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:m1\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Board meeting\r\n"
        "DTSTART;TZID=Europe/Berlin:20261130T100000\r\n"
        "DTEND;TZID=Europe/Berlin:20261130T110000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    code, out, _ = run("focus", "import-ics", str(ics))
    assert code == 0
    assert "Imported 1 busy time(s)" in out
    assert "Warning: 'Deep work' on Mon 2026-11-30" in out
    assert "'Board meeting'" in out
    code, _, err = run("focus", "import-ics", str(tmp_path / "missing.ics"))
    assert code == 1
    assert "Could not read" in err


def test_schedules(cli: object, vault: Path, clock: time_machine.Traveller) -> None:
    run = cli  # type: ignore[assignment]
    assert "syncs every 30 min" in run("focus", "schedules", "sync", "1", "--every", "30")[1]
    assert "18:00" in run("focus", "schedules", "review", "--at", "18:00", "--tz", "UTC")[1]
    out = run("focus", "schedules", "list")[1]
    assert "sync source 1 every 30 min; last run never" in out
    assert "daily review at 18:00 UTC" in out
    assert "no periodic sync" in run("focus", "schedules", "sync", "1", "--every", "0")[1]
