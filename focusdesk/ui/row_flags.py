"""The item flags of a read-only list or table row, shared by the app's item models."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

READ_ONLY_ROW = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)


def read_only_row_flags(index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
    """Selectable and enabled, never editable, no children; nothing for an invalid index."""
    return READ_ONLY_ROW if index.isValid() else Qt.ItemFlag.NoItemFlags
