"""Items: one item's detail, the notes its links name, and the user's feedback on it."""

from __future__ import annotations

from sqlalchemy import select

from focusdesk.errors import KnownError, NotFoundError
from focusdesk.records import ItemDetail
from focusdesk.store.db import Store
from focusdesk.store.models import FEEDBACK_SIGNALS, Feedback, Goal, Item
from focusdesk.store.threads import thread_messages


class ItemsService:
    """Reads items and records feedback about them (done, dismiss and snooze are ``Triage``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, item_id: int) -> ItemDetail:
        with self.store.session() as s:
            item = s.get(Item, item_id)
            if item is None:
                raise NotFoundError(f"There is no item with id {item_id}.")
            return ItemDetail(
                id=item.id,
                source_name=item.source.name,
                source_kind=item.source.kind,
                kind=item.kind,
                title=item.title,
                author=item.author,
                url=item.url,
                published_at=item.published_at,
                body=item.body,
                text=item.text,
                status=item.status,
                meta=dict(item.meta),
                thread=thread_messages(s, item),
            )

    def find_linked_note(self, item_id: int, target: str) -> int | None:
        """The note that a link in note ``item_id`` names (same vault), or None if none does.

        ``target`` is a wikilink's note name or a relative Markdown link (Obsidian's rules,
        see ``sources.note_links``).
        """
        from focusdesk.sources.note_links import NoteRef, resolve_note_link

        with self.store.session() as s:
            item = s.get(Item, item_id)
            if item is None:
                raise NotFoundError(f"There is no item with id {item_id}.")
            rows = s.execute(
                select(Item.id, Item.external_id, Item.title).where(
                    Item.source_id == item.source_id,
                    Item.kind == "note",
                    Item.vanished.is_(False),
                )
            ).all()
            here = item.external_id
        found = resolve_note_link(target, here, (NoteRef(i, p, t) for i, p, t in rows))
        return found.item_id if found is not None else None

    def record_feedback(
        self,
        item_id: int,
        signal: str,
        *,
        goal_id: int | None = None,
        value: float | None = None,
    ) -> None:
        """Record a vote (up/down) or an implicit signal (open with dwell seconds as
        ``value``, done, dismiss, snooze) about an item; the scorer learns from these."""
        if signal not in FEEDBACK_SIGNALS:
            raise KnownError(
                f"Unknown feedback {signal!r}; use one of {', '.join(FEEDBACK_SIGNALS)}."
            )
        with self.store.session() as s:
            if s.get(Item, item_id) is None:
                raise NotFoundError(f"There is no item with id {item_id}.")
            if goal_id is not None and s.get(Goal, goal_id) is None:
                raise NotFoundError(f"There is no goal with id {goal_id}.")
            s.add(Feedback(item_id=item_id, goal_id=goal_id, signal=signal, value=value))
