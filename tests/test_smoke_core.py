"""End-to-end smoke of the core: create, update, conflict, delete, dashboard."""

from decimal import Decimal

import pytest

from finance_tui.domain.filters import RecordFilter
from finance_tui.errors import ConflictError, PermissionDenied
from finance_tui.services import summaries


def test_record_lifecycle(sessions):
    admin = sessions["admin"]
    rec = admin.records.create(
        {
            "kind": "expense",
            "amount": "12.50",
            "category": "food",
            "date": "2026-01-05",
            "notes": "lunch",
        }
    )
    assert rec.amount == Decimal("12.50") and rec.created_by == "root"
    changed = admin.records.update(rec.id, rec.version, {"amount": "1,013.10"})
    assert changed.amount == Decimal("1013.10") and changed.version == 2
    with pytest.raises(ConflictError) as err:
        admin.records.update(rec.id, rec.version, {"amount": "14"})
    assert "root" in str(err.value)
    page = sessions["viewer"].records.list(RecordFilter(text="LUN"))
    assert page.total == 1 and page.rows[0].amount == Decimal("1013.10")
    dash = sessions["viewer"].dashboard.summary()
    assert dash.total_expense == Decimal("1013.10") and dash.most_frequent_category == "food"
    admin.records.delete(rec.id)
    assert summaries.verify() == []
    assert sessions["viewer"].dashboard.summary().record_count == 0
    with pytest.raises(PermissionDenied):
        sessions["analyst"].records.restore(rec.id)
