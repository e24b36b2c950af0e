"""Record create / read / update / soft delete / restore, with audit and summaries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from finance_tui.db import write_transaction
from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.dto import Page, Principal, RecordRow
from finance_tui.domain.paging import Window
from finance_tui.errors import ConflictError, NotFound, ValidationError
from finance_tui.models import Record, User, utcnow
from finance_tui.money import from_minor
from finance_tui.permissions import Permission
from finance_tui.services import summaries
from finance_tui.services.audit import record_event
from finance_tui.services.query import (
    filter_from_strings,
    run_count,
    run_position,
    run_query,
    run_window,
)
from finance_tui.services.record_rows import fetch_rows, record_select
from finance_tui.services.validation import CleanRecord, validate_record
from finance_tui.services.visibility import visible

if TYPE_CHECKING:
    from finance_tui.domain.filters import RecordFilter
    from finance_tui.domain.paging import WindowRequest


def snapshot(rec: Record) -> dict:
    """Audit before/after view of a record (money as a decimal string)."""
    return {
        "kind": rec.kind,
        "amount": str(from_minor(rec.amount)),
        "category_id": rec.category_id,
        "date": rec.date,
        "notes": rec.notes,
        "is_deleted": rec.is_deleted,
        "version": rec.version,
    }


def clean_of(rec: Record) -> CleanRecord:
    return CleanRecord(rec.kind, rec.amount, rec.category_id, rec.date, rec.notes)


def _parse_id(record_id: UUID | str) -> UUID:
    try:
        return record_id if isinstance(record_id, UUID) else UUID(str(record_id).strip())
    except ValueError:
        raise NotFound(f"No record with id {record_id!s}") from None


def insert_record(clean: CleanRecord, author: UUID | None) -> Record:
    """Write one validated record and its summary cell (inside the caller's transaction).

    The one path for single records, so the form and the recurring schedules keep the
    summaries (and, through its triggers, the search index) in step the same way.
    """
    now = utcnow()
    rec = Record.create(
        kind=clean.kind,
        amount=clean.amount_minor,
        category=clean.category_id,
        date=clean.date,
        notes=clean.notes,
        created_by=author,
        updated_by=author,
        created_at=now,
        updated_at=now,
    )
    summaries.add_record(clean.date, clean.category_id, clean.kind, clean.amount_minor)
    return rec


class RecordService:
    def __init__(self, session: Authoriser):
        self.session = session

    # ---- reads ---------------------------------------------------------
    def get(self, record_id: UUID | str) -> RecordRow:
        principal = self.session.require(Permission.VIEW_RECORDS)
        found = fetch_rows(
            record_select().where(Record.id == _parse_id(record_id), visible()).limit(1)
        )
        row = found[0] if found else None
        if row is None or (row.is_deleted and not self._may_see_deleted(principal)):
            raise NotFound(f"No record with id {record_id!s}")
        return row

    def list(self, flt: RecordFilter, *, with_total: bool = True) -> Page[RecordRow]:
        self.session.require(Permission.VIEW_RECORDS)
        if flt.include_deleted or flt.only_deleted:
            self.session.require(Permission.VIEW_DELETED)
        return run_query(flt, with_total=with_total)

    def count(self, flt: RecordFilter) -> int:
        self.session.require(Permission.VIEW_RECORDS)
        if flt.include_deleted or flt.only_deleted:
            self.session.require(Permission.VIEW_DELETED)
        return run_count(flt)

    def position(self, flt: RecordFilter, row: RecordRow) -> int | None:
        """Index of ``row`` in ``flt``'s order, or None if the filter leaves it out."""
        self.session.require(Permission.VIEW_RECORDS)
        if flt.include_deleted or flt.only_deleted:
            self.session.require(Permission.VIEW_DELETED)
        return run_position(flt, row)

    def window(self, request: WindowRequest) -> Window:
        """One key action of the records screen in one call: parse the typed filter
        (when given), read the window by key and count when cheap (see
        :mod:`finance_tui.domain.paging`). A typed filter equal to the one shown reads
        nothing (``changed`` False)."""
        self.session.require(Permission.VIEW_RECORDS)
        flt = request.flt
        if request.raw is not None:
            parsed = filter_from_strings(request.raw, today=request.today)
            flt = replace(
                parsed,
                sort=flt.sort,
                descending=flt.descending,
                only_deleted=flt.only_deleted,
                limit=flt.limit,
            )
            if flt == request.flt:
                return Window(flt, [], 0, changed=False)
        if flt.include_deleted or flt.only_deleted:
            self.session.require(Permission.VIEW_DELETED)
        return run_window(flt, request)

    @staticmethod
    def _may_see_deleted(principal: Principal) -> bool:
        from finance_tui.permissions import role_allows

        return role_allows(principal.role, Permission.VIEW_DELETED)

    # ---- writes --------------------------------------------------------
    def create(self, data: Mapping[str, object], *, today: date | None = None) -> RecordRow:
        principal = self.session.require(Permission.WRITE_RECORDS)
        clean = validate_record(data, today=today)
        with write_transaction():
            rec = insert_record(clean, principal.user_id)
            record_event(principal, "record_create", "record", rec.id, after=snapshot(rec))
        return self.get(rec.id)

    def update(
        self,
        record_id: UUID | str,
        version: int,
        changes: Mapping[str, object],
        *,
        today: date | None = None,
    ) -> RecordRow:
        """Apply a partial change; ``version`` is the one the caller read."""
        principal = self.session.require(Permission.WRITE_RECORDS)
        rid = _parse_id(record_id)
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValidationError({"version": "must be the integer version you read"})
        with write_transaction():
            rec = self._load_live(rid)
            self._check_version(rec, version)
            clean = validate_record(changes, current=clean_of(rec), today=today)
            if clean == clean_of(rec):
                return fetch_rows(record_select().where(Record.id == rid))[0]
            write_values(principal, rec, clean)
        return self.get(rid)

    def delete(self, record_id: UUID | str, version: int | None = None) -> RecordRow:
        """Soft delete. With ``version``, refuse if someone changed it since it was read."""
        return self._set_deleted(record_id, version, deleted=True)

    def restore(self, record_id: UUID | str) -> RecordRow:
        return self._set_deleted(record_id, None, deleted=False)

    def _set_deleted(self, record_id: UUID | str, version: int | None, deleted: bool) -> RecordRow:
        principal = self.session.require(Permission.WRITE_RECORDS)
        rid = _parse_id(record_id)
        with write_transaction():
            rec = Record.get_or_none(Record.id == rid, visible())
            if rec is None:
                raise NotFound(f"No record with id {record_id!s}")
            if rec.is_deleted == deleted:
                state = "already deleted" if deleted else "not deleted"
                raise ValidationError({"record": f"is {state}"})
            if version is not None:
                self._check_version(rec, version)
            write_deleted(principal, rec, deleted)
        return fetch_rows(record_select().where(Record.id == rid))[0]

    @staticmethod
    def _load_live(rid: UUID) -> Record:
        rec = Record.get_or_none(Record.id == rid, visible())
        if rec is None or rec.is_deleted:
            raise NotFound(f"No record with id {rid}")
        return rec

    @staticmethod
    def _check_version(rec: Record, version: int) -> None:
        check_version(rec, version)


def check_version(rec: Record, version: int) -> None:
    """Refuse a write based on ``version`` if the record has moved on since."""
    if rec.version != version:
        who = User.get_or_none(User.id == rec.updated_by_id) if rec.updated_by_id else None
        raise ConflictError(who.username if who else None, rec.updated_at, rec.version)


def write_values(
    principal: Principal,
    rec: Record,
    clean: CleanRecord,
    *,
    action: str = "record_update",
    undoes: int | None = None,
) -> None:
    """Write ``clean`` over ``rec`` if it is still at the version read, with its summaries
    and audit event, in the caller's transaction (edits and undo share it)."""
    before = snapshot(rec)
    updated = (
        Record.update(
            kind=clean.kind,
            amount=clean.amount_minor,
            category=clean.category_id,
            date=clean.date,
            notes=clean.notes,
            updated_by=principal.user_id,
            updated_at=utcnow(),
            version=Record.version + 1,
        )
        .where(Record.id == rec.id, Record.version == rec.version)
        .execute()
    )
    if updated != 1:  # changed between our read and our write (PostgreSQL)
        check_version(Record.get_by_id(rec.id), rec.version)
    summaries.apply(
        [
            (rec.date, rec.category_id, rec.kind, -1, -rec.amount),
            (clean.date, clean.category_id, clean.kind, 1, clean.amount_minor),
        ]
    )
    after = snapshot(Record.get_by_id(rec.id))
    record_event(principal, action, "record", rec.id, before, after, undoes=undoes)


def write_deleted(
    principal: Principal,
    rec: Record,
    deleted: bool,
    *,
    action: str | None = None,
    undoes: int | None = None,
) -> None:
    """Soft delete or restore ``rec`` if it is still at the version read, with summaries
    and audit event, in the caller's transaction (delete, restore and undo share it)."""
    before = snapshot(rec)
    updated = (
        Record.update(
            is_deleted=deleted,
            deleted_at=utcnow() if deleted else None,
            deleted_by=principal.user_id if deleted else None,
            updated_by=principal.user_id,
            updated_at=utcnow(),
            version=Record.version + 1,
        )
        .where(Record.id == rec.id, Record.version == rec.version)
        .execute()
    )
    if updated != 1:  # changed between our read and our write (PostgreSQL)
        check_version(Record.get_by_id(rec.id), rec.version)
    sign = -1 if deleted else 1
    summaries.add_record(rec.date, rec.category_id, rec.kind, rec.amount, sign)
    after = snapshot(Record.get_by_id(rec.id))
    action = action or ("record_delete" if deleted else "record_restore")
    record_event(principal, action, "record", rec.id, before, after, undoes=undoes)
