"""One desktop app per profile: a second start brings the first window forward.

The first instance listens on a local socket (``QLocalServer``) named after the profile's
folder and the user; a later start connects to it (``QLocalSocket``), asks it to show its
window and exits, so that only one process ever writes the profile's store.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

ACTIVATE = b"activate\n"
CONNECT_MS = 1000


def server_name(data_dir: Path) -> str:
    """The socket name for the profile in ``data_dir`` (per user, per profile)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    digest = hashlib.sha256(f"{user}\0{data_dir.absolute()}".encode()).hexdigest()[:20]
    return f"focusdesk-{digest}"


class SingleInstance(QObject):
    """The running instance's listener, or a way to reach the one already running."""

    activation_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server: QLocalServer | None = None

    def notify_running(self) -> bool:
        """Ask an instance already running to come forward; False when there is none."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_MS):
            return False
        socket.write(ACTIVATE)
        socket.waitForBytesWritten(CONNECT_MS)
        socket.disconnectFromServer()
        return True

    def listen(self) -> bool:
        """Become the instance others reach; False (logged) when the socket cannot be made."""
        QLocalServer.removeServer(self.name)  # a socket left by a crash, nobody answers it
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning("No single-instance socket %s: %s", self.name, server.errorString())
            return False
        server.newConnection.connect(self._accept)
        self.server = server
        return True

    def _accept(self) -> None:
        """Read each waiting start's request; a client writes it before it connects away."""
        assert self.server is not None
        while (socket := self.server.nextPendingConnection()) is not None:
            arrived = socket.bytesAvailable() > 0 or socket.waitForReadyRead(CONNECT_MS)
            if arrived and bytes(socket.readAll().data()).startswith(ACTIVATE.strip()):
                self.activation_requested.emit()
            socket.abort()

    def close(self) -> None:
        """Stop listening (the socket file is removed)."""
        if self.server is not None:
            self.server.close()
            self.server = None
