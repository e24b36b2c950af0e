"""Which CSV column holds which record field: header names, aliases and ``--map``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from finance_tui.domain.csv_options import ALIASES, FIELDS
from finance_tui.services.csv_source import CsvFormatError, display

# Fields the import understands. ``id``/``created_at``/``deleted`` come from our own export
# (and the original system's dump), so an export re-imports as the same records.
REQUIRED = ("date", "amount", "category")
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


def _mapped(lowered: list[str], mapping: Mapping[str, str], problems: list[str]) -> dict[str, int]:
    """The columns ``--map FIELD=HEADER`` names; each must be in the header once."""
    index: dict[str, int] = {}
    for field, wanted in mapping.items():
        matches = [i for i, name in enumerate(lowered) if name == wanted.strip().lower()]
        if not matches:
            problems.append(f"--map {field}={wanted!r}: no column {display(wanted)} in the header")
        elif len(matches) > 1:
            problems.append(f"column {display(wanted)} appears {len(matches)} times")
        else:
            index[field] = matches[0]
    return index


def _by_field_name(
    header: list[str], lowered: list[str], index: dict[str, int], problems: list[str]
) -> None:
    """Add the columns named like a field (a name given twice is a problem)."""
    taken = set(index.values())
    for i, name in enumerate(lowered):
        if name in FIELDS and name not in index and i not in taken:
            if lowered.count(name) > 1:
                problems.append(f"column {display(header[i])} appears {lowered.count(name)} times")
                continue
            index[name] = i
            taken.add(i)


def _by_alias(lowered: list[str], index: dict[str, int]) -> None:
    """Add the columns named like an alias (the original system's names)."""
    taken = set(index.values())
    for i, name in enumerate(lowered):
        field = ALIASES.get(name)
        if field and field not in index and i not in taken:
            index[field] = i
            taken.add(i)


def _missing_problem(header: list[str], index: dict[str, int]) -> str | None:
    missing = [f for f in REQUIRED if f not in index]
    if not missing:
        return None
    found = ", ".join(display(h) for h in header[:20]) or "nothing"
    return (
        f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
        f"(found {found}); rename the header or use --map FIELD=HEADER"
    )


def resolve_columns(header: list[str], mapping: Mapping[str, str] | None = None) -> ColumnMap:
    """Match header names (case-insensitive, then aliases, then ``mapping``) to fields."""
    lowered = [h.strip().lower() for h in header]
    problems: list[str] = []
    index = _mapped(lowered, mapping or {}, problems)
    _by_field_name(header, lowered, index, problems)
    _by_alias(lowered, index)
    if missing := _missing_problem(header, index):
        problems.append(missing)
    if problems:
        raise CsvFormatError("; ".join(dict.fromkeys(problems)))
    taken = set(index.values())
    ignored = tuple(
        header[i]
        for i in range(len(header))
        if i not in taken and header[i] and lowered[i] not in EXPORT_ONLY
    )
    return ColumnMap(index, "kind" not in index, ignored, len(header))
