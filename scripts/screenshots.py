"""Take the README screenshots of FocusDesk on the demo profile, with the real encoder.

Run under a virtual X server (no window manager, so windows have no frames):

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshots.py

It builds a throwaway profile from resources/demo (the notes vault, the mbox and
goals.json) plus a small local feed whose entries hold remote images, lets the
window sync and rank it as on a first start, then saves to docs/screenshots/:

- getting-started.png      a new, empty profile
- main-window.png          the ranked inbox, the top item in the reader
- main-window-mail.png     the best e-mail selected
- why-panel.png            the "Why?" panel beside the reader
- reader-remote-content.png a feed entry with its remote images blocked
- search.png               hybrid search as you type, matches highlighted
- keyboard-shortcuts.png   the ? overlay
- goals-editor.png, sources-manager.png, settings.png  the dialogs over the window
- main-window-dark.png     the dark theme
- reader-note-*.png        a Markdown note rendered (callouts, wikilinks, properties, lists)
- reader-newsletter-*.png  an HTML newsletter whose plain part is a stub
- reader-why-*.png         a note of several passages shaded by weight, the Why panel beside

and, at 1400×900 and 1024×640, in the light and the dark theme, one PNG per scenario
named SCENARIO-WIDTHxHEIGHT-THEME.png (e.g. inbox-1024x640-dark.png): the inbox, the
Why panel, search and the review. A scenario is a function registered with
``@scenario("name")`` that sets the window up and returns False to skip; add one to
show more.

The notes-plus-mail case of issue 13 (``shoot_goals``): the profile `focusdesk demo`
makes (its vault and mailbox, every goal active), at 1400×900, as
inbox-goals-mix.png (all goals in one list: the ranking's mix) and
inbox-goals-grouped.png (grouped by goal, each goal's colour and high-attention count);
``python scripts/screenshots.py --only goals`` takes just these.

The reader scenarios (``shoot_reader``: a rendered note, an HTML newsletter, at the same
sizes and themes) build their own small profile and can run alone:
``python scripts/screenshots.py --only reader [--vault PATH]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "resources" / "demo"
SIZE = (1280, 800)
MATRIX_SIZES = ((1400, 900), (1024, 640))
MATRIX_THEMES = ("light", "dark")
SEARCH_QUERY = "sleep current regression"

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Low Power Embedded Weekly</title><link>https://lowpower.example.org/</link>
<description>News on low-power embedded design</description>
<item>
  <title>Chasing sleep-current regressions after a BLE stack update</title>
  <link>https://lowpower.example.org/2026/11/sleep-current-ble</link>
  <guid>lpw-2026-47-1</guid>
  <pubDate>Wed, 18 Nov 2026 07:30:00 +0000</pubDate>
  <description><![CDATA[
    <p><img src="https://cdn.lowpower.example.org/charts/sleep-current.png"
      width="480" height="200" alt="Sleep current before and after"></p>
    <p>After moving to a new BLE stack release, several teams saw their sensors'
    sleep current jump from a few microamps to tens of microamps. The usual cause is
    a peripheral clock left running after the radio goes idle.</p>
    <h3>How to find it</h3>
    <ul><li>Measure with a current profiler over a full advertising interval.</li>
    <li>Bisect the firmware between the last good and the first bad build.</li>
    <li>Check that the high-frequency clock is released before sleep.</li></ul>
    <p>Battery life estimates for lithium thionyl chloride cells also change with
    passivation: check the datasheet's pulse guidance.</p>
  ]]></description>
</item>
<item>
  <title>Signed OTA updates with rollback on small MCUs</title>
  <link>https://lowpower.example.org/2026/11/signed-ota</link>
  <guid>lpw-2026-47-2</guid>
  <pubDate>Tue, 17 Nov 2026 09:00:00 +0000</pubDate>
  <description><![CDATA[<p><img src="https://cdn.lowpower.example.org/ota.png" alt="">
  A dual-bank bootloader verifies each image's signature and rolls back when the
  new firmware fails its self-test.</p>]]></description>
</item>
</channel></rss>
"""

READER_NOTE_PATH = "Projects/Aeris v2 launch checklist.md"
READER_NOTE = """---
title: Aeris v2 launch checklist
tags: [firmware, release]
status: "[[In progress]]"
owner: "[[Tomasz]]"
due: 2026-11-27
---
# Aeris v2 launch checklist

The **RC1** build goes out on *27 November*. Everything below must be green first;
see [[Battery life test plan|the battery test plan]] and [[Aeris v2 Firmware#Open risks]].

> [!warning] Sleep current
> The BLE stack update raised the sleep floor to **14 µA**. Target: under 6 µA.

> [!tip]- How to measure
> Profile a full advertising interval at 100 kS/s, then bisect the builds.

## Release gates

- Firmware
\t- [x] signed OTA images with rollback
\t- [ ] sleep current under 6 µA
\t\t- [ ] release the HF clock before sleep
- Hardware
\t- [ ] EVT-2 soak results from Kowal

| Gate | Owner | State |
|------|-------|-------|
| OTA rollback | Priya | done |
| Sleep current | Tomasz | open |

Run `fw-release --rc 1` once the gates pass. Questions go to [[Release channel]].
"""

NEWSLETTER_HTML = """<html><body style="font-family:sans-serif">
<h1>Low Power Weekly · issue 47</h1>
<p><img src="https://cdn.lowpower.example.org/banner.png" width="600" height="120"
 alt="Low Power Weekly banner"></p>
<h2>Sleep-current regressions after BLE stack updates</h2>
<p>Several teams saw their sensors' sleep current jump from a few microamps to tens of
microamps after a <b>BLE stack</b> update. The usual cause is a peripheral clock left
running after the radio goes idle. <a href="https://lowpower.example.org/47/sleep">Read
more</a>.</p>
<table><tr><th>Build</th><th>Sleep current</th></tr>
<tr><td>v1.9</td><td>5.8 µA</td></tr><tr><td>v2.0-rc0</td><td>14.2 µA</td></tr></table>
<h2>Passivation in Li-SOCl2 cells</h2>
<p>A cell that sits at low current builds a passivation layer; the first high-current
pulse can dip below the brown-out threshold. A small supercapacitor helps.</p>
<p><img src="https://cdn.lowpower.example.org/pulse.png" width="480" height="200"
 alt="Voltage during the first pulse"></p>
<p style="font-size:small">You receive this because you subscribed at lowpower.example.org.</p>
</body></html>"""

PASSAGES_NOTE = "sleep current measurements"
"""A demo note of three passages (reader-why-*.png)."""

log = logging.getLogger("screenshots")


def wait_for(signal: Any, timeout_s: float) -> list[Any]:
    """Run the event loop until ``signal`` fires; its arguments, or exit on timeout."""
    loop = QEventLoop()
    got: list[Any] = []

    def stop(*args: Any) -> None:
        got.append(args)
        loop.quit()

    signal.connect(stop)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(stop)
    if not got:
        raise SystemExit(f"timed out waiting for {signal}")
    return list(got[0])


def settle(ms: int = 300) -> None:
    """Let layouts, scrolls and paints finish."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def settle_weights(window: Any, timeout_s: float = 120.0) -> None:
    """Wait until the reader shades the shown item's passages (computed in the background)."""
    deadline = time.monotonic() + timeout_s
    while (
        window.reader_controller.passage_weights.pending is not None and time.monotonic() < deadline
    ):
        settle(50)
    if window.reader_controller.passage_weights.pending is not None:
        log.warning("the passage weights did not arrive in %.0f s", timeout_s)


def save(widget: QWidget, out: Path, name: str) -> None:
    settle()
    widget.grab().save(str(out / name))
    log.info("wrote %s", out / name)


def save_with_dialog(window: QWidget, dialog: QWidget, out: Path, name: str) -> None:
    """The window with ``dialog`` drawn over its centre, framed (Xvfb has no frames)."""
    settle()
    base = window.grab()
    shot = dialog.grab()
    ratio = base.devicePixelRatio()
    canvas = QPixmap(base)
    painter = QPainter(canvas)
    painter.fillRect(QRect(0, 0, window.width(), window.height()), QColor(0, 0, 0, 70))
    title_h = 28
    w, h = int(shot.width() / ratio), int(shot.height() / ratio)
    x, y = (window.width() - w) // 2, max(0, (window.height() - h - title_h) // 2)
    painter.fillRect(QRect(x - 1, y - 1, w + 2, h + title_h + 2), QColor("#5a5a60"))
    painter.fillRect(QRect(x, y, w, title_h), QColor("#3d4f6e"))
    font = QFont(dialog.font())
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(
        QRect(x + 10, y, w - 20, title_h),
        int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
        dialog.windowTitle(),
    )
    painter.drawPixmap(QPoint(x, y + title_h), shot)
    painter.end()
    canvas.save(str(out / name))
    log.info("wrote %s", out / name)


# -- scenarios: the shots taken at every size and theme ---------------------------------------
Scenario = Callable[[Any, list[Any]], bool]
"""Sets the window (and the ranked items) up for one shot; False: nothing to show, skip."""
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    """Register a scenario under ``name`` (the file name's first part), in order."""

    def register(fn: Scenario) -> Scenario:
        SCENARIOS[name] = fn
        return fn

    return register


def reset(window: Any) -> None:
    """Back to the plain inbox: no search, no Review, no Why panel, no help."""
    if window.searching:
        window.inbox_controller.close_search()
    dock = getattr(window, "review_dock", None)
    if dock is not None and dock.isVisible():
        dock.hide()
        dock.setFloating(False)
    window.set_why_visible(False)
    help_overlay = window.help_overlay
    if help_overlay is not None and help_overlay.isVisible():
        window.toggle_help()


@scenario("inbox")
def inbox_scene(window: Any, items: list[Any]) -> bool:
    window.inbox_controller.select_row(0)
    window.inbox_view.scrollToTop()
    window.inbox_view.setFocus()
    return True


@scenario("why")
def why_scene(window: Any, items: list[Any]) -> bool:
    mail = next((i for i in items if i.source_kind == "mbox"), items[0] if items else None)
    if mail is None or not window.inbox_controller.select_item(mail.item_id):
        return False
    window.set_why_visible(True)
    settle_weights(window)
    return True


@scenario("search")
def search_scene(window: Any, items: list[Any]) -> bool:
    window.inbox_controller.open_search()
    window.search.clear()
    window.search.bar.edit.setText(SEARCH_QUERY)
    window.search.bar.flush()
    wait_for(window.search.search_did_finish, 120)
    return window.search.model.rowCount() > 0


@scenario("review")
def review_scene(window: Any, items: list[Any]) -> bool:
    action = next(
        (a for a in window.menus["inbox"].actions() if a.objectName() == "review_action"), None
    )
    if action is None:
        return False
    action.trigger()
    wait_for(window.review_tab.review_did_load, 300)
    return True


def shoot_matrix(window: Any, out: Path) -> None:
    """Every scenario at every size, light and dark."""
    items = window.inbox_model.items()
    for theme in MATRIX_THEMES:
        window.settings_controller.apply_settings({"theme": theme})  # as the settings dialog does
        for width, height in MATRIX_SIZES:
            window.resize(width, height)
            settle(200)
            if (window.width(), window.height()) != (width, height):
                log.warning(
                    "the window is %dx%d, not %dx%d", window.width(), window.height(), width, height
                )
            for name, set_up in SCENARIOS.items():
                reset(window)
                settle(100)
                if not set_up(window, items):
                    log.warning("scenario %s: nothing to show, skipped", name)
                    continue
                save(window, out, f"{name}-{width}x{height}-{theme}.png")
            reset(window)


def build_demo_profile(root: Path) -> Path:
    """A profile with the demo notes, mailbox, a local feed and the goals (not yet synced)."""
    from focusdesk.app import FocusDesk

    feed = root.parent / "lowpower-weekly.xml"
    feed.write_text(FEED, encoding="utf-8")
    desk = FocusDesk.open(root)
    try:
        desk.sources.add("notes", str(DEMO / "notes"), name="Notes")
        desk.sources.add("mbox", str(DEMO / "inbox.mbox"), name="Inbox")
        desk.sources.add("feed", str(feed), name="Low Power Weekly", config={"group": "News"})
        for goal in json.loads((DEMO / "goals.json").read_text(encoding="utf-8")):
            desk.goals.add(
                goal["title"],
                weight=float(goal.get("weight", 1.0)),
                description=goal.get("description", ""),
            )
    finally:
        desk.close()
    return root


def shoot_empty(out: Path, tmp: Path) -> None:
    from focusdesk.app import FocusDesk
    from focusdesk.ui.main_window import MainWindow

    desk = FocusDesk.open(tmp / "empty-profile")
    window = MainWindow(desk)
    window.resize(*SIZE)
    window.show()
    save(window, out, "getting-started.png")
    window.close()
    desk.close()


def shoot_demo(out: Path, tmp: Path, timeout_s: float) -> None:
    from focusdesk.app import FocusDesk
    from focusdesk.ui.goals_panel import GoalDialog
    from focusdesk.ui.main_window import MainWindow

    profile = build_demo_profile(tmp / "demo-profile")
    desk = FocusDesk.open(profile)
    window = MainWindow(desk, demo=True)
    window.resize(*SIZE)
    started = time.perf_counter()
    window.show()  # nothing was read yet: the window syncs, then ranks
    wait_for(window.sync_controller.sync_did_finish, timeout_s)
    log.info("synced in %.1f s: %s", time.perf_counter() - started, window.status_label.text())
    wait_for(window.inbox_controller.rank_did_finish, timeout_s)
    log.info(
        "ranked %d items in %.1f s", window.inbox_model.rowCount(), time.perf_counter() - started
    )
    items = window.inbox_model.items()
    for row, item in enumerate(items[:12]):
        log.info("%2d %.3f %-55s %s", row + 1, item.score, item.title[:55], item.goal_title)

    window.inbox_controller.select_row(0)
    window.inbox_view.setFocus()
    save(window, out, "main-window.png")

    mail = next((i for i in items if i.source_kind == "mbox"), None)
    if mail is not None:
        window.inbox_controller.select_item(mail.item_id)
        save(window, out, "main-window-mail.png")
        window.why_action.trigger()
        save(window, out, "why-panel.png")
        window.why_action.trigger()

    feed = next((i for i in items if i.source_kind == "feed" and "sleep" in i.title.lower()), None)
    if feed is not None:
        window.inbox_controller.select_item(feed.item_id)
        if not window.reader_pane.remote_blocked:
            log.warning("the feed entry shows no remote-content bar")
        save(window, out, "reader-remote-content.png")

    window.inbox_controller.open_search()
    for ch in SEARCH_QUERY:
        window.search.bar.edit.insert(ch)
        settle(40)
    wait_for(window.search.search_did_finish, timeout_s)
    save(window, out, "search.png")
    window.inbox_controller.close_search()

    window.inbox_controller.select_row(0)
    window.toggle_help()
    save(window, out, "keyboard-shortcuts.png")
    window.toggle_help()

    goal = window.goals_panel.goals()[0]
    window.goals_panel.select_goal(goal.id)
    dialog = GoalDialog(goal, window)
    dialog.show()
    save_with_dialog(window, dialog, out, "goals-editor.png")
    dialog.close()

    # A source whose file went away, so the sources manager has an error to show.
    gone = tmp / "old-newsletter.xml"
    gone.write_text(FEED, encoding="utf-8")
    broken = desk.sources.add("feed", str(gone), name="Old newsletter", config={"group": "News"})
    gone.unlink()
    window.sync_controller.refresh_sources()
    window.sync_controller.start_sync(broken.id)
    wait_for(window.sync_controller.sync_did_finish, timeout_s)
    wait_for(window.inbox_controller.rank_did_finish, timeout_s)
    sources = window.sync_controller.open_sources_manager()
    sources.select_source(broken.id)
    save_with_dialog(window, sources, out, "sources-manager.png")
    sources.close()

    settings = window.settings_controller.open_settings()
    settings.show()
    save_with_dialog(window, settings, out, "settings.png")
    settings.reject()

    window.settings_controller.apply_settings({"theme": "dark"})  # as the settings dialog does
    window.inbox_controller.select_row(1)
    window.inbox_controller.select_row(0)  # re-render the reader with the dark palette's colours
    window.why_action.trigger()
    save(window, out, "main-window-dark.png")
    window.why_action.trigger()

    shoot_matrix(window, out)
    window.close()
    desk.close()


def shoot_goals(out: Path, tmp: Path, timeout_s: float) -> None:
    """The demo profile (`focusdesk demo`: vault + mailbox, all goals), mixed and by goal."""
    from collections import Counter

    from focusdesk.app import FocusDesk
    from focusdesk.demo import seed_demo
    from focusdesk.ui.main_window import MainWindow

    desk = FocusDesk.open(tmp / "notes-mail-profile")
    seed_demo(desk, DEMO)
    window = MainWindow(desk, demo=True)
    window.resize(1400, 900)
    window.show()  # nothing was read yet: the window syncs, then ranks
    wait_for(window.sync_controller.sync_did_finish, timeout_s)
    wait_for(window.inbox_controller.rank_did_finish, timeout_s)
    items = window.inbox_model.items()
    names = {g.id: g.short_name for g in desk.goals.all()}
    for top in (20, 60):
        seats = Counter(names.get(i.goal_id, "no goal") for i in items[:top])
        kinds = Counter(i.source_kind for i in items[:top])
        log.info("top %d rows by goal: %s; by kind: %s", top, dict(seats), dict(kinds))
    window.centre_splitter.setSizes([600, 240])  # more rows: the groups' boundaries show
    for grouped, name in ((False, "inbox-goals-mix.png"), (True, "inbox-goals-grouped.png")):
        window.goal_grouping.set_grouped(grouped)
        window.inbox_controller.select_row(0)
        window.inbox_view.scrollToTop()
        headers = window.inbox_model.header_rows()
        if len(headers) > 1:  # the end of the first group, then the other goals' groups
            view = window.inbox_view
            view.scrollTo(
                window.inbox_model.index(max(0, headers[1] - 4), 0),
                view.ScrollHint.PositionAtTop,
            )
            window.inbox_controller.select_row(headers[1] + 1)
        window.inbox_view.setFocus()
        save(window, out, name)
    window.goal_grouping.set_grouped(False)
    window.close()
    desk.close()


def write_newsletter_mbox(path: Path) -> Path:
    """An mbox with one newsletter: a stub plain part and the real content in HTML."""
    import mailbox
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Low Power Weekly <news@lowpower.example.org>"
    msg["To"] = "you@aeris.example"
    msg["Subject"] = "Low Power Weekly #47: sleep-current regressions, passivation"
    msg["Date"] = "Thu, 19 Nov 2026 07:00:00 +0000"
    msg["Message-ID"] = "<lpw-47@lowpower.example.org>"
    msg.set_content("See the HTML version of this email in your browser.")
    msg.add_alternative(NEWSLETTER_HTML, subtype="html")
    box = mailbox.mbox(str(path))
    box.add(msg)
    box.close()
    return path


def build_reader_profile(root: Path, vault: Path | None = None) -> Path:
    """A profile with a notes vault (the demo one, or ``vault``) plus the showcase note,
    a newsletter mbox and the demo goals (not yet synced)."""
    import shutil

    from focusdesk.app import FocusDesk

    notes = root.parent / "reader-vault"
    shutil.copytree(vault or DEMO / "notes", notes, ignore=shutil.ignore_patterns(".*"))
    showcase = notes / READER_NOTE_PATH
    showcase.parent.mkdir(parents=True, exist_ok=True)
    showcase.write_text(READER_NOTE, encoding="utf-8")
    mbox = write_newsletter_mbox(root.parent / "newsletter.mbox")
    desk = FocusDesk.open(root)
    try:
        desk.sources.add("notes", str(notes), name="Notes")
        desk.sources.add("mbox", str(mbox), name="Newsletters")
        for goal in json.loads((DEMO / "goals.json").read_text(encoding="utf-8")):
            desk.goals.add(goal["title"], weight=float(goal.get("weight", 1.0)))
    finally:
        desk.close()
    return root


def _select_titled(window: Any, title: str) -> bool:
    """Select the inbox row titled ``title`` (the reader shows it)."""
    for item in window.inbox_model.items():
        if item.title == title:
            return bool(window.inbox_controller.select_item(item.item_id))
    log.warning("no inbox row titled %r", title)
    return False


def shoot_reader_note(window: Any, out: Path, name: str, title: str | None = None) -> None:
    """The reader with a rendered Markdown note (the showcase note unless ``title``)."""
    if _select_titled(window, title or "Aeris v2 launch checklist"):
        settle_weights(window)
        save(window, out, name)


def shoot_reader_newsletter(window: Any, out: Path, name: str) -> None:
    """The reader with an HTML newsletter whose plain part is a stub (images blocked)."""
    for item in window.inbox_model.items():
        if item.source_kind == "mbox" and item.title.startswith("Low Power Weekly"):
            window.inbox_controller.select_item(item.item_id)
            if not window.reader_pane.showing_formatted:
                log.warning("the newsletter is shown as plain text")
            settle_weights(window)
            save(window, out, name)
            return
    log.warning("the newsletter is not in the inbox")


def shoot_reader(
    out: Path,
    tmp: Path,
    timeout_s: float,
    *,
    vault: Path | None = None,
    vault_note: str | None = None,
    sizes: tuple[tuple[int, int], ...] = ((1400, 900), (1024, 640)),
    themes: tuple[str, ...] = ("light", "dark"),
) -> None:
    """reader-note-WxH-THEME.png and reader-newsletter-WxH-THEME.png for each size and theme."""
    from focusdesk.app import FocusDesk
    from focusdesk.ui.main_window import MainWindow

    profile = build_reader_profile(tmp / "reader-profile", vault)
    desk = FocusDesk.open(profile)
    window = MainWindow(desk)
    window.show()
    wait_for(window.inbox_controller.rank_did_finish, timeout_s)
    for theme in themes:
        window.settings_controller.apply_settings({"theme": theme})
        for width, height in sizes:
            window.resize(width, height)
            tag = f"{width}x{height}-{theme}"
            shoot_reader_note(window, out, f"reader-note-{tag}.png")
            if vault_note:
                shoot_reader_note(window, out, f"reader-vault-note-{tag}.png", vault_note)
            shoot_reader_newsletter(window, out, f"reader-newsletter-{tag}.png")
            if width >= 1400:
                # A note of several passages, shaded by weight, with the Why panel's list.
                window.set_why_visible(True)
                shoot_reader_note(window, out, f"reader-why-{tag}.png", PASSAGES_NOTE)
                window.set_why_visible(False)
    window.close()
    desk.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO / "docs" / "screenshots",
        help="folder for the PNG files",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds to wait for the sync, the ranking and a search",
    )
    parser.add_argument("--only", choices=("all", "reader", "goals"), default="all")
    parser.add_argument("--vault", type=Path, help="a notes vault for the reader scenarios")
    parser.add_argument("--vault-note", help="the title of a note of --vault to shoot too")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.output.mkdir(parents=True, exist_ok=True)

    app = QApplication(sys.argv[:1])
    app.setApplicationName("FocusDesk")
    app.setOrganizationName("FocusDesk")
    app.setStyle("Fusion")  # the same look on every machine the screenshots are taken on
    with tempfile.TemporaryDirectory(prefix="focusdesk-shots-") as tmp:
        if args.only in ("all", "goals"):
            shoot_goals(args.output, Path(tmp), args.timeout)
        if args.only == "goals":
            return 0
        if args.only == "all":
            shoot_empty(args.output, Path(tmp))
            shoot_demo(args.output, Path(tmp), args.timeout)
        shoot_reader(
            args.output, Path(tmp), args.timeout, vault=args.vault, vault_note=args.vault_note
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
