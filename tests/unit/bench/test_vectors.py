"""The clustered synthetic vectors a generated profile stores."""

from __future__ import annotations

import numpy as np

from focusdesk.bench.vectors import MAX_CHUNKS, facet_vectors, goal_topics, synthetic_vectors


def test_vectors_look_like_a_profile() -> None:
    v = synthetic_vectors(500, 1250, dim=32, topics=20, seed=1)
    assert v.vectors.shape == (1250, 32)
    assert v.counts.sum() == 1250
    assert v.counts.min() >= 1
    assert v.counts.max() <= MAX_CHUNKS
    assert len(v.topic) == 500
    np.testing.assert_allclose(np.linalg.norm(v.vectors, axis=1), 1.0, atol=1e-5)
    # An item of several chunks ends with its document chunk, close to its passages.
    k = int(np.flatnonzero(v.counts > 2)[0])
    first, last = int(v.starts[k]), int(v.starts[k] + v.counts[k] - 1)
    assert float(v.vectors[last] @ v.vectors[first]) > 0.3
    # Items about one topic are closer to each other than to other topics' items.
    same = np.flatnonzero(v.topic == v.topic[k])
    other = np.flatnonzero(v.topic != v.topic[k])
    docs = v.starts + v.counts - 1
    assert (v.vectors[docs[same]] @ v.vectors[last]).mean() > (
        v.vectors[docs[other]] @ v.vectors[last]
    ).mean()


def test_goal_facets_lie_near_the_goal_and_its_topic() -> None:
    v = synthetic_vectors(500, 1250, dim=32, topics=20, seed=1)
    rng = np.random.default_rng(2)
    topics = goal_topics(v, 3, rng)
    assert len(set(topics.tolist())) == 3
    facets = facet_vectors(v, topics, [1, 3, 5], rng)
    assert [len(f) for f in facets] == [1, 3, 5]
    for t, f in zip(topics, facets, strict=True):
        np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, atol=1e-5)
        assert float(f[0] @ v.centres[t]) > 0.5
        assert (f[1:] @ f[0] > 0.5).all()
