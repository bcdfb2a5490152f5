"""IMAP sync throughput against a throwaway local Dovecot, and Maildir corpus counts.

    python scripts/bench_imap.py [--mbox ../shared/data/newsgroups-dev/inbox.mbox]

Appends every message of the mbox to a fresh Dovecot user (loopback, TLS), then times
the fetch + store part of a sync (``sync_source``: no chunking, no encoder) and an
incremental re-sync with nothing new. Needs root and dovecot-imapd (as the IMAP tests).
Also prints how many files of the Maildir corpora become items or counted failures.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO / "tests" / "integration" / "imap"))


def split_mbox(path: Path) -> list[bytes]:
    from focusdesk.sources.mbox import _split_mbox

    with path.open("rb") as fh:
        return list(_split_mbox(fh))


def bench_imap(mbox: Path) -> None:
    from dovecot_server import Dovecot, ensure_mail_user

    from focusdesk.app import FocusDesk
    from focusdesk.sources.base import RawItem
    from focusdesk.sources.imap import ImapIngester, account_from_source
    from focusdesk.sync import sync_source

    messages = split_mbox(mbox)
    ensure_mail_user()
    root = Path(tempfile.mkdtemp(prefix="focusdesk-dovecot-bench-"))
    server = Dovecot(root)
    profile = Path(tempfile.mkdtemp(prefix="focusdesk-bench-profile-"))
    try:
        server.start()
        user = server.add_user()
        started = time.perf_counter()
        server.append(user, messages)
        print(f"appended {len(messages)} messages in {time.perf_counter() - started:.1f} s")

        uri, config = server.source(user)
        fd = FocusDesk.open(profile)
        try:
            fd.sources.passwords.set(user.name, server.host, config["port"], user.password)
            # Fetch + parse only (no store), for the breakdown.
            ingester = ImapIngester(account_from_source(uri, config), fd.sources.passwords)
            started = time.perf_counter()
            n = sum(1 for r in ingester.scan({}) if isinstance(r, RawItem))
            scan_s = time.perf_counter() - started
            print(
                f"fetch+parse: {n} messages in {scan_s:.2f} s = {n / scan_s:.0f} msg/s "
                f"({ingester.stats.fetch_commands} FETCH commands)"
            )
            sid = fd.sources.add("imap", uri, config=config).id
            started = time.perf_counter()
            report = sync_source(fd.store, sid, passwords=fd.sources.passwords, clock=fd.clock)
            sync_s = time.perf_counter() - started
            print(
                f"fetch+store (sync_source): {report.added} added, {report.failed} failed in "
                f"{sync_s:.2f} s = {report.added / sync_s:.0f} msg/s"
            )
            started = time.perf_counter()
            again = sync_source(fd.store, sid, passwords=fd.sources.passwords, clock=fd.clock)
            print(
                f"incremental re-sync, nothing new: {again.added} added in "
                f"{time.perf_counter() - started:.2f} s"
            )
        finally:
            fd.close()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)


def maildir_counts() -> None:
    from focusdesk.sources.base import IngestFailure, RawItem
    from focusdesk.sources.maildir import MaildirIngester

    corpus = SHARED / "corpora" / "mail"
    results = list(MaildirIngester(corpus / "maildir").scan({}))
    ok = sum(isinstance(r, RawItem) for r in results)
    bad = sum(isinstance(r, IngestFailure) for r in results)
    print(f"maildir corpus: {ok} ingested, {bad} failed")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for sub in ("cur", "new", "tmp"):
            (root / sub).mkdir()
        files = sorted((corpus / "eml").rglob("*.eml"))
        for n, path in enumerate(files):
            shutil.copyfile(path, root / "cur" / f"{1700000000 + n}.M{n}P1.bench:2,S")
        results = list(MaildirIngester(root).scan({}))
        ok = sum(isinstance(r, RawItem) for r in results)
        bad = sum(isinstance(r, IngestFailure) for r in results)
        print(f"eml corpus as a Maildir: {ok} ingested, {bad} failed of {len(files)} files")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mbox", type=Path, default=SHARED / "newsgroups-dev" / "inbox.mbox")
    parser.add_argument("--no-imap", action="store_true", help="only the Maildir counts")
    args = parser.parse_args()
    if not args.no_imap:
        bench_imap(args.mbox)
    maildir_counts()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
