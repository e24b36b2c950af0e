"""The four steps of a CSV import, each usable and testable alone:

1. :func:`read_rows`: file rows with their line numbers;
2. :class:`RowValidator`: a row to a parsed record, by the record parser's rules;
3. :class:`Deduplicator`: an import fingerprint per record; drop the ones already stored;
4. :class:`BatchWriter`: short, paced write transactions tagged with the import batch.

:class:`~finance_tui.services.csv_import.CsvImporter` chains them and keeps the report.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from operator import itemgetter
from typing import NamedTuple
from uuid import UUID

from finance_tui.models import Record
from finance_tui.services import bulk, imports
from finance_tui.services.csv_columns import ColumnMap
from finance_tui.services.validation import (
    RECORD_FIELDS,
    ParsedRecord,
    RecordParser,
    collect_problem,
)

BATCH = 2500  # rows in the first write transaction; then paced (imports.Pacer)
BLOOM_BITS = 1 << 27
_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"", "0", "false", "no", "n", "f"})
_ABSENT = 1 << 30  # column index of a column the file does not have
_blake2b = hashlib.blake2b
_NewRecord = bulk.NewRecord


# ---- 1. read ---------------------------------------------------------------------------
class SourceRow(NamedTuple):
    line: int  # the file line the row starts on (a quoted cell may span lines)
    cells: list[str]
    error: str | None = None  # the csv module could not read the row


def read_rows(reader: Iterator[list[str]], header_line: int) -> Iterator[SourceRow]:
    """Every non-blank row after the header. A row the csv module cannot read comes
    out with its ``error`` (and no cells): one bad row must not hide the rest."""
    prev_line = header_line
    while True:
        try:
            for cells in reader:  # a plain loop: no next() call per row
                line, prev_line = prev_line + 1, reader.line_num  # type: ignore[attr-defined]
                if len(cells) > 1 or (cells and cells[0].strip()):
                    yield SourceRow(line, cells)
            return
        except csv.Error as exc:
            line, prev_line = prev_line + 1, reader.line_num  # type: ignore[attr-defined]
            yield SourceRow(line, [], f"cannot be read as CSV ({exc})")


# ---- 2. validate -----------------------------------------------------------------------
class InvalidRow(Exception):
    """A row with at least one bad field; ``problems`` maps each field to its message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


class ValidRow(NamedTuple):  # a tuple: made once per row, so cheap to make
    record: ParsedRecord
    record_id: UUID | None = None  # from our own export's id column
    created_at: datetime | None = None


def parse_created_at(raw: str) -> datetime | None:
    """Our export's ``created_at`` (naive UTC, as stored); empty is None."""
    text = raw.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a date and time (YYYY-MM-DD HH:MM:SS)") from None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_record_id(raw: str) -> UUID:
    try:
        return UUID(raw.strip())
    except ValueError:
        raise ValueError("is not a record id (UUID)") from None


class RowValidator:
    """Step 2: the cells of one row to a record, with the record parser's rules and
    messages, plus the columns only an export has (``id``, ``created_at``, ``deleted``)."""

    def __init__(self, parser: RecordParser, columns: ColumnMap):
        index = columns.index
        self.parser = parser
        self._fields = [(name, index[name]) for name in RECORD_FIELDS if name in index]
        self._names = [name for name, _ in self._fields]
        pick = itemgetter(*(i for _, i in self._fields))  # C speed; a tuple (2+ fields)
        self._pick: Callable[[list[str]], tuple[str, ...]] = pick
        self._extras = any(name in index for name in ("id", "created_at", "deleted"))
        # the fast path: all five record columns (or all but the kind, when the amount's
        # sign gives it), picked at C speed in the order RecordParser.plain takes them
        plain = [index.get(name, _ABSENT) for name in RECORD_FIELDS]
        if parser.rules.signed_amount:
            plain[0] = plain[1]  # any cell: plain() ignores the kind of a signed amount
        self._plain_pick = itemgetter(*plain) if _ABSENT not in plain else None
        self._width = max(plain) + 1
        self._i_id = index.get("id", _ABSENT)
        self._i_created = index.get("created_at", _ABSENT)
        self._i_deleted = index.get("deleted", _ABSENT)

    def validate(self, cells: list[str]) -> ValidRow | None:
        """The row's record; None for a row deleted in the source (it is skipped).
        Raises :class:`InvalidRow` naming every bad field."""
        if self._plain_pick is not None and not self._extras and len(cells) >= self._width:
            record = self.parser.plain(*self._plain_pick(cells))
            if record is not None:
                return ValidRow(record)
        try:
            values = dict(zip(self._names, self._pick(cells), strict=True))
        except IndexError:  # a short row: the missing cells are empty
            values = {name: cells[i] if i < len(cells) else "" for name, i in self._fields}
        problems: dict[str, str] = {}
        extras: tuple[UUID | None, datetime | None] = (None, None)
        if self._extras:
            columns = self._export_columns(cells, problems)
            if columns is None:
                return None
            extras = columns
        record = self.parser.record(values, problems)
        if record is None:
            raise InvalidRow(problems)
        return ValidRow(record, *extras)

    def _export_columns(
        self, cells: list[str], problems: dict[str, str]
    ) -> tuple[UUID | None, datetime | None] | None:
        """(record id, created at), or None when the row says it was deleted."""
        n = len(cells)
        deleted = cells[self._i_deleted].strip().lower() if self._i_deleted < n else ""
        if deleted in _TRUE:
            return None
        if deleted not in _FALSE:
            problems["deleted"] = "must be true or false"
        created = cells[self._i_created] if self._i_created < n else ""
        created_at = collect_problem(problems, "created_at", parse_created_at, created)
        raw_id = cells[self._i_id].strip() if self._i_id < n else ""
        record_id = collect_problem(problems, "id", parse_record_id, raw_id) if raw_id else None
        return record_id, created_at


# ---- 3. de-duplicate -------------------------------------------------------------------
class Occurrences:
    """How often a digest occurred before in this file, in fixed memory: a Bloom filter
    (16 MB at the default size, whatever the file size) plus exact counts for the
    repeats it reports. A false positive only changes a fingerprint's suffix, and the
    same way for the same file, so a re-import still matches."""

    def __init__(self, bits: int = BLOOM_BITS):
        if bits < 8 or bits & (bits - 1):
            raise ValueError("the Bloom filter size must be a power of two of at least 8")
        self._bloom = bytearray(bits // 8)
        self._mask = bits - 1
        self._repeats: dict[bytes, int] = {}

    def earlier(self, digest: bytes) -> int:
        """0 the first time a (16-byte) digest comes; then 1, 2, ..."""
        h, mask, bloom = int.from_bytes(digest, "little"), self._mask, self._bloom
        p1, p2, p3 = h & mask, (h >> 40) & mask, (h >> 80) & mask
        b1, b2, b3 = 1 << (p1 & 7), 1 << (p2 & 7), 1 << (p3 & 7)
        p1, p2, p3 = p1 >> 3, p2 >> 3, p3 >> 3
        if bloom[p1] & b1 and bloom[p2] & b2 and bloom[p3] & b3:
            k = self._repeats.get(digest, 1)
            self._repeats[digest] = k + 1
            return k
        bloom[p1] |= b1
        bloom[p2] |= b2
        bloom[p3] |= b3
        return 0


# a record ready to write, and the id to look for in the database (None: no id to check)
Fingerprinted = tuple[bulk.NewRecord, UUID | None]


class Deduplicator:
    """Step 3: re-importing a file never duplicates a record.

    Each record gets an import fingerprint: ``id:<uuid>`` when the file has an id
    column (our own export), else the date and a hash of the cleaned content. Content
    that already occurred earlier in the same file gets ``#k`` appended (its occurrence
    number), so two identical lunches both import while a re-import still matches.
    :meth:`fresh` then drops the records whose fingerprint or id is already stored.
    """

    def __init__(
        self,
        *,
        check_fingerprints: bool,
        check_ids: bool,
        occurrences: Occurrences | None = None,
    ):
        self.check_fingerprints = check_fingerprints
        self.check_ids = check_ids
        self.occurrences = occurrences or Occurrences()

    def fingerprint(self, row: ValidRow) -> Fingerprinted:
        (kind, cents, category, day, notes), record_id, created_at = row
        day_text = day.isoformat()
        if record_id is not None:
            base = "id:" + record_id.hex
            digest = _blake2b(base.encode(), digest_size=16).digest()
        else:
            content = f"{day_text}\x1f{kind}\x1f{cents}\x1f{category.name_lower}\x1f{notes}"
            digest = _blake2b(content.encode(), digest_size=16).digest()
            # date first: files are mostly in date order, so the unique index on
            # fingerprints grows at a few places instead of at random (much faster)
            base = day_text + digest.hex()
        k = self.occurrences.earlier(digest)
        if k:
            return _NewRecord(kind, cents, category.id, day, notes, f"{base}#{k}", created_at), None
        return _NewRecord(kind, cents, category.id, day, notes, base, created_at), record_id

    def fresh(self, chunk: list[Fingerprinted]) -> list[bulk.NewRecord]:
        """The records of ``chunk`` not yet in the database (by fingerprint or id)."""
        known = self._stored_fingerprints([new.fingerprint for new, _ in chunk])  # type: ignore[misc]
        known_ids = self._stored_ids([rid for _, rid in chunk if rid is not None])
        if not known and not known_ids:
            return [new for new, _ in chunk]
        return [
            new
            for new, rid in chunk
            if new.fingerprint not in known and (rid is None or rid not in known_ids)
        ]

    def _stored_fingerprints(self, prints: list[str]) -> set[str]:
        if not self.check_fingerprints or not prints:
            return set()
        query = Record.select(Record.import_fingerprint).where(
            Record.import_fingerprint.in_(prints), imports.visible()
        )
        return {fp for (fp,) in query.tuples()}

    def _stored_ids(self, ids: list[UUID]) -> set[UUID]:
        if not self.check_ids or not ids:
            return set()
        query = Record.select(Record.id).where(Record.id.in_(ids), imports.visible())
        return {rid if isinstance(rid, UUID) else UUID(str(rid)) for (rid,) in query.tuples()}


# ---- 4. write --------------------------------------------------------------------------
class BatchWriter:
    """Step 4: insert in short transactions tagged with the import batch (invisible until
    it is published), paced so other writers get the lock between them. Keeps the
    monthly-total deltas that publishing adds. Without a batch (a dry run) it only counts."""

    def __init__(self, batch_id: int | None, actor: UUID | None, first_batch: int = BATCH):
        self.batch_id = batch_id
        self.actor = actor
        self.first_batch = first_batch
        self.deltas: imports.Deltas = {}

    def write(self, rows: Iterable[bulk.NewRecord], stopped: Callable[[], bool]) -> int:
        """Write ``rows``; returns how many came. Once ``stopped()`` (a rejected import
        still listing its problems) the rest is only counted."""
        rows = iter(rows)
        written = 0
        pacer = imports.Pacer(self.first_batch)
        while batch := list(islice(rows, pacer.rows)):
            written += len(batch)
            if self.batch_id is None or stopped():
                continue
            with pacer.hold():  # pauses after the commit: waiting writers take the lock
                imports.heartbeat(self.batch_id)
                bulk.insert_tuples(batch, self.actor, import_batch=self.batch_id)
            imports.add_deltas(self.deltas, batch)
        return written
