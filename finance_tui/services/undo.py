"""Undo: reverse the acting session's own last record change, through the audit trail.

Every record change writes an audit event with the record's state before and after it
and the session that made it. Undo takes this session's newest change that no undo
has reversed yet and writes the state before it back, as an ordinary write: the same
permission, validation and version checks, its own audit event (``record_undo``,
pointing at the event it reverses). An undo is not itself undoable: redoing a change is
doing it again, and "undo" always means "go one step further back".

If anyone (another user, or the same user in another session) changed the record
after the change to undo, nothing is written to the record; the change is marked as
refused (``record_undo_refused``) so that the next undo goes on with the change before
it: the refused one could never be undone anyway (versions only grow).
"""

from __future__ import annotations

import contextlib
import json
from datetime import date, datetime
from uuid import UUID

from peewee import IntegrityError, fn

from finance_tui.db import write_transaction
from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.dto import Principal, UndoResult
from finance_tui.errors import NothingToUndo, UndoConflict, ValidationError
from finance_tui.models import AuditEvent, Category, Record, User
from finance_tui.money import from_minor
from finance_tui.permissions import Permission
from finance_tui.services.audit import record_event
from finance_tui.services.record_rows import fetch_rows, record_select
from finance_tui.services.records import clean_of, write_deleted, write_values
from finance_tui.services.validation import validate_record
from finance_tui.services.visibility import visible
from finance_tui.textsafety import visible as visible_text

UNDOABLE = ("record_create", "record_update", "record_delete", "record_restore")
UNDO = "record_undo"
UNDO_REFUSED = "record_undo_refused"
_NOUNS = {
    "record_create": "new record",
    "record_update": "edit",
    "record_delete": "deletion",
    "record_restore": "restore",
}
# What an undone edit writes back: the audit snapshot's key -> the record field.
_EDIT_FIELDS = {
    "kind": "kind",
    "amount": "amount",
    "category_id": "category",
    "date": "date",
    "notes": "notes",
}


class UndoService:
    def __init__(self, session: Authoriser):
        self.session = session

    def undo_last(self, *, today: date | None = None) -> UndoResult:
        """Undo this session's newest change not undone yet; raises :class:`NothingToUndo`,
        :class:`UndoConflict` (nothing changed) or the write's own errors."""
        principal = self.session.require(Permission.WRITE_RECORDS)
        try:
            with write_transaction():
                event = next_undoable(principal.session_jti)
                if event is None:
                    raise NothingToUndo("Nothing to undo: this session has no change left to undo")
                result = _undo(principal, event, today)
        except UndoConflict as exc:
            _mark_refused(principal, exc)
            raise
        return result


def next_undoable(session_jti: str) -> AuditEvent | None:
    """The session's newest record change that no undo (done or refused) has taken."""
    taken = AuditEvent.alias()
    return (
        AuditEvent.select()
        .where(
            AuditEvent.session_jti == session_jti,
            AuditEvent.action.in_(UNDOABLE),
            ~fn.EXISTS(taken.select(taken.id).where(taken.undoes == AuditEvent.id)),
        )
        .order_by(AuditEvent.id.desc())
        .first()
    )


def _undo(principal: Principal, event: AuditEvent, today: date | None) -> UndoResult:
    noun = _NOUNS[event.action]
    rec = Record.get_or_none(Record.id == UUID(event.entity_id), visible())
    if rec is None:
        raise UndoConflict(
            event.id, f"Cannot undo your {noun}: the record no longer exists. Nothing changed."
        )
    what = f"your {noun} of {_describe(rec)}"
    _check_untouched(principal, event, rec, what)
    if event.action == "record_update":
        _write_back(principal, event, rec, today, what)
    else:
        deleted = event.action in ("record_create", "record_restore")
        write_deleted(principal, rec, deleted, action=UNDO, undoes=event.id)
    row = fetch_rows(record_select().where(Record.id == rec.id))[0]
    return UndoResult(row, event.action, f"Undone: {what}")


def _write_back(
    principal: Principal, event: AuditEvent, rec: Record, today: date | None, what: str
) -> None:
    """Write the edited fields' values from before the edit, validated like any edit."""
    before, after = json.loads(event.before or "{}"), json.loads(event.after or "{}")
    changes = {
        field: before[key]
        for key, field in _EDIT_FIELDS.items()
        if key in before and before[key] != after.get(key)
    }
    try:
        clean = validate_record(changes, current=clean_of(rec), today=today)
    except ValidationError as exc:
        raise ValidationError({"undo": f"cannot undo {what}: {exc}"}) from None
    write_values(principal, rec, clean, action=UNDO, undoes=event.id)


def _check_untouched(principal: Principal, event: AuditEvent, rec: Record, what: str) -> None:
    """Refuse unless every change to the record since ``event`` is this session's own.

    This session's later changes to it were undone already (undo goes newest first), so
    the record must be at the version the last of them left. A version beyond that is a
    change nobody audited yet: a concurrent writer.
    """
    expected = _version_after(event, None)
    later = (
        AuditEvent.select()
        .where(
            AuditEvent.entity_type == "record",
            AuditEvent.entity_id == event.entity_id,
            AuditEvent.id > event.id,
            AuditEvent.action != UNDO_REFUSED,  # a refusal changed nothing
        )
        .order_by(AuditEvent.id)
    )
    for other in later:
        if other.session_jti != principal.session_jti:
            who = _who(principal, other.actor_id, other.actor_name)
            raise _overtaken(event, what, who, other.at)
        expected = _version_after(other, expected)
    if rec.version != expected:
        user = User.get_or_none(User.id == rec.updated_by_id) if rec.updated_by_id else None
        who = _who(principal, rec.updated_by_id, user.username if user else "")
        raise _overtaken(event, what, who, rec.updated_at)


def _version_after(event: AuditEvent, default: int | None) -> int | None:
    after = json.loads(event.after) if event.after else {}
    version = after.get("version")
    return version if isinstance(version, int) else default


def _who(principal: Principal, user_id: UUID | None, name: str) -> str:
    if user_id is not None and user_id == principal.user_id:
        return "you (in another session)"
    return name or "someone else"


def _overtaken(event: AuditEvent, what: str, who: str, at: datetime | None) -> UndoConflict:
    when = f" at {at:%Y-%m-%d %H:%M:%S} UTC" if at else " since"
    return UndoConflict(
        event.id,
        f"Cannot undo {what}: {who} changed it{when}. Nothing changed; "
        "the next undo goes on with your change before it.",
    )


def _mark_refused(principal: Principal, exc: UndoConflict) -> None:
    """Take the overtaken change off this session's undo stack (audited, own transaction)."""
    event = AuditEvent.get_or_none(AuditEvent.id == exc.event_id)
    if event is None:
        return
    # IntegrityError: another undo took the change meanwhile.
    with contextlib.suppress(IntegrityError), write_transaction():
        record_event(
            principal,
            UNDO_REFUSED,
            event.entity_type,
            event.entity_id,
            after={"reason": str(exc)},
            undoes=event.id,
        )


def _describe(rec: Record) -> str:
    """'2026-11-25 expense 12.50 food': the record as people see it in the list."""
    category = Category.get_or_none(Category.id == rec.category_id)
    name = visible_text(category.name) if category else "?"
    return f"{rec.date.isoformat()} {rec.kind} {from_minor(rec.amount):,.2f} {name}"
