"""Typed user settings, each with a default and a one-line description.

Stored as JSON in the profile's config folder with a ``version`` number; files
written by older versions are migrated on load, unknown keys are kept aside and
bad values fall back to their defaults (and are reported) instead of crashing.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
ENCODER_BACKENDS = ("auto", "torch-fp32", "torch-bf16", "cuda-fp16", "onnx-int8")
"""The values of the ``encoder_backend`` setting (focusdesk.rank.backends.CHOICES)."""


def _setting(default: Any, description: str) -> Any:
    return field(default=default, metadata={"description": description})


def _list_setting(description: str) -> Any:
    """A list of strings, empty by default."""
    return field(default_factory=list, metadata={"description": description})


@dataclass
class Settings:
    """Every user-tunable value of FocusDesk."""

    model_path: str = _setting(
        "",
        "Folder of a local sentence-transformers model; empty uses the bundled all-MiniLM-L6-v2.",
    )
    device: str = _setting("auto", "Where the encoder runs: auto (CUDA when present), cpu or cuda.")
    encoder_backend: str = _setting(
        "auto",
        "How the encoder computes: auto (CUDA fp16, else bf16 where the CPU runs it natively, "
        "else fp32), torch-fp32, torch-bf16, cuda-fp16 or onnx-int8 (needs focusdesk[onnx]).",
    )
    encode_batch_size: int = _setting(64, "How many chunks the encoder embeds at once.")
    chunk_tokens: int = _setting(
        254,
        "Largest passage, in the model's tokens (at most its window less [CLS] and [SEP]; "
        "the title rides with the first passage).",
    )
    heads: int = _setting(4, "Attention heads of the scoring layer (must divide the vector size).")
    temperature: float = _setting(0.3, "Initial attention temperature of each head.")
    goal_softmax_temperature: float = _setting(
        0.05, "Sharpness of the soft maximum over goals (smaller is closer to a hard max)."
    )
    max_chunks_per_item: int = _setting(32, "Chunks per item that are encoded and scored.")
    top_k: int = _setting(50, "How many ranked items the inbox and focus views show first.")
    recency_weight: float = _setting(
        0.05, "Most a brand-new item's score is raised by recency (it halves every half-life)."
    )
    half_life_notes_days: float = _setting(30.0, "Recency half-life of notes, in days.")
    half_life_email_days: float = _setting(7.0, "Recency half-life of email, in days.")
    half_life_feed_days: float = _setting(3.0, "Recency half-life of feed entries, in days.")
    duplicate_similarity: float = _setting(
        0.93, "Cosine above which two items are the same story and are shown as one."
    )
    redundancy_similarity: float = _setting(
        0.80, "Cosine above which an item is penalised for repeating a higher-ranked one."
    )
    redundancy_penalty: float = _setting(
        0.05, "Largest score penalty for repeating a higher-ranked item."
    )
    focus_top_k: int = _setting(5, "How many items a focus block shows.")
    focus_floor_minutes: int = _setting(5, "The fewest minutes a focus block gives one item.")
    allocation_temperature: float = _setting(
        0.25, "Temperature T of the attention shares softmax(S/T) (smaller favours the top)."
    )
    sync_interval_minutes: int = _setting(
        15, "Minutes between automatic syncs of notes and mail (0: only when asked)."
    )
    feed_sync_interval_minutes: int = _setting(
        60, "Minutes between automatic syncs of feeds (0: only when asked)."
    )
    dismissed_retention_days: int = _setting(
        30, "Days a dismissed item's text is kept (0: forever); it stays dismissed after."
    )
    theme: str = _setting("system", "Colours of the desktop app: system, light or dark.")
    high_attention_score: float = _setting(
        0.45, "Score from which a new item counts as high-attention (tray and notifications)."
    )
    notify_high_attention: bool = _setting(
        True, "Show a notification when new high-attention items arrive."
    )
    learning_enabled: bool = _setting(
        True, "Learn from votes and triage in the background (off: the scorer stays as it is)."
    )
    learn_after_signals: int = _setting(
        10, "How many new votes or triage signals start a background training run."
    )
    learn_quiet_seconds: int = _setting(
        120, "After this many quiet seconds, fewer new signals also start a training run."
    )
    remote_content_senders: list[str] = _list_setting(
        "Senders (addresses) and domains whose remote images load without asking."
    )
    start_in_tray_at_login: bool = _setting(
        False, "Start FocusDesk in the tray when you log in (an XDG autostart entry)."
    )

    @classmethod
    def describe(cls) -> dict[str, str]:
        """Name -> one-line description, for ``doctor`` and the settings dialog."""
        return {f.name: f.metadata["description"] for f in fields(cls)}


def _coerce(value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise TypeError
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise TypeError
        return value
    if isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError
        return list(value)
    return value


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a settings dict written by an older version up to SETTINGS_VERSION."""
    version = data.get("version", 0)
    # Version 0 (pre-release) called the model folder "model".
    if version < 1 and "model" in data and "model_path" not in data:
        data["model_path"] = data.pop("model")
    data["version"] = SETTINGS_VERSION
    return data


def load_settings(path: Path) -> Settings:
    """Read settings from ``path``; a missing or unreadable file gives the defaults."""
    if not path.exists():
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        log.warning("Settings file %s is unreadable (%s); using defaults", path, exc)
        return Settings()
    data = _migrate(data)
    kwargs: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name not in data:
            continue
        default = f.default if f.default is not MISSING else None
        if f.default_factory is not MISSING:
            default = f.default_factory()
        try:
            kwargs[f.name] = _coerce(data[f.name], default)
        except TypeError:
            log.warning("Setting %s=%r is invalid; using %r", f.name, data[f.name], default)
    settings = Settings(**kwargs)
    if settings.device not in ("auto", "cpu", "cuda"):
        log.warning("Setting device=%r is invalid; using 'auto'", settings.device)
        settings.device = "auto"
    if settings.encoder_backend not in ENCODER_BACKENDS:
        log.warning("Setting encoder_backend=%r is invalid; using 'auto'", settings.encoder_backend)
        settings.encoder_backend = "auto"
    if settings.theme not in ("system", "light", "dark"):
        log.warning("Setting theme=%r is invalid; using 'system'", settings.theme)
        settings.theme = "system"
    return settings


def save_settings(settings: Settings, path: Path) -> None:
    """Write settings atomically (a crash never leaves a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"version": SETTINGS_VERSION, **asdict(settings)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
