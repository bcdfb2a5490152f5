"""Focus blocks, sessions and schedules (no Qt here).

Tables (our own, the source of truth; APScheduler's jobs are rebuilt from them):

- ``focus_blocks``: recurring deep-work blocks — an RFC 5545 RRULE (days of the week
  become ``FREQ=WEEKLY;BYDAY=...``), a local start time in the block's IANA time
  zone, a length, goals, how many items, and ``handled_until``: the watermark
  below which every occurrence was started or recorded as missed.
- ``schedules``: the other periodic jobs, one row each — ``sync`` of one source every
  N minutes, and the daily ``review`` at a local time — with ``last_run_at``. Blocks
  have a table of their own because they carry much more (goals, top-k, RRULE).
- ``focus_sessions`` / ``focus_session_items``: each block as it happened (running,
  paused, ended) or ``missed``; the plan snapshot, planned vs actual minutes per
  item, outcomes and notes, and ``held_items`` (ids of the items that arrived
  during it, announced when it ended).
- ``busy_times``: meetings imported from an .ics file, for overlap warnings.

Modules: ``recurrence`` (RRULE in local time, DST rules), ``due`` (the pure "what is
due at t" core), ``clock`` (injectable clock, jump detection), ``schedule`` (table
CRUD and claims), ``runner`` (the session state machine), ``planning`` (the plan of
a block), ``service`` (``FocusService``, the facade), ``ics`` (iCalendar export and
busy-time import), ``scheduler`` (the APScheduler adapter), ``agent`` (``FocusAgent``:
what a wake-up means, shared by the desktop app and the headless runner) and
``headless`` (``focusdesk run --headless``, the agent's terminal owner).
"""
