"""Plain typed rows the core hands to screens and the CLI (no ORM objects escape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar
from uuid import UUID

T = TypeVar("T")


@dataclass(frozen=True)
class Principal:
    """The verified acting user, re-read from the database on every action."""

    user_id: UUID
    username: str
    email: str
    role: str
    session_jti: str


@dataclass(frozen=True)
class RecordRow:
    id: UUID
    kind: str
    amount: Decimal
    category_id: int
    category: str
    date: date
    notes: str
    created_by: str | None
    updated_by: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    is_deleted: bool = False
    deleted_at: datetime | None = None
    deleted_by: str | None = None

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.kind == "income" else -self.amount


@dataclass(frozen=True)
class UndoResult:
    """What an undo did: the record as it is now and one sentence saying what changed."""

    record: RecordRow
    undone_action: str  # the audit action reversed: record_create, record_update, ...
    message: str


@dataclass(frozen=True)
class UserRow:
    id: UUID
    username: str
    email: str
    role: str
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class CategoryRow:
    id: int
    name: str
    kind: str
    is_archived: bool
    record_count: int = 0


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict | None
    after: dict | None
    undoes: int | None = None  # an undo (or a refused one): the event it reversed


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int | None  # None when the count was not asked for (it may come later)
    offset: int
    limit: int


@dataclass(frozen=True)
class CategoryTotal:
    category: str
    kind: str
    count: int
    total: Decimal


@dataclass(frozen=True)
class MonthPoint:
    month: date  # first day of the month
    income: Decimal
    expense: Decimal

    @property
    def net(self) -> Decimal:
        return self.income - self.expense


@dataclass(frozen=True)
class DashboardData:
    """Every number of README: User guide for one period."""

    period_label: str
    date_from: date | None
    date_to: date | None
    total_income: Decimal
    total_expense: Decimal
    net_balance: Decimal
    month_income: Decimal
    month_expense: Decimal
    month_balance: Decimal
    income_pct: Decimal
    expense_pct: Decimal
    record_count: int
    income_count: int
    expense_count: int
    avg_income: Decimal
    avg_expense: Decimal
    avg_amount: Decimal
    most_frequent_category: str
    category_breakdown: list[CategoryTotal] = field(default_factory=list)
    top_categories: list[CategoryTotal] = field(default_factory=list)
    monthly: list[MonthPoint] = field(default_factory=list)
    recent: list[RecordRow] = field(default_factory=list)


# ---- analytics results ----------------------------------------------------------
@dataclass(frozen=True)
class PeriodTotals:
    date_from: date
    date_to: date
    income: Decimal
    expense: Decimal
    income_count: int
    expense_count: int

    @property
    def net(self) -> Decimal:
        return self.income - self.expense

    @property
    def count(self) -> int:
        return self.income_count + self.expense_count


@dataclass(frozen=True)
class Change:
    """One figure this period vs the previous one; ``pct`` is None when previous is 0."""

    current: Decimal
    previous: Decimal
    delta: Decimal
    pct: Decimal | None


@dataclass(frozen=True)
class PeriodComparison:
    label: str
    current: PeriodTotals
    previous: PeriodTotals
    income: Change
    expense: Change
    net: Change


@dataclass(frozen=True)
class CategoryDrilldown:
    category_id: int
    category: str
    kind: str
    is_archived: bool
    date_from: date
    date_to: date
    months: list[MonthPoint]
    income_total: Decimal
    expense_total: Decimal
    record_count: int
    largest: list[RecordRow]


@dataclass(frozen=True)
class SshKeyRow:
    """One stored SSH public key, as the CLI and screens show it."""

    id: int
    username: str
    algorithm: str
    fingerprint: str
    comment: str
    created_at: datetime


class BudgetFigures:
    """What a budget line and a month's total both answer from ``budget`` and ``spent``."""

    budget: Decimal
    spent: Decimal

    @property
    def left(self) -> Decimal:
        """What may still be spent (negative when over budget)."""
        return self.budget - self.spent

    @property
    def over(self) -> bool:
        return self.spent > self.budget


@dataclass(frozen=True)
class BudgetLine(BudgetFigures):
    """One category's budget for a month against what its expenses came to."""

    category_id: int
    category: str
    month: date
    budget: Decimal
    spent: Decimal
    since: date  # the month this amount applies from

    @property
    def used_pct(self) -> int:
        """Whole percent of the budget spent (0 when the budget is zero)."""
        return int(self.spent * 100 // self.budget) if self.budget else 0


@dataclass(frozen=True)
class BudgetMonth(BudgetFigures):
    """A month's budgets added up, against the expenses of the budgeted categories."""

    month: date
    budget: Decimal
    spent: Decimal


@dataclass(frozen=True)
class ScheduleRow:
    """A recurring record's schedule as the Recurring screen and ``recurring list`` show it."""

    id: int
    every: str
    day: int | None
    rule: str  # "monthly on day 31", "weekly on Monday", "yearly on 02-29"
    start_date: date
    end_date: date | None
    next_due: date | None  # None: the schedule is over (past its end date)
    kind: str
    amount: Decimal
    category: str
    notes: str
    created_by: str | None
    is_active: bool
    created_count: int = 0


@dataclass(frozen=True)
class RecurringRunReport:
    """What one run of the due schedules did: records created and schedules skipped."""

    created: int
    skipped: tuple[str, ...] = ()
