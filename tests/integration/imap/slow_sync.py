"""``focusdesk`` (tests/fault_runner.py) with the IMAP fetch slowed down, so a test can
kill it mid-fetch.

Test-only: small FETCH batches ($FOCUSDESK_TEST_IMAP_BATCH, default 20) and a pause
before each ($FOCUSDESK_TEST_IMAP_DELAY seconds, default 0.1). Everything else is the
real command line.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from focusdesk.sources.imap import ImapIngester

_real_fetch_batch = ImapIngester._fetch_batch
_delay = float(os.environ.get("FOCUSDESK_TEST_IMAP_DELAY", "0.1"))


def _slow_fetch_batch(self: ImapIngester, *args: Any, **kwargs: Any) -> Iterator[Any]:
    time.sleep(_delay)
    yield from _real_fetch_batch(self, *args, **kwargs)


ImapIngester.batch_size = int(os.environ.get("FOCUSDESK_TEST_IMAP_BATCH", "20"))
ImapIngester._fetch_batch = _slow_fetch_batch  # type: ignore[method-assign]

if __name__ == "__main__":
    from fault_runner import main

    sys.exit(main(sys.argv[1:]))
