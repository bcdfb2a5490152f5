"""How ``legacy_v0001/`` was made: a trained scorer version in the layout FocusDesk wrote
before the one ranking model (commit 005ebe8: ``GoalAttentionScorer.save`` then
``Priors.save`` into the version's folder, no manifest). Run with that commit's
``focusdesk`` on the path: ``PYTHONPATH=OLD python make_legacy_version.py OUT``.
Kept as a record; the test reads the files it wrote."""

import sys
from pathlib import Path

import torch

from focusdesk.rank.attention import GoalAttentionScorer
from focusdesk.rank.learning import Priors

out = Path(sys.argv[1])
torch.manual_seed(11)
scorer = GoalAttentionScorer(64, heads=4, init_temperature=0.3, goal_temperature=0.05)
with torch.no_grad():
    for p in scorer.parameters():
        p.add_(0.05 * torch.randn_like(p))
scorer.save(out)
Priors({1: 0.125, 2: -0.0625}, {"lena@example.org": 0.25}, 0.0875).save(out / "priors.json")
