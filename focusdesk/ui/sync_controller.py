"""Sources and sync in the desktop app: the sources' list, adding, removing and enabling a
source (its dialogs, the IMAP connection test, the password prompt) and the sync itself.

Everything that touches the store runs through the window's ``Operations``: the sources'
list is read on the read lane and arrives by ``sources_did_load``; adds, removals and the
sync go on the write lane. The controller knows nothing of the window: it is handed the
services it uses, the runner, a parent for its dialogs and a way to say something in the
status bar, and it says what happened by signal (the window wires them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from focusdesk.progress import Progress
from focusdesk.records import SourceInfo, SyncSummary

from . import errors
from .status import summarise_sync

if TYPE_CHECKING:
    from focusdesk.clock import Clock
    from focusdesk.settings import Settings
    from focusdesk.sync import SourcesService
    from focusdesk.triage import Triage

    from .operations import Job, Operations

MBOX_FILTER = "Mailbox files (*.mbox *.mbx *.mbs);;All files (*)"


class SyncDesk(Protocol):
    """The parts of the profile that sources and sync use (``FocusDesk`` has them)."""

    sources: SourcesService
    settings: Settings
    clock: Clock

    @property
    def triage(self) -> Triage: ...

    def refresh_index(self) -> None: ...


class SyncController(QObject):
    """The sources of one window and their sync, run in the background."""

    sources_did_load = Signal(list)
    """The sources' list was (re-)read: a list of ``SourceInfo``."""
    sync_did_start = Signal()
    sync_did_progress = Signal(object)
    sync_did_finish = Signal(object)
    """A sync ended; carries its ``SyncSummary`` (per-source errors are in it)."""
    sync_did_cancel = Signal()
    sync_did_fail = Signal(str)
    items_did_change = Signal()
    """A sync ended or a source was removed: the inbox's ranking is out of date."""
    activity_did_change = Signal()
    """A sync started or ended (the window's busy marks and page follow)."""
    source_did_add = Signal(object)
    source_did_remove = Signal(int)
    source_did_change = Signal(object)

    def __init__(
        self,
        desk: SyncDesk,
        ops: Operations,
        parent: QWidget,
        show_status: Callable[[str], None],
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.ops = ops
        self._parent = parent
        self.show_status = show_status
        self.sources: list[SourceInfo] = []
        self.loaded = False
        """Whether the sources' list was read once (until then ``sources`` is empty)."""
        self.password_prompter: Any = None
        self._sync_job: Job | None = None
        self._syncing_source: int | None = None
        self._resync = False
        self._sync_wanted: tuple[int | None] | None = None
        """A sync asked for before the sources' list was first read (its source)."""
        self._refresh_generation = 0
        self._sources_dialog: Any = None
        self._add_dialog: Any = None

    # -- the sources' list --------------------------------------------------------------
    def refresh_sources(self) -> Job:
        """Re-read the sources' list in the background; ``sources_did_load`` carries it."""
        self._refresh_generation += 1
        generation = self._refresh_generation

        def done(sources: list[SourceInfo]) -> None:
            if generation == self._refresh_generation:  # else a newer read is on its way
                self._show_sources(sources)

        return self.ops.read(
            lambda _p, _c: self.desk.sources.all(),
            on_done=done,
            on_error=self.show_status,
            name="read sources",
        )

    def _show_sources(self, sources: list[SourceInfo]) -> None:
        first = not self.loaded
        self.sources = sources
        self.loaded = True
        self._update_dialog()
        self.sources_did_load.emit(sources)
        if first and self._sync_wanted is not None:
            (source_id,), self._sync_wanted = self._sync_wanted, None
            self.start_sync(source_id)

    def _update_dialog(self) -> None:
        if self._sources_dialog is None:
            return
        syncing = {self._syncing_source} if self._syncing_source is not None else set()
        if self._sync_job is not None and self._syncing_source is None:
            syncing = {s.id for s in self.sources if s.enabled}
        self._sources_dialog.set_sources(self.sources, syncing)

    @property
    def needs_first_sync(self) -> bool:
        """Whether an enabled source was never read."""
        return any(src.last_sync_at is None and src.enabled for src in self.sources)

    # -- adding, removing, enabling ------------------------------------------------------
    def choose_notes_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self._parent, "Add a notes folder")
        if path:
            self.add_source("notes", path)

    def choose_mbox_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._parent, "Add a mailbox file", "", MBOX_FILTER)
        if path:
            self.add_source("mbox", path)

    def open_add_source(self, kind: str = "notes") -> Any:
        """The "Add a source" dialog (not blocking); its Add adds in the background."""
        from .add_source import AddSourceDialog

        if self._add_dialog is not None:
            self._add_dialog.raise_()
            return self._add_dialog
        dialog = AddSourceDialog(self._parent, kind if isinstance(kind, str) else "notes")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.test_requested.connect(lambda spec: self._test_connection(dialog, spec))
        dialog.submit = lambda spec: self._add_from_dialog(dialog, spec)
        dialog.finished.connect(lambda _r: setattr(self, "_add_dialog", None))
        self._add_dialog = dialog
        dialog.open()
        return dialog

    def _add_from_dialog(self, dialog: Any, spec: Any) -> None:
        """Add from the dialog; a problem is shown in it (open, with what was typed)."""

        def failed(message: str) -> None:
            if self._add_dialog is dialog:
                dialog.add_did_fail(message)
            else:
                self._add_failed(message)

        def added() -> None:
            if self._add_dialog is dialog:
                dialog.added()

        self.add_source(
            spec.kind,
            spec.uri,
            name=spec.name,
            config=spec.config,
            password=spec.password,
            on_failed=failed,
            on_added=added,
        )

    def _test_connection(self, dialog: Any, spec: Any) -> None:
        from .add_source import test_imap_connection

        def done(message: str) -> None:
            if self._add_dialog is dialog:
                dialog.show_test(message, ok=True)

        def failed(message: str) -> None:
            if self._add_dialog is dialog:
                dialog.show_test(message, ok=False)

        self.ops.read(
            lambda _p, _c: test_imap_connection(spec.uri, spec.config, spec.password or ""),
            on_done=done,
            on_error=failed,
            name="test IMAP connection",
        )

    def add_source(
        self,
        kind: str,
        path: str,
        *,
        name: str | None = None,
        config: dict[str, Any] | None = None,
        password: str | None = None,
        on_failed: Callable[[str], None] | None = None,
        on_added: Callable[[], None] | None = None,
    ) -> None:
        """Add a source in the background (with its password, for IMAP), then read it.

        A problem goes to ``on_failed`` (the add dialog), else to a message box.
        """

        def work(_p: Any, _c: Any) -> tuple[SourceInfo, list[SourceInfo]]:
            info = self.desk.sources.add(kind, path, name, config)
            if password and kind == "imap":
                self.desk.sources.set_password(info.id, password)
            return info, self.desk.sources.all()

        def done(result: tuple[SourceInfo, list[SourceInfo]]) -> None:
            info, sources = result
            if on_added is not None:
                on_added()
            self._show_sources(sources)
            self.show_status(f"Added {info.name}. Reading it…")
            self.source_did_add.emit(info)
            self.activity_did_change.emit()
            self.start_sync()

        self.ops.write(
            work, on_done=done, on_error=on_failed or self._add_failed, name=f"add {kind} source"
        )

    def _add_failed(self, message: str) -> None:
        self.show_status(message)
        errors.show_message(self._parent, "Could not add the source", message)

    def remove_source(self, source_id: int) -> None:
        def work(_p: Any, _c: Any) -> list[SourceInfo]:
            self.desk.sources.remove(source_id)
            return self.desk.sources.all()

        def done(sources: list[SourceInfo]) -> None:
            self._show_sources(sources)
            self.show_status("Source removed.")
            self.source_did_remove.emit(source_id)
            self.activity_did_change.emit()
            self.items_did_change.emit()

        self.ops.write(work, on_done=done, on_error=self.show_status, name="remove source")

    def set_source_enabled(self, source_id: int, enabled: bool) -> None:
        def work(_p: Any, _c: Any) -> tuple[SourceInfo, list[SourceInfo]]:
            return self.desk.sources.set_enabled(source_id, enabled), self.desk.sources.all()

        def done(result: tuple[SourceInfo, list[SourceInfo]]) -> None:
            info, sources = result
            self._show_sources(sources)
            self.show_status(f"{info.name} is {'enabled' if info.enabled else 'disabled'}.")
            self.source_did_change.emit(info)

        self.ops.write(work, on_done=done, on_error=self.show_status, name="enable source")

    def open_sources_manager(self) -> Any:
        """The sources manager (not blocking)."""
        from .sources_manager import SourcesDialog

        if self._sources_dialog is not None:
            self._sources_dialog.raise_()
            return self._sources_dialog
        dialog = SourcesDialog(self._parent, clock=self.desk.clock)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.add_requested.connect(self.open_add_source)
        dialog.sync_requested.connect(lambda sid: self.start_sync(sid))
        dialog.enabled_change_requested.connect(self.set_source_enabled)
        dialog.remove_requested.connect(self.remove_source)
        dialog.finished.connect(lambda _r: setattr(self, "_sources_dialog", None))
        self._sources_dialog = dialog
        self._update_dialog()  # what is known now; the fresh list follows
        self.refresh_sources()
        dialog.show()
        return dialog

    # -- sync ---------------------------------------------------------------------------
    @property
    def syncing(self) -> bool:
        return self._sync_job is not None

    def start_sync(self, source_id: int | None = None) -> Job | None:
        """Read sources (all, or one) in the background; the ranking follows when done."""
        if self._sync_job is not None:
            self._resync = True
            return None
        if not self.loaded:  # the sources' list is on its way: sync when it is here
            self._sync_wanted = (source_id,)
            return None
        if not self.sources:
            self.show_status("There is nothing to sync yet: add a notes folder or a mailbox.")
            return None
        self._install_password_prompter()
        retention = self.desk.settings.dismissed_retention_days

        def work(progress: Any, cancel: Any) -> tuple[SyncSummary, list[SourceInfo]]:
            summary = self.desk.sources.sync(source_id, progress=progress, cancel=cancel)
            if self.desk.triage.purge_dismissed(retention):
                self.desk.refresh_index()  # their passages are gone from the index too
            return summary, self.desk.sources.all()  # their sync times and errors

        job = self.ops.write(
            work,
            on_done=self._on_sync_done,
            on_error=self._on_sync_error,
            on_progress=self._on_progress,
            on_cancelled=self._on_sync_cancelled,
            on_finished=self._on_sync_finished,
            name="sync",
        )
        self._sync_job = job
        self._syncing_source = source_id
        self.show_status("Syncing…")
        self.activity_did_change.emit()
        self._update_dialog()
        self.sync_did_start.emit()
        return job

    def cancel(self) -> bool:
        """Stop the running sync (what was read so far is kept); False when none runs."""
        if self._sync_job is None:
            return False
        self._sync_job.cancel()
        self.show_status("Cancelling…")
        return True

    def _install_password_prompter(self) -> None:
        """Mail passwords that are not known are asked for in a dialog."""
        passwords = self.desk.sources.passwords
        if self.password_prompter is None:
            from .password_prompt import PasswordPrompter

            self.password_prompter = PasswordPrompter(self._parent)
        if getattr(passwords, "provider", None) is None:
            passwords.provider = self.password_prompter
        reset = getattr(passwords, "reset_prompts", None)
        if callable(reset):
            reset()

    def release_prompts(self) -> None:
        """Answer any open password question with "no" (the window is going)."""
        if self.password_prompter is not None:
            self.password_prompter.release_all()

    def _on_progress(self, progress: Progress) -> None:
        if self._sync_job is not None:
            self.sync_did_progress.emit(progress)

    def _on_sync_done(self, result: tuple[SyncSummary, list[SourceInfo]]) -> None:
        summary, sources = result
        self._show_sources(sources)
        self.show_status(summarise_sync(summary))
        self.sync_did_finish.emit(summary)

    def _on_sync_error(self, message: str) -> None:
        self.refresh_sources()
        self.show_status(f"Sync failed: {message}")
        self.sync_did_fail.emit(message)

    def _on_sync_cancelled(self) -> None:
        self.refresh_sources()
        self.show_status("Sync cancelled. What was read so far is kept.")
        self.sync_did_cancel.emit()

    def _on_sync_finished(self) -> None:
        cancelled = self._sync_job is not None and self._sync_job.cancelled
        self._sync_job = None
        self._syncing_source = None
        if self._resync and not cancelled:
            self._resync = False
            self.start_sync()
        elif not cancelled:
            self.items_did_change.emit()
        self._resync = False
        self.activity_did_change.emit()
        self._update_dialog()
