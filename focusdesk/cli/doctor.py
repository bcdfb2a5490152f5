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
    doctor.set_defaults(handler=run)


def run(fd: FocusDesk, args: argparse.Namespace) -> int:
    report = fd.doctor(load_model=not args.no_model)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    width = max(len(k) for k in report)
    for key, value in report.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k:<22} {v}")
        else:
            print(f"{key:<{width}}  {value}")
    return 0
