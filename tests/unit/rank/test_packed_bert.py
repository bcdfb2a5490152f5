"""The packed bf16 runner: the model's own vectors, whatever the padding around a text."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from fakes import tiny_bert

from focusdesk.rank.packed_bert import PackedBertRunner, unsupported


def _model(bert: object, pooling: str = "mean", last: object | None = None) -> list[object]:
    modules = [SimpleNamespace(auto_model=bert), SimpleNamespace(pooling_mode=pooling)]
    return modules if last is None else [*modules, last]


def test_a_bert_with_mean_pooling_runs_packed_and_anything_else_says_why() -> None:
    class Normalize:  # named like sentence-transformers' module
        pass

    bert = tiny_bert()
    assert unsupported(_model(bert)) is None
    assert unsupported(_model(bert, last=Normalize())) is None
    assert "pooling" in str(unsupported(_model(bert, pooling="cls")))
    assert "relu" in str(unsupported(_model(tiny_bert(hidden_act="relu"))))
    assert "not BertModel" in str(unsupported([SimpleNamespace(auto_model=object()), None]))
    assert "last module" in str(unsupported(_model(bert, last=object())))
    assert "4 modules" in str(unsupported([*_model(bert), Normalize(), Normalize()]))
    with pytest.raises(ValueError, match="pooling"):
        PackedBertRunner(_model(bert, pooling="max"))


def _mean_pooled(bert: object, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The model's own forward pass in fp32, mean-pooled over the real tokens."""
    import torch

    t_ids, t_mask = torch.from_numpy(ids), torch.from_numpy(mask)
    with torch.inference_mode():
        hidden = bert(input_ids=t_ids, attention_mask=t_mask).last_hidden_state  # type: ignore[operator]
    m = t_mask[:, :, None].float()
    pooled = (hidden * m).sum(1) / m.sum(1)
    return np.asarray(torch.nn.functional.normalize(pooled, dim=1).numpy())


def _padded(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return ids, mask


def test_the_packed_forward_is_the_models_own_on_a_padded_batch() -> None:
    import torch

    torch.manual_seed(7)
    bert = tiny_bert()
    rng = np.random.default_rng(3)
    rows = [list(rng.integers(1, 100, size=n)) for n in (3, 17, 40, 9)]
    ids, mask = _padded(rows)
    packed = PackedBertRunner(_model(bert)).run(ids, mask)
    own = _mean_pooled(bert, ids, mask)
    cos = np.sum(packed * own, axis=1)
    assert packed.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(packed, axis=1), 1.0, rtol=1e-5)
    assert cos.min() > 0.999  # bf16 products against fp32, on random weights
    # A wrong position or a padded token let into attention or the mean moves it far more.
    shifted = _mean_pooled(bert, ids[:, ::-1].copy(), mask[:, ::-1].copy())
    assert np.sum(shifted * own, axis=1).min() < 0.99


@pytest.mark.model
def test_real_passages_keep_fp32s_vectors_whatever_their_batch(real_encoder: object) -> None:
    from focusdesk.rank.backends import TorchRunner

    model = real_encoder.load()  # type: ignore[attr-defined]
    texts = [
        "Meeting moved to Thursday.",
        "The new GPU drivers fix the flickering on external monitors but break suspend. " * 6,
        "For sale: 1992 Honda motorcycle, 30k miles, new tyres, runs well.",
    ]
    enc = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)
    ids, mask = _padded([list(r) for r in enc["input_ids"]])
    packed = PackedBertRunner(model)
    together = packed.run(ids, mask)
    fp32 = TorchRunner(model).run(ids, mask)
    autocast = TorchRunner(model, bf16=True).run(ids, mask)
    assert np.sum(together * fp32, axis=1).min() > 0.9995
    assert np.sum(together * autocast, axis=1).min() > 0.9999
    for i, row in enumerate(enc["input_ids"]):  # alone, without padding around it
        alone = packed.run(*_padded([list(row)]))
        assert float(np.dot(alone[0], together[i])) > 0.9999  # bf16 sums in another order
