"""Fixtures of the integration tests (the IMAP ones have their own, in imap/)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_runner import focusdesk  # noqa: E402
from faults import FAKE, Golden, copy_profile, make_sources, new_profile, snapshot  # noqa: E402
from feed_server import running_server  # noqa: E402


@pytest.fixture(scope="session")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Golden]:
    """Notes, an mbox, a Maildir and a served feed, synced once without a fault (the
    fake encoder); the feed server stays up for the whole session."""
    tmp = tmp_path_factory.mktemp("faults")
    with running_server() as server:
        base = new_profile(tmp / "base", make_sources(tmp, server))
        profile = copy_profile(base, tmp / "golden")
        points_file = tmp / "points"
        env = {**FAKE, "FOCUSDESK_TEST_POINTS_FILE": str(points_file)}
        assert "0 failed" in focusdesk(profile, "sync", "--no-progress", env=env).stdout
        yield Golden(base, profile, int(points_file.read_text()), snapshot(profile))
