"""The "Add source" dialog: a page per kind (notes folder, mbox file, Maildir folder,
feed, IMAP account), with "Test connection" for IMAP run in the background.

The dialog collects and checks what the user typed; the window adds the source (by
calling ``FocusDesk.sources.add`` in the worker) and saves an IMAP password through
the profile's ``PasswordStore`` (the system keyring, else memory for this run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from focusdesk.errors import KnownError

from .sources_panel import KIND_LABELS
from .style import MutedLabel, source_icon

log = logging.getLogger(__name__)

KINDS = ("notes", "mbox", "maildir", "feed", "imap")
KIND_HINTS = {
    "notes": "A folder of Markdown or text notes (an Obsidian vault works). It is only read.",
    "mbox": "A mailbox file in mbox format, e.g. a Thunderbird folder or a Google Takeout.",
    "maildir": "A Maildir folder (with cur/ and new/), e.g. from mbsync or offlineimap.",
    "feed": "An RSS, Atom or JSON feed: its web address, or a feed file on this computer.",
    "imap": "A mail account on an IMAP server. The mailbox is opened read-only; the "
    "password is kept in the system keyring (or only for this run when there is none).",
}
MBOX_FILTER = "Mailbox files (*.mbox *.mbx *.mbs);;All files (*)"
CERT_FILTER = "Certificates (*.pem *.crt *.cer);;All files (*)"
FEED_FILTER = "Feeds (*.xml *.rss *.atom *.json);;All files (*)"


@dataclass
class NewSource:
    """What the user asked to add."""

    kind: str
    uri: str
    name: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    password: str | None = None


def imap_source_spec(
    host: str,
    user: str,
    port: int,
    security: str,
    folders: str,
    cafile: str,
) -> tuple[str, dict[str, Any]]:
    """The checked (uri, config) of an IMAP account (raises KnownError when wrong)."""
    from focusdesk.sources.imap import imap_source

    folder_list = [f.strip() for f in folders.split(",") if f.strip()] or None
    return imap_source(
        host.strip(),
        user.strip(),
        port or None,
        starttls=security == "starttls",
        folders=folder_list,
        cafile=cafile.strip() or None,
    )


def test_imap_connection(uri: str, config: dict[str, Any], password: str) -> str:
    """Connect, check TLS and log in (nothing is read or stored); a line for the user.

    ``focusdesk.sources.imap.test_connection``; it blocks, so the window runs it in a
    worker.
    """
    from focusdesk.sources.imap import test_connection

    return test_connection(uri, config, password)


class PathField(QWidget):
    """A line edit with a Browse… button (folder or file)."""

    def __init__(
        self,
        accessible: str,
        chooser: Callable[[QWidget], str],
        parent: QWidget | None = None,
        *,
        placeholder: str = "",
    ) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setAccessibleName(accessible)
        self.edit.setPlaceholderText(placeholder)
        self.button = QPushButton("Browse…", self)
        self.button.setAccessibleName(f"Browse for {accessible.lower()}")
        self.button.clicked.connect(self._browse)
        self._chooser = chooser
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)
        self.setFocusProxy(self.edit)

    def text(self) -> str:
        return self.edit.text().strip()

    def _browse(self) -> None:
        path = self._chooser(self)
        if path:
            self.edit.setText(path)


def _folder(title: str) -> Callable[[QWidget], str]:
    return lambda parent: QFileDialog.getExistingDirectory(parent, title)


def _file(title: str, filters: str) -> Callable[[QWidget], str]:
    return lambda parent: QFileDialog.getOpenFileName(parent, title, "", filters)[0]


class AddSourceDialog(QDialog):
    """Choose a kind on the left, fill in its page on the right, then Add."""

    test_requested = Signal(object)
    """Carries a ``NewSource`` (IMAP) to test; the window runs it and calls ``show_test``."""

    def __init__(self, parent: QWidget | None = None, kind: str = "notes") -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a source")
        self.setAccessibleName("Add a source")
        self.setObjectName("add_source")
        self.result_source: NewSource | None = None
        self.submit: Callable[[NewSource], None] | None = None
        """Adds what was collected (the window's background add); it calls ``added`` or
        ``show_problem``, and the dialog stays open until it is added. None: Add closes."""
        self.kinds = QListWidget(self)
        self.kinds.setAccessibleName("Kind of source")
        self.kinds.setMaximumWidth(180)
        for k in KINDS:
            self.kinds.addItem(KIND_LABELS[k])
            self.kinds.item(self.kinds.count() - 1).setIcon(source_icon(k))
        self.pages = QStackedWidget(self)
        self.name_edit = QLineEdit(self)
        self.name_edit.setAccessibleName("Source name")
        self.name_edit.setPlaceholderText("Optional: a name (the folder, file or feed name)")
        self._build_pages()
        self.error = QLabel("", self)
        self.error.setObjectName("add_source_error")
        self.error.setAccessibleName("Problem")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b;")
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("&Add")
        ok.setAccessibleName("Add the source")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.kinds.currentRowChanged.connect(self._kind_changed)

        right = QVBoxLayout()
        self.hint = MutedLabel("", self)
        self.hint.setWordWrap(True)
        right.addWidget(self.hint)
        right.addWidget(self.pages, 1)
        name_form = QFormLayout()
        name_form.addRow("&Name:", self.name_edit)
        right.addLayout(name_form)
        right.addWidget(self.error)
        body = QHBoxLayout()
        body.addWidget(self.kinds)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.buttons)
        self.resize(680, 420)
        self.set_kind(kind)

    # -- pages -----------------------------------------------------------------------
    def _build_pages(self) -> None:
        self.notes_path = PathField(
            "Notes folder", _folder("Choose a notes folder"), placeholder="/home/me/Notes"
        )
        self.mbox_path = PathField(
            "Mailbox file",
            _file("Choose a mailbox file", MBOX_FILTER),
            placeholder="/home/me/Mail/inbox.mbox",
        )
        self.maildir_path = PathField(
            "Maildir folder", _folder("Choose a Maildir folder"), placeholder="/home/me/Maildir"
        )
        self.feed_url = PathField(
            "Feed address or file",
            _file("Choose a feed file", FEED_FILTER),
            placeholder="https://example.org/feed.xml",
        )
        self.feed_group = QLineEdit()
        self.feed_group.setAccessibleName("Feed group")
        self.feed_group.setPlaceholderText("Optional: a folder for it, e.g. News")
        for field_widget, label in (
            (self.notes_path, "&Folder:"),
            (self.mbox_path, "&File:"),
            (self.maildir_path, "&Folder:"),
        ):
            page = QWidget()
            form = QFormLayout(page)
            form.addRow(label, field_widget)
            self.pages.addWidget(page)
        feed_page = QWidget()
        form = QFormLayout(feed_page)
        form.addRow("&Address:", self.feed_url)
        form.addRow("&Group:", self.feed_group)
        self.pages.addWidget(feed_page)
        self.pages.addWidget(self._imap_page())

    def _imap_page(self) -> QWidget:
        page = QWidget()
        self.imap_host = QLineEdit()
        self.imap_host.setAccessibleName("IMAP server")
        self.imap_host.setPlaceholderText("imap.example.org")
        self.imap_security = QComboBox()
        self.imap_security.setAccessibleName("Connection security")
        self.imap_security.addItem("TLS (port 993)", "tls")
        self.imap_security.addItem("STARTTLS (port 143)", "starttls")
        self.imap_port = QSpinBox()
        self.imap_port.setAccessibleName("IMAP port")
        self.imap_port.setRange(1, 65535)
        self.imap_port.setValue(993)
        self.imap_security.currentIndexChanged.connect(self._security_changed)
        self.imap_user = QLineEdit()
        self.imap_user.setAccessibleName("User name")
        self.imap_user.setPlaceholderText("me@example.org")
        self.imap_password = QLineEdit()
        self.imap_password.setAccessibleName("Password")
        self.imap_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.imap_folders = QLineEdit("INBOX")
        self.imap_folders.setAccessibleName("Folders")
        self.imap_folders.setToolTip("The folders to read, separated by commas")
        self.imap_cafile = PathField(
            "Certificate file",
            _file("Choose the server's certificate", CERT_FILTER),
            placeholder="Optional: for a server with its own certificate",
        )
        self.test_button = QPushButton("&Test connection")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.clicked.connect(self._test)
        self.test_result = QLabel("")
        self.test_result.setAccessibleName("Connection test result")
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        server = QHBoxLayout()
        server.addWidget(self.imap_host, 1)
        server.addWidget(QLabel("Port:"))
        server.addWidget(self.imap_port)
        form = QFormLayout(page)
        form.addRow("&Server:", server)
        form.addRow("Se&curity:", self.imap_security)
        form.addRow("&User:", self.imap_user)
        form.addRow("&Password:", self.imap_password)
        form.addRow("F&olders:", self.imap_folders)
        form.addRow("&Certificate:", self.imap_cafile)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        form.addRow("", test_row)
        return page

    def _security_changed(self, _index: int) -> None:
        default = {"tls": 993, "starttls": 143}
        if self.imap_port.value() in default.values():
            self.imap_port.setValue(default[self.imap_security.currentData()])

    # -- state -----------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return KINDS[max(0, self.kinds.currentRow())]

    def set_kind(self, kind: str) -> None:
        self.kinds.setCurrentRow(KINDS.index(kind) if kind in KINDS else 0)

    def _kind_changed(self, row: int) -> None:
        self.pages.setCurrentIndex(max(0, row))
        self.hint.setText(KIND_HINTS[self.kind])
        self.error.hide()

    def collect(self) -> NewSource:
        """What was typed, checked; raises KnownError with what is missing or wrong."""
        kind = self.kind
        name = self.name_edit.text().strip() or None
        if kind == "imap":
            if not self.imap_host.text().strip() or not self.imap_user.text().strip():
                raise KnownError("Type the server and the user name.")
            uri, config = imap_source_spec(
                self.imap_host.text(),
                self.imap_user.text(),
                self.imap_port.value(),
                self.imap_security.currentData(),
                self.imap_folders.text(),
                self.imap_cafile.text(),
            )
            return NewSource("imap", uri, name, config, self.imap_password.text() or None)
        if kind == "feed":
            if not self.feed_url.text():
                raise KnownError("Type the feed's address, or choose a feed file.")
            group = self.feed_group.text().strip()
            return NewSource("feed", self.feed_url.text(), name, {"group": group} if group else {})
        path = {"notes": self.notes_path, "mbox": self.mbox_path, "maildir": self.maildir_path}[
            kind
        ].text()
        if not path:
            raise KnownError(f"Choose the {KIND_LABELS[kind].lower()}.")
        return NewSource(kind, path, name)

    def show_problem(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def show_test(self, message: str, ok: bool) -> None:
        """The outcome of "Test connection"."""
        self.test_button.setEnabled(True)
        colour = "#2e7d32" if ok else "#c0392b"
        self.test_result.setStyleSheet(f"color: {colour};")
        self.test_result.setText(message)

    def _test(self) -> None:
        try:
            spec = self.collect()
        except KnownError as exc:
            self.show_test(exc.user_text(), ok=False)
            return
        if not spec.password:
            self.show_test("Type the password to test the connection.", ok=False)
            return
        self.test_button.setEnabled(False)
        self.test_result.setStyleSheet("")
        self.test_result.setText("Connecting…")
        self.test_requested.emit(spec)

    def _accept(self) -> None:
        try:
            self.result_source = self.collect()
        except KnownError as exc:
            self.show_problem(exc.user_text())
            return
        if self.submit is None:
            self.accept()
            return
        self.error.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.submit(self.result_source)

    def added(self) -> None:
        """The source was added: close."""
        self.accept()

    def add_did_fail(self, message: str) -> None:
        """The source could not be added: say why here; everything typed stays."""
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
        self.show_problem(message)
