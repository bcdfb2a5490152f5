"""The SQL store: the single source of truth of a profile."""

from focusdesk.store.db import Store
from focusdesk.store.models import Base, Chunk, Embedding, Feedback, Goal, Item, Source

__all__ = ["Base", "Chunk", "Embedding", "Feedback", "Goal", "Item", "Source", "Store"]
