"""The settings dialog: model folder, device, sync intervals, focus block size,
retention of dismissed items, notifications, theme, and the remote-content allowlist.

It edits a copy; ``changes()`` says what differs and the window applies and saves it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from focusdesk.settings import Settings

from .style import MutedLabel, paint_empty_text

DEVICES = (("auto", "Automatic (CUDA when available)"), ("cpu", "CPU"), ("cuda", "CUDA (GPU)"))
THEME_CHOICES = (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark"))
BACKENDS = (
    ("auto", "Automatic (fastest that keeps the vectors faithful)"),
    ("torch-fp32", "torch fp32 (reference)"),
    ("torch-bf16", "torch bf16 (CPUs with AVX512-BF16 or AMX)"),
    ("cuda-fp16", "CUDA fp16 (GPU)"),
    ("onnx-int8", "ONNX Runtime int8 (needs focusdesk[onnx])"),
)
RESTART_FIELDS = ("model_path", "device", "encoder_backend")
"""Settings that take effect at the next start (the model is loaded once)."""


class SenderList(QListWidget):
    """The allowed senders; says how to add one when there are none."""

    EMPTY_TEXT = "None yet. Use “Always for …” above a message to add its sender."

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.count() == 0:
            paint_empty_text(self, self.EMPTY_TEXT)


def _spin(low: int, high: int, suffix: str, accessible: str, special: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSuffix(suffix)
    spin.setAccessibleName(accessible)
    if special:
        spin.setSpecialValueText(special)
    return spin


class SettingsDialog(QDialog):
    """Edit the profile's settings."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.setObjectName("settings_dialog")
        self.original = settings
        describe = Settings.describe()

        # Model
        self.model_edit = QLineEdit(settings.model_path)
        self.model_edit.setAccessibleName("Model folder")
        self.model_edit.setPlaceholderText("Bundled all-MiniLM-L6-v2")
        self.model_edit.setToolTip(describe["model_path"])
        browse = QPushButton("Browse…")
        browse.setAccessibleName("Browse for a model folder")
        browse.clicked.connect(self._browse_model)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_edit, 1)
        model_row.addWidget(browse)
        self.device_combo = QComboBox()
        self.device_combo.setAccessibleName("Device")
        self.device_combo.setToolTip(describe["device"])
        for key, label in DEVICES:
            self.device_combo.addItem(label, key)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(settings.device)))
        self.backend_combo = QComboBox()
        self.backend_combo.setAccessibleName("Encoder backend")
        self.backend_combo.setToolTip(describe["encoder_backend"])
        for key, label in BACKENDS:
            self.backend_combo.addItem(label, key)
        self.backend_combo.setCurrentIndex(
            max(0, self.backend_combo.findData(settings.encoder_backend))
        )
        model_box = QGroupBox("Language model")
        model_form = QFormLayout(model_box)
        model_label = QLabel("Model &folder:")
        model_label.setBuddy(self.model_edit)
        model_form.addRow(model_label, model_row)
        model_form.addRow("&Device:", self.device_combo)
        model_form.addRow("&Backend:", self.backend_combo)
        restart = MutedLabel(
            "Model, device and backend changes take effect the next time FocusDesk starts."
        )
        restart.setWordWrap(True)
        model_form.addRow(restart)

        # Sync and focus
        self.sync_spin = _spin(
            0, 24 * 60, " min", "Sync interval for notes and mail", "Only by hand"
        )
        self.sync_spin.setValue(settings.sync_interval_minutes)
        self.sync_spin.setToolTip(describe["sync_interval_minutes"])
        self.feed_spin = _spin(0, 24 * 60, " min", "Sync interval for feeds", "Only by hand")
        self.feed_spin.setValue(settings.feed_sync_interval_minutes)
        self.feed_spin.setToolTip(describe["feed_sync_interval_minutes"])
        self.focus_spin = _spin(1, 50, " items", "Items in a focus block")
        self.focus_spin.setValue(settings.focus_top_k)
        self.focus_spin.setToolTip(describe["focus_top_k"])
        self.retention_spin = _spin(0, 3650, " days", "Keep dismissed items for", "Forever")
        self.retention_spin.setValue(settings.dismissed_retention_days)
        self.retention_spin.setToolTip(describe["dismissed_retention_days"])
        work_box = QGroupBox("Sync and focus")
        work_form = QFormLayout(work_box)
        work_form.addRow("&Notes and mail every:", self.sync_spin)
        work_form.addRow("F&eeds every:", self.feed_spin)
        work_form.addRow("Focus &block shows:", self.focus_spin)
        work_form.addRow("Keep dis&missed items:", self.retention_spin)
        self.learning_box = QCheckBox("&Learn from my votes and triage")
        self.learning_box.setAccessibleName("Learn from votes and triage")
        self.learning_box.setChecked(settings.learning_enabled)
        self.learning_box.setToolTip(describe["learning_enabled"])
        work_form.addRow(self.learning_box)

        # Notifications and look
        self.notify_box = QCheckBox("Notify me of new high-attention items")
        self.notify_box.setAccessibleName("Notify of new high-attention items")
        self.notify_box.setChecked(settings.notify_high_attention)
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setAccessibleName("High-attention score")
        self.threshold_spin.setRange(0.0, 2.0)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setValue(settings.high_attention_score)
        self.threshold_spin.setToolTip(describe["high_attention_score"])
        self.theme_combo = QComboBox()
        self.theme_combo.setAccessibleName("Theme")
        for key, label in THEME_CHOICES:
            self.theme_combo.addItem(label, key)
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(settings.theme)))
        self.autostart_box = QCheckBox("Start FocusDesk in the tray when I &log in")
        self.autostart_box.setAccessibleName("Start in the tray at login")
        self.autostart_box.setToolTip(describe["start_in_tray_at_login"])
        self.autostart_box.setChecked(settings.start_in_tray_at_login)
        look_box = QGroupBox("Notifications and look")
        look_form = QFormLayout(look_box)
        look_form.addRow(self.notify_box)
        look_form.addRow("High-attention &score from:", self.threshold_spin)
        look_form.addRow("&Theme:", self.theme_combo)
        look_form.addRow(self.autostart_box)

        # Remote content
        self.remote_list = SenderList()
        self.remote_list.setAccessibleName("Senders whose remote content loads")
        self.remote_list.addItems(settings.remote_content_senders)
        self.remote_list.setMaximumHeight(self.fontMetrics().lineSpacing() * 4 + 10)
        self.remote_remove = QPushButton("Remo&ve")
        self.remote_remove.setAccessibleName("Remove the selected sender")
        self.remote_remove.clicked.connect(self._remove_sender)
        remote_box = QGroupBox("Remote content is loaded for")
        remote_row = QHBoxLayout(remote_box)
        remote_row.addWidget(self.remote_list, 1)
        remote_row.addWidget(self.remote_remove)
        self.remote_list.currentRowChanged.connect(
            lambda row: self.remote_remove.setEnabled(row >= 0)
        )
        self.remote_remove.setEnabled(False)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        columns = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(model_box)
        left.addWidget(work_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(look_box)
        right.addWidget(remote_box)
        right.addStretch(1)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(buttons)
        self.resize(820, self.sizeHint().height())

    def _browse_model(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a sentence-transformers model folder")
        if path:
            self.model_edit.setText(path)

    def _remove_sender(self) -> None:
        row = self.remote_list.currentRow()
        if row >= 0:
            self.remote_list.takeItem(row)

    def edited(self) -> Settings:
        """The settings as edited in the dialog."""
        return replace(
            self.original,
            model_path=self.model_edit.text().strip(),
            device=self.device_combo.currentData(),
            encoder_backend=self.backend_combo.currentData(),
            sync_interval_minutes=self.sync_spin.value(),
            feed_sync_interval_minutes=self.feed_spin.value(),
            focus_top_k=self.focus_spin.value(),
            dismissed_retention_days=self.retention_spin.value(),
            learning_enabled=self.learning_box.isChecked(),
            notify_high_attention=self.notify_box.isChecked(),
            high_attention_score=round(self.threshold_spin.value(), 2),
            theme=self.theme_combo.currentData(),
            start_in_tray_at_login=self.autostart_box.isChecked(),
            remote_content_senders=[
                self.remote_list.item(n).text() for n in range(self.remote_list.count())
            ],
        )

    def changes(self) -> dict[str, Any]:
        """The settings that differ from those the dialog was opened with."""
        new = self.edited()
        return {
            name: getattr(new, name)
            for name in Settings.describe()
            if getattr(new, name) != getattr(self.original, name)
        }
