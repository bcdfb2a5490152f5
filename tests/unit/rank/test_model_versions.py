"""Learnt versions of the ranking model: one folder each, written atomically, loaded by
version id; a version that cannot be used falls back to the untrained model and says
why (the log, the learning status, `focusdesk doctor`); versions saved in the layout
before the one ranking model still load."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import pytest
import torch
from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.rank.affinities import Priors
from focusdesk.rank.attention import GoalAttentionScorer
from focusdesk.rank.model import RankingModel
from focusdesk.rank.model_versions import FORMAT_VERSION, MANIFEST_FILE, TEMP_PREFIX
from focusdesk.store.models import ScorerVersion

LEGACY = Path(__file__).parents[2] / "data" / "models" / "legacy_v0001"


@pytest.fixture
def desk(fd: FocusDesk, tmp_path: Path) -> FocusDesk:
    root = tmp_path / "vault"
    root.mkdir()
    for topic in ("battery charger", "radio antenna", "garden compost"):
        for n in range(3):
            (root / f"{topic.split()[0]}-{n}.md").write_text(f"{topic} note {n}\n")
    fd.sources.add("notes", str(root))
    fd.sources.sync()
    fd.goals.add("electronics: battery charger, radio antenna")
    return fd


def _model(fd: FocusDesk, seed: int = 3) -> RankingModel:
    model = fd.ranker.untrained_model().fresh_copy([1], ["ann@example.com"])
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen))
    model.set_lexical_weight(0.07)
    return model


def _relevance(fd: FocusDesk) -> dict[int, float]:
    return {r.item_id: round(r.relevance, 5) for r in fd.ranking.rank()}


def _folder(fd: FocusDesk, vid: int) -> Path:
    return fd.paths.data_dir / "scorer" / f"v{vid:04d}"


def test_a_version_is_one_folder_with_a_manifest_and_loads_by_id(desk: FocusDesk) -> None:
    model = _model(desk)
    vid = desk.ranker.save_version(model, 12, {"held_out_accuracy_new": 0.75})
    folder = _folder(desk, vid)
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "manifest.json",
        "model.safetensors",
    ]
    assert not list(folder.parent.glob(TEMP_PREFIX + "*"))
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model_id"] == desk.encoder.model_id
    assert manifest["n_votes"] == 12
    assert manifest["metrics"]["held_out_accuracy_new"] == 0.75
    assert manifest["created"]
    for name in ("config.json", "model.safetensors"):
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert manifest["sha256"][name] == digest
    # Loaded by id, and the one in use.
    loaded = desk.ranker.versions.load(vid)
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
    assert desk.ranker.version_in_use == vid
    assert desk.ranker.priors == model.priors()
    assert desk.ranker.model_problem() is None
    # A second version replaces it as the one in use; the first stays on disk.
    second = desk.ranker.save_version(_model(desk, seed=4), 14, {})
    assert desk.ranker.version_in_use == second
    with desk.store.session() as s:
        active = s.scalars(select(ScorerVersion.id).where(ScorerVersion.active.is_(True))).all()
    assert active == [second]
    assert folder.is_dir()


def _damage_missing(folder: Path) -> None:
    shutil.rmtree(folder)


def _damage_weights(folder: Path) -> None:
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (folder / "model.safetensors").write_bytes(bytes(data))


def _damage_manifest(folder: Path) -> None:
    (folder / MANIFEST_FILE).write_text("{not json")


def _other_model(folder: Path) -> None:
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    (folder / MANIFEST_FILE).write_text(json.dumps({**manifest, "model_id": "other-model:384"}))


def _newer_format(folder: Path) -> None:
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    (folder / MANIFEST_FILE).write_text(json.dumps({**manifest, "format_version": 99}))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_damage_missing, "its folder {folder} is missing"),
        (_damage_weights, "its file model.safetensors is damaged (the checksum does not match)"),
        (_damage_manifest, "its manifest ({folder}/manifest.json) is damaged"),
        (_other_model, "it was trained for the encoder model other-model:384, not fake-bow:64"),
        (_newer_format, "it was saved by a newer FocusDesk (format 99)"),
    ],
)
def test_a_version_that_cannot_be_used_falls_back_to_the_untrained_model_and_says_why(
    desk: FocusDesk, caplog: pytest.LogCaptureFixture, damage: object, reason: str
) -> None:
    untrained = _relevance(desk)
    vid = desk.ranker.save_version(_model(desk), 12, {})
    assert _relevance(desk) != untrained
    folder = _folder(desk, vid)
    damage(folder)  # type: ignore[operator]
    reason = reason.format(folder=folder)
    message = (
        f"Learnt version {vid} could not be used: {reason}. FocusDesk ranks with the "
        "untrained scorer until learning saves a new version."
    )
    # Told before the model is loaded (no torch needed) where it can be...
    if damage is not _other_model:  # the model id is known only once the encoder is loaded
        fresh = FocusDesk(desk.paths, encoder=desk.encoder)
        try:
            problem = fresh.ranker.model_problem()
            assert problem is not None
            assert problem.message() == message
        finally:
            fresh.close()
    # ... and when ranking: the untrained model ranks, never a crash.
    desk.ranker.scorer_changed()
    with caplog.at_level(logging.WARNING, logger="focusdesk.rank.ranker"):
        assert _relevance(desk) == untrained
    assert desk.ranker.version_in_use is None
    assert message in caplog.text
    status = desk.learning.status()
    assert status.version_id is None
    assert status.headline() == (
        f"Ranking with the untrained scorer: learnt version {vid} could not be used ({reason})"
    )
    assert status.lines()[0] == message
    assert desk.doctor(load_model=False)["learning"][0] == message
    # Learning goes on from the untrained model: the next version is used.
    again = desk.ranker.save_version(_model(desk, seed=5), 13, {})
    assert desk.ranker.version_in_use == again
    assert desk.learning.status().problem is None


def test_a_version_saved_before_the_one_ranking_model_still_loads(desk: FocusDesk) -> None:
    """``legacy_v0001`` was written by the code before this layout (see
    ``tests/data/models/make_legacy_version.py``): scorer files and ``priors.json``."""
    with desk.store.session() as s:
        row = ScorerVersion(
            path="v0001",
            n_votes=9,
            metrics={"model_id": desk.encoder.model_id, "changes": []},
            accepted=True,
            active=True,
        )
        s.add(row)
        s.flush()
        vid = row.id
    shutil.copytree(LEGACY, desk.paths.data_dir / "scorer" / "v0001")
    desk.ranker.scorer_changed()
    assert desk.ranker.version_in_use == vid
    assert desk.ranker.model_problem() is None
    want = GoalAttentionScorer.load(LEGACY)
    for name, value in want.state_dict().items():
        assert torch.equal(desk.ranker.scorer.state_dict()[name], value), name
    assert desk.ranker.priors == Priors.load(LEGACY / "priors.json")
    assert desk.ranker.priors == Priors({1: 0.125, 2: -0.0625}, {"lena@example.org": 0.25}, 0.0875)
    assert desk.ranking.rank()
    assert desk.learning.status().headline() == f"Ranking with learnt version {vid} (9 signals)"


def test_a_legacy_version_with_a_missing_file_falls_back_and_says_why(desk: FocusDesk) -> None:
    with desk.store.session() as s:
        row = ScorerVersion(
            path="v0001", n_votes=9, metrics={"model_id": "fake-bow:64"}, active=True
        )
        s.add(row)
        s.flush()
        vid = row.id
    folder = desk.paths.data_dir / "scorer" / "v0001"
    shutil.copytree(LEGACY, folder)
    (folder / "model.safetensors").write_bytes(b"half a file")  # today's save, interrupted
    desk.ranker.scorer_changed()
    assert desk.ranker.version_in_use is None
    problem = desk.ranker.model_problem()
    assert problem is not None
    assert problem.reason == "its files could not be read (SafetensorError)"
    assert problem.version_id == vid


def test_leftovers_of_a_killed_save_do_not_stop_the_next(desk: FocusDesk) -> None:
    """A temp folder (killed while writing) and a complete folder without its row (killed
    after the rename, before the commit) are cleared by the next save."""
    first = desk.ranker.save_version(_model(desk), 12, {})
    scorer_dir = desk.paths.data_dir / "scorer"
    stale = scorer_dir / f"{TEMP_PREFIX}v{first + 1:04d}-999999"
    stale.mkdir()
    (stale / "config.json").write_text("{")
    orphan = scorer_dir / f"v{first + 1:04d}"
    shutil.copytree(_folder(desk, first), orphan)
    (orphan / "stray").write_text("from a run that never committed")
    model = _model(desk, seed=9)
    vid = desk.ranker.save_version(model, 15, {})
    assert vid == first + 1
    assert not stale.exists()
    assert not (orphan / "stray").exists()
    loaded = desk.ranker.versions.load(vid)
    assert torch.equal(loaded.scorer.proj_q, model.scorer.proj_q)
    assert desk.ranker.version_in_use == vid
