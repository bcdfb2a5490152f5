"""Learnt versions of the ranking model: one folder per version, saved atomically,
loaded by version id, checked before use.

A version is a folder ``vNNNN`` under the profile's ``scorer/`` folder holding
``config.json`` and ``model.safetensors`` (``RankingModel``'s file form) and
``manifest.json``: format version, the encoder model it was trained for, when, on how
many signals, its evaluation, and a SHA-256 checksum of the other two files. It is
written into a temporary folder beside it, each file and the folder flushed to disk,
then renamed into place; its ``scorer_versions`` row is made the active one only after
the rename, in the same transaction. A process killed at any point leaves the version
in use as it was.

A version that cannot be used (folder missing, a file damaged, a checksum that does not
match, another encoder model's, a newer format) is never loaded: the untrained model
ranks, and the reason is kept (``VersionProblem``) for the log, ``focusdesk doctor`` and
the learning status. Versions saved before this layout (scorer files + ``priors.json``,
no manifest) still load as they are.

Checking a version needs no torch (a manifest and a checksum); loading one imports it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from focusdesk.errors import KnownError
from focusdesk.store.db import Store
from focusdesk.store.models import Feedback, ScorerVersion

if TYPE_CHECKING:
    from focusdesk.rank.model import RankingModel

MANIFEST_FILE = "manifest.json"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
LEGACY_PRIORS_FILE = "priors.json"
MANIFEST_FORMAT = "focusdesk-ranking-model"
FORMAT_VERSION = 1
"""The folder layout this code writes; a manifest of a later one is not read."""
TEMP_PREFIX = ".tmp-"
"""Folders being written start with this; one left by a killed process is removed later."""
UNTRAINED_NOTE = "FocusDesk ranks with the untrained scorer until learning saves a new version."


@dataclass(frozen=True)
class VersionProblem:
    """Why a learnt version is not used, in words for the user."""

    version_id: int
    reason: str

    def message(self) -> str:
        """The whole sentence: which version, why, and what ranks instead."""
        head = f"Learnt version {self.version_id} could not be used: {self.reason}."
        return f"{head} {UNTRAINED_NOTE}"


class UnusableVersion(Exception):
    """A version folder that cannot be loaded; ``problem`` says why."""

    def __init__(self, problem: VersionProblem) -> None:
        super().__init__(problem.message())
        self.problem = problem


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _iso(when: datetime) -> str:
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).isoformat()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


class ModelVersions:
    """The profile's learnt versions: their rows in ``scorer_versions`` and their folders
    under ``folder``, for the encoder model ``model_id``."""

    def __init__(
        self,
        store: Store,
        folder: Path | None,
        model_id: Callable[[], str],
        known_model_id: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.store = store
        self.folder = folder
        self._model_id = model_id
        self._known_model_id = known_model_id

    @property
    def model_id(self) -> str:
        """The encoder model in use (asked when needed: it may load the encoder)."""
        return self._model_id()

    # -- which version ---------------------------------------------------------------------
    def active(self) -> ScorerVersion | None:
        """The row of the version in use (None: the untrained model)."""
        with self.store.session() as s:
            version = s.scalar(select(ScorerVersion).where(ScorerVersion.active.is_(True)))
            if version is not None:
                s.expunge(version)
            return version

    def _row(self, version_id: int) -> ScorerVersion | None:
        with self.store.session() as s:
            version = s.get(ScorerVersion, version_id)
            if version is not None:
                s.expunge(version)
            return version

    # -- checking and loading --------------------------------------------------------------
    def check(self, version_id: int) -> VersionProblem | None:
        """Why version ``version_id`` cannot be used, None when it can as far as is known
        without torch: the row, the manifest, the checksums, and the encoder model when it
        is loaded already."""
        try:
            self._read(version_id, with_weights=False)
        except UnusableVersion as exc:
            return exc.problem
        return None

    def check_active(self) -> VersionProblem | None:
        """Why the active version cannot be used (None: it can, or none is active)."""
        version = self.active()
        return self.check(version.id) if version is not None else None

    def load(self, version_id: int) -> RankingModel:
        """The ranking model of version ``version_id`` (on the CPU, in eval mode). Raises
        ``UnusableVersion`` with the reason when it cannot be used."""
        model = self._read(version_id, with_weights=True)
        assert model is not None
        return model

    def _read(self, version_id: int, *, with_weights: bool) -> RankingModel | None:
        def unusable(reason: str) -> UnusableVersion:
            return UnusableVersion(VersionProblem(version_id, reason))

        # Loading compares with the encoder model in use; a check without torch does so
        # only when the encoder is loaded already (knowing its id may mean loading it).
        model_id = self.model_id if with_weights else self._known_model_id()

        def other_model(trained_for: object) -> bool:
            return model_id is not None and trained_for != model_id

        row = self._row(version_id)
        if row is None or not row.path:
            raise unusable("the profile has no saved model for it")
        trained_for = row.metrics.get("model_id")
        if trained_for is not None and other_model(trained_for):
            # Projections learnt in another model's vector space mean nothing here.
            raise unusable(f"it was trained for the encoder model {trained_for}, not {model_id}")
        if self.folder is None:
            raise unusable("this profile has no folder for learnt versions")
        path = self.folder / row.path
        if not path.is_dir():
            raise unusable(f"its folder {path} is missing")
        if not (path / MANIFEST_FILE).exists():
            return self._read_legacy(path, unusable, with_weights=with_weights)
        try:
            manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
            if not isinstance(manifest, Mapping) or manifest.get("format") != MANIFEST_FORMAT:
                raise ValueError("not a manifest")
            files = manifest["sha256"]
            version = int(manifest["format_version"])
            manifest_model = str(manifest["model_id"])
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise unusable(f"its manifest ({path / MANIFEST_FILE}) is damaged") from None
        if version > FORMAT_VERSION:
            raise unusable(f"it was saved by a newer FocusDesk (format {version})")
        if other_model(manifest_model):
            raise unusable(f"it was trained for the encoder model {manifest_model}, not {model_id}")
        content: dict[str, bytes] = {}
        for name in (CONFIG_FILE, WEIGHTS_FILE):
            try:
                content[name] = (path / name).read_bytes()
            except OSError:
                raise unusable(f"its file {name} is missing or unreadable") from None
            if _sha256(content[name]) != files.get(name):
                raise unusable(f"its file {name} is damaged (the checksum does not match)")
        if not with_weights:
            return None
        from focusdesk.rank.model import RankingModel

        try:
            model = RankingModel.from_bytes(content[CONFIG_FILE], content[WEIGHTS_FILE])
        except Exception as exc:  # a checksum that matches but a model that does not load
            raise unusable(f"its files could not be read ({exc.__class__.__name__})") from exc
        return model.eval()

    def _read_legacy(self, path: Path, unusable: Any, *, with_weights: bool) -> RankingModel | None:
        """A version in the layout before the manifest: scorer files + ``priors.json``."""
        for name in (CONFIG_FILE, WEIGHTS_FILE):
            if not (path / name).is_file():
                raise unusable(f"its file {name} is missing")
        if not with_weights:
            return None
        from focusdesk.rank.affinities import Priors
        from focusdesk.rank.attention import GoalAttentionScorer
        from focusdesk.rank.model import RankingModel

        try:
            scorer = GoalAttentionScorer.load(path)
            priors = Priors.load(path / LEGACY_PRIORS_FILE)
            return RankingModel.from_priors(scorer, priors).eval()
        except Exception as exc:  # noqa: BLE001 - any damage means: not usable
            raise unusable(f"its files could not be read ({exc.__class__.__name__})") from exc

    # -- saving ----------------------------------------------------------------------------
    def save(
        self,
        model: RankingModel,
        n_votes: int,
        metrics: Mapping[str, object],
    ) -> int:
        """Save ``model`` as a new version and make it the one in use; its id.

        The folder is complete on disk before its row becomes active, in one
        transaction; killed before the commit, the version in use stays as it was.
        """
        if self.folder is None:
            raise KnownError("This profile has no folder for trained scorers.")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._sweep()
        config, weights = model.config_bytes(), model.weights_bytes()
        with self.store.session() as s:
            version = ScorerVersion(
                path="",
                n_votes=n_votes,
                metrics={**metrics, "model_id": self.model_id},
                accepted=True,
                active=False,
            )
            s.add(version)
            s.flush()
            version.path = f"v{version.id:04d}"
            manifest = {
                "format": MANIFEST_FORMAT,
                "format_version": FORMAT_VERSION,
                "version_id": version.id,
                "model_id": self.model_id,
                "created": _iso(version.created_at),
                "n_votes": n_votes,
                "metrics": dict(version.metrics),
                "sha256": {CONFIG_FILE: _sha256(config), WEIGHTS_FILE: _sha256(weights)},
            }
            self._write_folder(
                version.path,
                {
                    CONFIG_FILE: config,
                    WEIGHTS_FILE: weights,
                    MANIFEST_FILE: json.dumps(manifest, indent=2, default=str).encode("utf-8"),
                },
            )
            s.execute(update(ScorerVersion).values(active=False))
            version.active = True
            return int(version.id)

    def _write_folder(self, name: str, files: Mapping[str, bytes]) -> None:
        """Write ``files`` into a temporary folder, flush them, rename it to ``name``."""
        assert self.folder is not None
        temp = self.folder / f"{TEMP_PREFIX}{name}-{os.getpid()}"
        if temp.exists():
            shutil.rmtree(temp)
        temp.mkdir()
        for file_name, data in files.items():
            _write_synced(temp / file_name, data)
        _fsync_dir(temp)
        target = self.folder / name
        if target.exists():
            # Left by a process killed after its rename but before its commit: no
            # committed row names it (this transaction holds the id), so it is no one's.
            self._remove(target)
        os.replace(temp, target)
        _fsync_dir(self.folder)

    def _remove(self, path: Path) -> None:
        """Delete a folder: renamed aside first, so that a kill midway leaves a temp."""
        assert self.folder is not None
        aside = self.folder / f"{TEMP_PREFIX}old-{path.name}-{os.getpid()}"
        if aside.exists():
            shutil.rmtree(aside)
        os.replace(path, aside)
        shutil.rmtree(aside, ignore_errors=True)

    def _sweep(self) -> None:
        """Remove temporary folders left by killed processes (training is one process at
        a time per profile: the training lock)."""
        assert self.folder is not None
        for path in self.folder.glob(TEMP_PREFIX + "*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)

    def record_rejected(self, n_votes: int, metrics: Mapping[str, object]) -> None:
        """Keep the evaluation of a version that was not better (its weights are dropped)."""
        with self.store.session() as s:
            s.add(
                ScorerVersion(
                    path="", n_votes=n_votes, metrics=dict(metrics), accepted=False, active=False
                )
            )

    def reset(self) -> None:
        """No version in use; feedback given so far is not learnt from any more."""
        with self.store.session() as s:
            s.execute(update(ScorerVersion).values(active=False))
            upto = int(s.scalar(select(func.max(Feedback.id))) or 0)
            s.add(
                ScorerVersion(
                    path="",
                    n_votes=0,
                    metrics={"reset": True, "feedback_upto": upto},
                    accepted=False,
                    active=False,
                )
            )
