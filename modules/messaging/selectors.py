"""Read queries for the messaging API, each in a fixed number of queries."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from core.models import User
from modules.messaging.models import Block, Message, Thread


def threads_for(user: User) -> QuerySet[Thread]:
    """The user's threads with the other party, the last message and the unread count: one query."""
    last = Message.objects.filter(thread=OuterRef("pk")).order_by("-created_at", "-id")
    unread = (
        Message.objects.filter(thread=OuterRef("pk"), recipient=user, read_at__isnull=True, deleted_at__isnull=True)
        .order_by()
        .values("thread")
        .annotate(c=Count("pk"))
        .values("c")
    )
    return (
        Thread.objects.filter(Q(user_low=user) | Q(user_high=user))
        .select_related("user_low", "user_high")
        .annotate(
            last_id=Subquery(last.values("pk")[:1]),
            last_body=Subquery(last.values("body")[:1]),
            last_sender_id=Subquery(last.values("sender_id")[:1]),
            last_created_at=Subquery(last.values("created_at")[:1]),
            last_deleted_at=Subquery(last.values("deleted_at")[:1]),
            unread_count=Coalesce(Subquery(unread, output_field=IntegerField()), 0),
        )
    )


def history(thread: Thread) -> QuerySet[Message]:
    return Message.objects.filter(thread=thread).select_related("attachment")


def search(user: User, q: str, *, other_id: uuid.UUID | None = None) -> QuerySet[Message]:
    """The caller's own messages (sent or received, not deleted) matching ``q``.

    PostgreSQL: full-text search (websearch syntax, MESSAGING_SEARCH_CONFIG, default "english").
    Elsewhere: case-insensitive contains.
    """
    qs = Message.objects.filter(Q(sender=user) | Q(recipient=user), deleted_at__isnull=True).select_related("attachment")
    if other_id is not None:
        qs = qs.filter(Q(sender_id=other_id) | Q(recipient_id=other_id))
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        config = getattr(settings, "MESSAGING_SEARCH_CONFIG", "english")
        return qs.annotate(_doc=SearchVector("body", config=config)).filter(
            _doc=SearchQuery(q, config=config, search_type="websearch")
        )
    return qs.filter(body__icontains=q)


def blocked_by(user: User) -> QuerySet[Block]:
    return Block.objects.filter(blocker=user).select_related("blocked").order_by("-created_at", "-id")
