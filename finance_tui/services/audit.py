"""Audit trail: one event per change, written in the same transaction as the change."""

from __future__ import annotations

import builtins
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from peewee import ModelSelect, fn

from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.dto import AuditRow, Page, Principal
from finance_tui.domain.filters import AuditFilter
from finance_tui.domain.values import search_text_problem
from finance_tui.errors import ValidationError
from finance_tui.models import AuditEvent
from finance_tui.permissions import Permission

MAX_PAGE = 500


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _dump(data: dict | None) -> str | None:
    return None if data is None else json.dumps(data, default=_json_default, sort_keys=True)


def _storable(text: str) -> str:
    """``text`` with lone surrogates spelled ``\\udcff`` (a file name given on the command
    line may hold bytes that are not UTF-8, which the database cannot store), cut to the
    column's width from the left: the end of a file name is the telling part."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    width = AuditEvent.entity_id.max_length
    return text if len(text) <= width else text[-width:]


def record_event(
    actor: Principal | None,
    action: str,
    entity_type: str = "",
    entity_id: object = "",
    before: dict | None = None,
    after: dict | None = None,
    actor_name: str | None = None,
    undoes: int | None = None,
) -> int:
    """Append one event. Call inside the transaction of the change it describes.

    The actor's session is stored with it: undo reverses only its own session's changes.
    Returns the event's id.
    """
    event = AuditEvent.create(
        actor=actor.user_id if actor else None,
        actor_name=actor_name if actor_name is not None else (actor.username if actor else ""),
        action=action,
        entity_type=entity_type,
        entity_id=_storable(str(entity_id)),
        before=_dump(before),
        after=_dump(after),
        session_jti=actor.session_jti if actor else None,
        undoes=undoes,
    )
    return int(event.id)


def _to_row(event: AuditEvent) -> AuditRow:
    return AuditRow(
        id=event.id,
        at=event.at,
        actor=event.actor_name or "—",
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        before=json.loads(event.before) if event.before else None,
        after=json.loads(event.after) if event.after else None,
        undoes=event.undoes,
    )


def _check_filter(flt: AuditFilter) -> None:
    """A bad filter value is a field error, never silently ignored."""
    if not 1 <= flt.limit <= MAX_PAGE:
        raise ValidationError({"limit": f"must be between 1 and {MAX_PAGE}"})
    if flt.offset < 0:
        raise ValidationError({"offset": "must not be negative"})
    if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
        raise ValidationError({"date_to": "must not be before the start date"})
    for name in ("action", "actor", "entity_id"):
        value = getattr(flt, name)
        if value and (problem := search_text_problem(value)):
            raise ValidationError({name: problem})


def _filtered(flt: AuditFilter) -> ModelSelect[AuditEvent]:
    """The events ``flt`` selects (unordered, not paged)."""
    query = AuditEvent.select()
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.actor:
        # Exact name, case-insensitive (ILIKE would treat '_' and '%' as wildcards).
        query = query.where(fn.LOWER(AuditEvent.actor_name) == flt.actor.strip().lower())
    if flt.entity_id:
        query = query.where(AuditEvent.entity_id == flt.entity_id)
    if flt.date_from:
        query = query.where(AuditEvent.at >= datetime.combine(flt.date_from, datetime.min.time()))
    if flt.date_to:
        end = datetime.combine(flt.date_to + timedelta(days=1), datetime.min.time())
        query = query.where(AuditEvent.at < end)
    return query


class AuditService:
    def __init__(self, session: Authoriser):
        self.session = session

    def list(self, flt: AuditFilter | None = None) -> Page[AuditRow]:
        self.session.require(Permission.VIEW_AUDIT)
        flt = flt or AuditFilter()
        _check_filter(flt)
        query = _filtered(flt)
        total = query.count()
        rows = query.order_by(AuditEvent.id.desc()).offset(flt.offset).limit(flt.limit)
        return Page([_to_row(e) for e in rows], total, flt.offset, flt.limit)

    def actions(self) -> builtins.list[str]:  # `list` here is the method above
        self.session.require(Permission.VIEW_AUDIT)
        query = AuditEvent.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
        return [e.action for e in query]
