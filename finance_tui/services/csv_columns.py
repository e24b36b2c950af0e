"""Which CSV column holds which record field: header names, aliases and ``--map``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from finance_tui.services.csv_source import CsvFormatError, display

# Fields the import understands. ``id``/``created_at``/``deleted`` come from our own export
# (and the original system's dump), so an export re-imports as the same records.
FIELDS = ("date", "kind", "amount", "category", "notes", "id", "created_at", "deleted")
REQUIRED = ("date", "amount", "category")
ALIASES = {
    "type": "kind",
    "type_of_record": "kind",
    "uuid": "id",
    "is_deleted": "deleted",
    "note": "notes",
    "description": "notes",
    "memo": "notes",
}
EXPORT_ONLY = ("created_by", "updated_by", "updated_at", "version")


@dataclass(frozen=True)
class ColumnMap:
    """Index of each known field in the row (absent fields are missing from ``index``)."""

    index: dict[str, int]
    signed_amount: bool  # no kind column: the amount's sign gives the kind
    ignored: tuple[str, ...]
    width: int

    def describe(self, header: list[str]) -> str:
        parts = [f"{field}←{header[i]!r}" for field, i in self.index.items()]
        return ", ".join(parts)


def parse_map_option(values: list[str] | None) -> dict[str, str]:
    """``["date=Buchungstag", "amount=Betrag,notes=Text"]`` → ``{field: header}``."""
    mapping: dict[str, str] = {}
    for value in values or []:
        for part in value.split(","):
            if not part.strip():
                continue
            field, sep, header = part.partition("=")
            field = field.strip().lower()
            if not sep or not header.strip():
                raise CsvFormatError(f"--map {part.strip()!r}: use FIELD=HEADER, e.g. date=Day")
            if field not in FIELDS:
                raise CsvFormatError(
                    f"--map {part.strip()!r}: unknown field {field!r}; fields are "
                    + ", ".join(FIELDS)
                )
            mapping[field] = header.strip()
    return mapping


def resolve_columns(header: list[str], mapping: Mapping[str, str] | None = None) -> ColumnMap:
    """Match header names (case-insensitive, then aliases, then ``mapping``) to fields."""
    lowered = [h.strip().lower() for h in header]
    index: dict[str, int] = {}
    problems: list[str] = []
    for field, wanted in (mapping or {}).items():
        matches = [i for i, name in enumerate(lowered) if name == wanted.strip().lower()]
        if not matches:
            problems.append(f"--map {field}={wanted!r}: no column {display(wanted)} in the header")
        elif len(matches) > 1:
            problems.append(f"column {display(wanted)} appears {len(matches)} times")
        else:
            index[field] = matches[0]
    taken = set(index.values())
    for i, name in enumerate(lowered):  # exact field names first
        if name in FIELDS and name not in index and i not in taken:
            if lowered.count(name) > 1:
                problems.append(f"column {display(header[i])} appears {lowered.count(name)} times")
                continue
            index[name] = i
            taken.add(i)
    for i, name in enumerate(lowered):  # then aliases (the original system's names)
        alias = ALIASES.get(name)
        if alias and alias not in index and i not in taken:
            index[alias] = i
            taken.add(i)
    missing = [f for f in REQUIRED if f not in index]
    if missing:
        found = ", ".join(display(h) for h in header[:20]) or "nothing"
        problems.append(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(found {found}); rename the header or use --map FIELD=HEADER"
        )
    if problems:
        raise CsvFormatError("; ".join(dict.fromkeys(problems)))
    ignored = tuple(
        header[i]
        for i in range(len(header))
        if i not in taken and header[i] and lowered[i] not in EXPORT_ONLY
    )
    return ColumnMap(index, "kind" not in index, ignored, len(header))


def guess_columns(header: list[str]) -> dict[str, int]:
    """Best guess of each field's column (names, then aliases) without raising:
    the starting point of the column-mapping step in the Import screen."""
    lowered = [h.strip().lower() for h in header]
    guess: dict[str, int] = {}
    for i, name in enumerate(lowered):
        if name in FIELDS and name not in guess:
            guess[name] = i
    for i, name in enumerate(lowered):
        field = ALIASES.get(name)
        if field and field not in guess and i not in guess.values():
            guess[field] = i
    return guess
