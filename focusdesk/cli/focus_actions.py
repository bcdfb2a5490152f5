"""The `focus` actions beyond `plan`: run a block, steer it, schedule blocks, calendars.

``focus start|stop|status|pause|resume|extend|item``, ``focus blocks add|list|edit|remove``,
``focus schedules list|sync|review``, ``focus export-ics FILE``, ``focus import-ics FILE``.
Registered by ``focusdesk.cli.focus``; nothing here imports Qt.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from focusdesk.errors import KnownError

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk
    from focusdesk.focus.records import BlockInfo, Overlap, SessionView

ACTIONS = (
    "start",
    "stop",
    "status",
    "pause",
    "resume",
    "extend",
    "item",
    "blocks",
    "schedules",
    "export-ics",
    "import-ics",
)
OUTCOME_WORDS = {"done": "done", "skip": "skipped", "snooze": "snoozed", "open": "open"}


def _goal_option(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--goal", type=int, action="append", metavar="ID", dest="goals", help=help_text)


def _block_options(p: argparse.ArgumentParser, *, adding: bool) -> None:
    p.add_argument("--at", metavar="HH:MM", required=adding, help="local start time")
    p.add_argument(
        "--minutes",
        type=int,
        default=90 if adding else None,
        metavar="M",
        help="length" + (" (default 90)" if adding else ""),
    )
    when = p.add_mutually_exclusive_group()
    when.add_argument(
        "--days",
        metavar="DAYS",
        help="days of the week: mon,wed,fri | weekdays | weekends | daily"
        + (" (default weekdays)" if adding else ""),
    )
    when.add_argument(
        "--rrule", metavar="RULE", help="an RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=TU"
    )
    _goal_option(p, "rank against this goal only (repeat for several; default: all active)")
    p.add_argument("--top", type=int, metavar="K", help="how many items (default: settings)")
    p.add_argument("--tz", metavar="ZONE", help="IANA time zone (default: this computer's)")
    p.add_argument("--from", dest="starts_on", metavar="YYYY-MM-DD", help="first day")


def register_actions(fsub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the actions to the `focus` sub-parsers."""
    start = fsub.add_parser("start", help="start a focus block now")
    start.add_argument("--minutes", type=int, default=90, metavar="M", help="length (default 90)")
    _goal_option(start, "only this goal (repeat for several)")
    start.add_argument("--top", type=int, metavar="K", help="how many items (default: settings)")
    start.add_argument("--title", help="what to call the block")
    start.add_argument("--json", action="store_true", help="the session as JSON")
    stop = fsub.add_parser("stop", help="end the running focus block now (with its summary)")
    stop.add_argument("--json", action="store_true", help="the ended session as JSON")
    status = fsub.add_parser("status", help="the running block, held items, missed blocks")
    status.add_argument("--json", action="store_true", help="one JSON object")
    fsub.add_parser("pause", help="pause the running block (its countdown stops)")
    fsub.add_parser("resume", help="resume the paused block")
    extend = fsub.add_parser("extend", help="make the running block longer")
    extend.add_argument("minutes", type=int, help="how many more minutes")
    item = fsub.add_parser("item", help="mark an item of the running block")
    item.add_argument("item_id", type=int, metavar="ITEM_ID")
    item.add_argument("outcome", choices=list(OUTCOME_WORDS), help="what became of it")
    item.add_argument("--note", help="a short note")

    blocks = fsub.add_parser("blocks", help="recurring focus blocks")
    bsub = blocks.add_subparsers(dest="blocks_action", metavar="ACTION", required=True)
    badd = bsub.add_parser("add", help="add a recurring block")
    badd.add_argument("title", help="what to call it")
    _block_options(badd, adding=True)
    badd.add_argument("--disabled", action="store_true", help="add it switched off")
    blist = bsub.add_parser("list", help="list the blocks and their next start")
    blist.add_argument("--json", action="store_true", help="one JSON object per line")
    bedit = bsub.add_parser("edit", help="change a block")
    bedit.add_argument("id", type=int)
    bedit.add_argument("--title")
    _block_options(bedit, adding=False)
    onoff = bedit.add_mutually_exclusive_group()
    onoff.add_argument("--enable", dest="enabled", action="store_const", const=True)
    onoff.add_argument("--disable", dest="enabled", action="store_const", const=False)
    brm = bsub.add_parser("remove", help="remove a block (its past sessions stay)")
    brm.add_argument("id", type=int)

    scheds = fsub.add_parser("schedules", help="periodic syncs and the daily review")
    ssub = scheds.add_subparsers(dest="schedules_action", metavar="ACTION", required=True)
    ssub.add_parser("list", help="list the schedules")
    ssync = ssub.add_parser("sync", help="sync a source every few minutes")
    ssync.add_argument("source_id", type=int, metavar="SOURCE_ID")
    ssync.add_argument("--every", type=int, required=True, metavar="M", help="minutes (0: off)")
    sreview = ssub.add_parser("review", help="the daily review's time")
    rgroup = sreview.add_mutually_exclusive_group(required=True)
    rgroup.add_argument("--at", metavar="HH:MM", help="local time")
    rgroup.add_argument("--off", action="store_true", help="no scheduled review")
    sreview.add_argument("--tz", metavar="ZONE", help="IANA time zone")

    export = fsub.add_parser("export-ics", help="write the blocks to an iCalendar file")
    export.add_argument("file", metavar="FILE")
    imp = fsub.add_parser("import-ics", help="read busy times (meetings) from an iCalendar file")
    imp.add_argument("file", metavar="FILE")


def run_action(fd: FocusDesk, args: argparse.Namespace) -> int:
    """Run one of ``ACTIONS``."""
    handler = {
        "start": _start,
        "stop": _stop,
        "status": _status,
        "pause": lambda fd, a: _steer(fd, "pause"),
        "resume": lambda fd, a: _steer(fd, "resume"),
        "extend": lambda fd, a: _steer(fd, "extend", a.minutes),
        "item": _item,
        "blocks": _blocks,
        "schedules": _schedules,
        "export-ics": _export,
        "import-ics": _import,
    }[args.action]
    return int(handler(fd, args))


# -- sessions ---------------------------------------------------------------------------------
def _start(fd: FocusDesk, args: argparse.Namespace) -> int:
    service = fd.focus
    _report_events(service.tick(present=False), service.clock.now())
    session = service.start(
        args.minutes, goal_ids=args.goals or (), top_k=args.top, title=args.title
    )
    if args.json:
        print(json.dumps(session.to_json(service.clock.now()), ensure_ascii=False))
        return 0
    from focusdesk.focus.headless import describe_event
    from focusdesk.focus.records import FocusEvent

    for line in describe_event(FocusEvent("started", session), service.clock.now()):
        print(line)
    if not session.items:
        print("Nothing to focus on yet: add a source and a goal, then run `focusdesk sync`.")
    _print_overlaps(service.session_overlaps(session))
    return 0


def _stop(fd: FocusDesk, args: argparse.Namespace) -> int:
    summary = fd.focus.stop()
    if args.json:
        out = summary.session.to_json(summary.session.actual_end or fd.clock.now())
        out["held"] = [_held_json(h) for h in summary.held]
        print(json.dumps(out, ensure_ascii=False))
        return 0
    for line in summary.lines():
        print(line)
    return 0


def _steer(fd: FocusDesk, what: str, minutes: int = 0) -> int:
    service = fd.focus
    if what == "pause":
        s = service.pause()
    elif what == "resume":
        s = service.resume()
    else:
        s = service.extend(minutes)
    now = service.clock.now()
    ends = s.end_at(now).astimezone().strftime("%H:%M")
    state = "paused" if s.state == "paused" else f"running until {ends}"
    print(f"Focus block {s.title!r} is {state}.")
    return 0


def _item(fd: FocusDesk, args: argparse.Namespace) -> int:
    service = fd.focus
    session = service.mark_item(args.item_id, OUTCOME_WORDS[args.outcome])
    if args.note is not None:
        session = service.note_item(args.item_id, args.note)
    item = session.item(args.item_id)
    assert item is not None
    print(f"{item.title[:70]}: {item.outcome}" + (f" — {item.note}" if item.note else ""))
    return 0


def _status(fd: FocusDesk, args: argparse.Namespace) -> int:
    service = fd.focus
    result = service.tick(present=False)  # end what is over, record what was missed
    now = service.clock.now()
    session = service.current()
    held = service.held_items(session) if session is not None else []
    blocks = [b for b in service.list_blocks() if b.next_start is not None]
    upcoming = min(blocks, key=lambda b: b.next_start or now) if blocks else None
    recent_missed = [
        s
        for s in service.recent_sessions(50)
        if s.state == "missed" and (now - s.planned_start).days < 7
    ]
    if args.json:
        out: dict[str, Any] = {
            "session": session.to_json(now) if session else None,
            "held": [_held_json(h) for h in held],
            "next_block": upcoming.to_json() if upcoming else None,
            "missed": [m.to_json(now) for m in recent_missed],
            "ended": [e.session.to_json(now) for e in result.events if e.kind == "ended"],
        }
        print(json.dumps(out, ensure_ascii=False))
        return 0
    _report_events(result, now, kinds=("ended",))
    if session is None:
        print("No focus block is running.")
    else:
        _print_session(session, now)
        if held:
            print(f"Held until the block ends: {len(held)} new item(s)")
            for h in held:
                print(f"  [{h.item_id}] {h.title[:70]} ({h.source_name})")
        _print_overlaps(service.session_overlaps(session))
    if upcoming is not None and upcoming.next_start is not None:
        when = upcoming.next_start.astimezone().strftime("%a %Y-%m-%d %H:%M")
        print(f"Next block: {upcoming.title!r} on {when} ({upcoming.duration_minutes} min).")
    if recent_missed:
        print(f"Missed in the last 7 days: {len(recent_missed)}")
        for m in recent_missed[:10]:
            why = "another block was running" if m.end_reason == "overlapped" else "not running"
            print(f"  {m.planned_start.astimezone():%a %Y-%m-%d %H:%M}  {m.title} ({why})")
        service.mark_announced([m.id for m in recent_missed])
    return 0


def _print_session(s: SessionView, now: datetime) -> None:
    left = int(s.remaining_seconds(now) // 60)
    ends = s.end_at(now).astimezone().strftime("%H:%M")
    state = "paused" if s.state == "paused" else "running"
    print(f"Focus block {s.title!r}: {state}, {left} min left (until {ends}).")
    current = s.current_item
    if current is not None:
        spent = s.item_seconds(current.item_id, now) / 60
        print(f"Now: {current.title[:70]} ({spent:.0f} of {current.planned_minutes} min)")
    for n, i in enumerate(s.items, 1):
        mark = "›" if i.item_id == s.current_item_id else " "
        spent = s.item_seconds(i.item_id, now) / 60
        print(
            f"{mark}{n:>2}. [{i.item_id}] {i.outcome:<7} {spent:>4.0f}/{i.planned_minutes:<3} min"
            f"  {i.title[:60]}"
        )


def _report_events(
    result: Any, now: datetime, kinds: tuple[str, ...] = ("ended", "missed")
) -> None:
    from focusdesk.focus.headless import describe_event

    for event in result.events:
        if event.kind in kinds:
            for line in describe_event(event, now):
                print(line)


def _held_json(h: Any) -> dict[str, Any]:
    return {
        "id": h.item_id,
        "title": h.title,
        "source": h.source_name,
        "received_at": h.received_at.isoformat(),
    }


# -- blocks and schedules ------------------------------------------------------------------------
def _blocks(fd: FocusDesk, args: argparse.Namespace) -> int:
    service = fd.focus
    action = args.blocks_action
    if action == "list":
        blocks = service.list_blocks()
        if args.json:
            for b in blocks:
                print(json.dumps(b.to_json(), ensure_ascii=False))
            return 0
        if not blocks:
            print(
                'No focus blocks yet. Add one with `focusdesk focus blocks add "Deep work" '
                "--at 09:00 --minutes 90 --days weekdays`."
            )
        for b in blocks:
            _print_block(b)
        _print_overlaps(service.overlaps())
        return 0
    if action == "remove":
        service.remove_block(args.id)
        print(f"Removed focus block {args.id}.")
        return 0
    fields: dict[str, Any] = {
        "start_time": args.at,
        "duration_minutes": args.minutes,
        "days": [args.days] if args.days else None,
        "rrule": args.rrule,
        "goal_ids": args.goals,
        "top_k": args.top,
        "timezone": args.tz,
        "starts_on": _date(args.starts_on) if args.starts_on else None,
    }
    if action == "add":
        fields = {k: v for k, v in fields.items() if v is not None}
        block = service.add_block(args.title, enabled=not args.disabled, **fields)
        print(f"Added focus block {block.id}:")
    else:
        block = service.update_block(args.id, title=args.title, enabled=args.enabled, **fields)
        print(f"Changed focus block {block.id}:")
    _print_block(block)
    _print_overlaps(service.overlaps(block.id))
    return 0


def _print_block(b: BlockInfo) -> None:
    state = "" if b.enabled else "  (off)"
    nxt = (
        b.next_start.astimezone().strftime("next %a %Y-%m-%d %H:%M")
        if b.next_start
        else "no more starts"
    )
    goals = ",".join(map(str, b.goal_ids)) or "all"
    top = b.top_k if b.top_k else "default"
    print(
        f"{b.id:>3}  {b.title}{state}\n"
        f"     {b.start_time} {b.timezone}, {b.duration_minutes} min, {b.rrule}; "
        f"goals {goals}, top {top}; {nxt}"
    )


def _print_overlaps(overlaps: list[Overlap]) -> None:
    for o in overlaps[:20]:
        print(f"Warning: {o.describe()}")
    if len(overlaps) > 20:
        print(f"Warning: … and {len(overlaps) - 20} more overlaps with meetings")


def _schedules(fd: FocusDesk, args: argparse.Namespace) -> int:
    service = fd.focus
    action = args.schedules_action
    if action == "sync":
        info = service.set_sync_schedule(args.source_id, args.every or None)
        print(
            f"Source {args.source_id} syncs every {args.every} min."
            if info
            else f"Source {args.source_id} has no periodic sync now."
        )
        return 0
    if action == "review":
        info = service.set_review_schedule(None if args.off else args.at, args.tz)
        print(f"The daily review is at {info.time_of_day}." if info else "No scheduled review.")
        return 0
    schedules = service.list_schedules()
    if not schedules:
        print("No periodic syncs and no daily review are scheduled.")
    for s in schedules:
        what = (
            f"sync source {s.source_id} every {s.interval_minutes} min"
            if s.kind == "sync"
            else f"daily review at {s.time_of_day} {s.timezone}"
        )
        last = s.last_run_at.astimezone().strftime("%Y-%m-%d %H:%M") if s.last_run_at else "never"
        nxt = s.next_run.astimezone().strftime("%Y-%m-%d %H:%M") if s.next_run else "-"
        print(f"{s.id:>3}  {what}; last run {last}, next {nxt}")
    return 0


# -- calendars ------------------------------------------------------------------------------------
def _export(fd: FocusDesk, args: argparse.Namespace) -> int:
    blocks = [b for b in fd.focus.list_blocks() if b.enabled]
    fd.focus.export_ics(args.file)
    print(f"Wrote {len(blocks)} focus block(s) to {args.file}.")
    return 0


def _import(fd: FocusDesk, args: argparse.Namespace) -> int:
    busy = fd.focus.import_busy(args.file)
    print(f"Imported {len(busy)} busy time(s) for the next 90 days from {args.file}.")
    overlaps = fd.focus.overlaps()
    _print_overlaps(overlaps)
    if not overlaps and fd.focus.list_blocks():
        print("No focus block overlaps a meeting in the next 4 weeks.")
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise KnownError(f"{text!r} is not a date; write it as YYYY-MM-DD.") from exc
