"""``session.csv``: CSV import (admins) and export (analysts, admins) with permissions.

The work lives in :mod:`csv_import` and :mod:`csv_export`; this facade checks the
permission first (the security boundary), then hands over. Both accept
``progress(done_rows, estimated_total_or_None)`` and ``cancel`` (a ``threading.Event``
or a callable), checked between batches, so a UI can run them in a thread worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, TextIO

from finance_tui.db import write_transaction
from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.csv_options import (
    ExportReport,
    ImportOptions,
    ImportReport,
)
from finance_tui.domain.filters import RecordFilter
from finance_tui.permissions import Permission
from finance_tui.services.audit import record_event
from finance_tui.services.csv_export import count_matching, export_csv
from finance_tui.services.csv_import import import_csv
from finance_tui.services.csv_progress import Cancel, Progress
from finance_tui.services.csv_source import open_source


class CsvService:
    def __init__(self, session: Authoriser):
        self.session = session

    def import_file(
        self,
        source: str | Path | BinaryIO,
        options: ImportOptions | None = None,
        *,
        name: str | None = None,
        progress: Progress | None = None,
        cancel: Cancel = None,
    ) -> ImportReport:
        """Validate and import every row, published all at once (see :mod:`csv_import`)."""
        principal = self.session.require(Permission.IMPORT_CSV)
        if options is not None and options.create_categories:
            self.session.require(Permission.MANAGE_CATEGORIES)
        return import_csv(principal, source, options, name=name, progress=progress, cancel=cancel)

    def preview_header(
        self, source: str | Path, *, encoding: str | None = None, delimiter: str | None = None
    ) -> tuple[list[str], str, str]:
        """(header cells, delimiter, encoding) of a file, for the column-mapping step."""
        self.session.require(Permission.IMPORT_CSV)
        from finance_tui.services.csv_import import open_input

        stream, name, size, owned = open_input(source, None)
        try:
            src = open_source(stream, name, encoding=encoding, delimiter=delimiter)
            return src.header, src.delimiter, src.encoding
        finally:
            if owned:
                stream.close()

    def export(
        self,
        flt: RecordFilter,
        destination: str | Path | TextIO | None = None,
        *,
        progress: Progress | None = None,
        cancel: Cancel = None,
        raw: bool = False,
    ) -> ExportReport:
        """Every record ``flt`` matches (paging ignored), as CSV; audited as one event.
        ``raw``: text cells without the spreadsheet protection (for programs)."""
        principal = self.session.require(Permission.EXPORT_CSV)
        if flt.include_deleted or flt.only_deleted:
            self.session.require(Permission.VIEW_DELETED)
        total = count_matching(flt) if progress is not None else None
        report = export_csv(
            flt, destination, total=total, progress=progress, cancel=cancel, raw=raw
        )
        with write_transaction():
            record_event(
                principal,
                "csv_export",
                "export",
                report.destination[-40:],
                after={
                    "file": report.destination,
                    "rows": report.rows,
                    "filter": _describe(flt),
                    "raw": raw,
                },
            )
        return report


def _describe(flt: RecordFilter) -> dict:
    return {
        "kind": flt.kind,
        "categories": list(flt.categories),
        "date_from": flt.date_from,
        "date_to": flt.date_to,
        "amount_min": flt.amount_min,
        "amount_max": flt.amount_max,
        "text": flt.text,
        "include_deleted": flt.include_deleted,
        "only_deleted": flt.only_deleted,
        "sort": ("-" if flt.descending else "+") + flt.sort,
    }
