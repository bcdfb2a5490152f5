"""`focusdesk doctor`: versions, device and why, model, data dir and counts."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = sub.add_parser("doctor", help="versions, device, model, data dir and counts")
    doctor.add_argument("--json", action="store_true")
    doctor.add_argument("--no-model", action="store_true", help="don't load the model")
    doctor.add_argument(
        "--repair",
        action="store_true",
        help="point desktop entries whose program is gone at this installation",
    )
    doctor.set_defaults(handler=run)


def run(fd: FocusDesk, args: argparse.Namespace) -> int:
    from focusdesk import desktop_entry

    report = fd.doctor(load_model=not args.no_model)
    if args.repair:
        for path in desktop_entry.repair():
            print(f"Repaired {path}: it now starts {desktop_entry.launcher()[0]}")
    states = desktop_entry.check()
    report["desktop_entries"] = [s.describe() for s in states] or "none installed"
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    width = max(len(k) for k in report)
    for key, value in report.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k:<22} {v}")
        elif isinstance(value, list):
            print(f"{key}:")
            for line in value:
                print(f"  {line}")
        else:
            print(f"{key:<{width}}  {value}")
    return 0
