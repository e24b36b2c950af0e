"""Budgets: a monthly limit per expense category; everyone sees them, admins set them.

A budget is stored as changes: one row per (category, first month it applies to). The
budget of month M is the row with the latest ``from_month <= M``; an amount of 0 ends
the budget from its month on. Setting a budget from month M replaces the changes
planned after M, so "from M on" means exactly that.

What was spent comes from the monthly summary (``monthly_total``: month × category ×
kind), read through its unique (month, category, kind) index, never from the records:
a month costs a few rows at any number of records.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from peewee import ModelSelect

from finance_tui.db import advisory_lock, write_transaction
from finance_tui.domain.authoriser import Authoriser
from finance_tui.domain.dto import BudgetLine, BudgetMonth
from finance_tui.domain.periods import first_of_month, first_of_next_month
from finance_tui.domain.values import DateError, parse_month
from finance_tui.errors import NotFound, ValidationError
from finance_tui.models import Budget, Category, MonthlyTotal
from finance_tui.money import AmountError, from_minor, parse_amount, to_minor
from finance_tui.permissions import Permission
from finance_tui.services.audit import record_event

MAX_HISTORY = 60  # months analytics may ask for at once

# (category id, from_month, amount in minor units), ordered by category then month.
Change = tuple[int, date, int]


def parse_budget_amount(value: str | Decimal) -> int:
    """A budget in minor units: positive, at most 2 decimals (the money module's rules)."""
    if isinstance(value, str) and value.strip().startswith("-"):
        raise AmountError("must be greater than zero")
    return to_minor(parse_amount(value))


def _month_or_default(value: str | date | None, today: date | None) -> date:
    if value is None or (isinstance(value, str) and not value.strip()):
        return first_of_month(today or date.today())
    return parse_month(value)


def _check_inputs(
    amount: str | Decimal | None, month: str | date | None, today: date | None
) -> tuple[int, date]:
    """The amount and month, or one ValidationError naming every bad field."""
    errors: dict[str, str] = {}
    minor, first = 0, date.min
    if amount is not None:
        try:
            minor = parse_budget_amount(amount)
        except AmountError as exc:
            errors["amount"] = str(exc)
    try:
        first = _month_or_default(month, today)
    except DateError as exc:
        errors["month"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return minor, first


def find_category(name: str, *, for_setting: bool) -> Category:
    """The category named ``name`` (any case); setting needs a usable expense category."""
    key = " ".join(str(name or "").split()).lower()
    category = Category.get_or_none(Category.name_lower == key) if key else None
    if category is None:
        raise ValidationError({"category": f"no category named {name!r}"})
    if for_setting and category.kind == "income":
        raise ValidationError(
            {"category": f"{category.name!r} is an income category; budgets are for expenses"}
        )
    if for_setting and category.is_archived:
        raise ValidationError({"category": f"{category.name!r} is archived; unarchive it first"})
    return category


def _history(category_id: int) -> list[dict[str, str]]:
    """The category's stored changes, for the audit trail's before/after."""
    rows = Budget.select().where(Budget.category == category_id).order_by(Budget.from_month)
    return [{"from": f"{r.from_month:%Y-%m}", "amount": str(from_minor(r.amount))} for r in rows]


def changes_until(last: date, category_ids: list[int] | None = None) -> list[Change]:
    """Every change that applies to some month up to ``last`` (a small table)."""
    query = Budget.select(Budget.category, Budget.from_month, Budget.amount).where(
        Budget.from_month <= last
    )
    if category_ids is not None:
        query = query.where(Budget.category.in_(category_ids))
    return sorted((c, _as_date(m), int(a)) for c, m, a in query.tuples())


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def effective(changes: list[Change], month: date) -> dict[int, tuple[int, date]]:
    """Category id → (budget, since) in force in ``month``; ended budgets left out."""
    result: dict[int, tuple[int, date]] = {}
    for category_id, since, amount in changes:  # sorted: the latest change wins
        if since <= month:
            result[category_id] = (amount, since)
    return {c: value for c, value in result.items() if value[0] > 0}


def spent_query(first: date, last: date, category_ids: list[int]) -> ModelSelect:
    """The summary cells of expenses of some categories in the months ``first..last``."""
    return MonthlyTotal.select(MonthlyTotal.month, MonthlyTotal.category, MonthlyTotal.total).where(
        MonthlyTotal.month >= first,
        MonthlyTotal.month <= last,
        MonthlyTotal.kind == "expense",
        MonthlyTotal.category.in_(category_ids),
    )


def spent(first: date, last: date, category_ids: list[int]) -> dict[tuple[date, int], int]:
    """(month, category) → expenses of the whole months ``first..last``, from the summary."""
    if not category_ids:
        return {}
    query = spent_query(first, last, category_ids)
    return {(_as_date(m), c): int(t) for m, c, t in query.tuples()}


def month_lines(month: date) -> list[BudgetLine]:
    """Each budgeted category of ``month`` with its spending, by name."""
    budgets = effective(changes_until(month), month)
    names = dict(
        Category.select(Category.id, Category.name).where(Category.id.in_(list(budgets))).tuples()
    )
    used = spent(month, month, list(budgets))
    lines = [
        BudgetLine(
            category_id,
            names[category_id],
            month,
            from_minor(amount),
            from_minor(used.get((month, category_id), 0)),
            since,
        )
        for category_id, (amount, since) in budgets.items()
    ]
    return sorted(lines, key=lambda line: (line.category.lower(), line.category_id))


def months_between(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = first_of_next_month(month)
    return months


def history(first: date, last: date) -> list[BudgetMonth]:
    """Budget against actual for each month of ``first..last`` (budgeted categories)."""
    changes = changes_until(last)
    used = spent(first, last, sorted({c for c, _, _ in changes}))
    result = []
    for month in months_between(first, last):
        budgets = effective(changes, month)
        total = sum(amount for amount, _ in budgets.values())
        actual = sum(used.get((month, c), 0) for c in budgets)
        result.append(BudgetMonth(month, from_minor(total), from_minor(actual)))
    return result


class BudgetService:
    def __init__(self, session: Authoriser):
        self.session = session

    def for_month(
        self, month: str | date | None = None, *, today: date | None = None
    ) -> list[BudgetLine]:
        """The month's budgets against spending (default: this month). Everyone may look."""
        self.session.require(Permission.VIEW_DASHBOARD)
        _, first = _check_inputs(None, month, today)
        return month_lines(first)

    def history(self, months: int = 12, *, today: date | None = None) -> list[BudgetMonth]:
        """The last ``months`` months up to this one, budget against actual."""
        self.session.require(Permission.VIEW_DASHBOARD)
        if not 1 <= months <= MAX_HISTORY:
            raise ValidationError({"months": f"must be between 1 and {MAX_HISTORY}"})
        last = first_of_month(today or date.today())
        first = last
        for _ in range(months - 1):
            first = first_of_month(date.fromordinal(first.toordinal() - 1))
        return history(first, last)

    def set(
        self,
        category: str,
        amount: str | Decimal,
        from_month: str | date | None = None,
        *,
        today: date | None = None,
    ) -> BudgetLine:
        """Budget ``amount`` for ``category`` from ``from_month`` (default: this month) on."""
        principal = self.session.require(Permission.MANAGE_BUDGETS)
        errors: dict[str, str] = {}
        try:
            find_category(category, for_setting=True)
        except ValidationError as exc:
            errors.update(exc.fields)
        try:
            minor, first = _check_inputs(amount, from_month, today)
        except ValidationError as exc:
            raise ValidationError({**errors, **exc.fields}) from None
        if errors:
            raise ValidationError(errors)
        with write_transaction():
            advisory_lock("finance_tui.budgets")
            cat = find_category(category, for_setting=True)
            before = _history(cat.id)
            Budget.delete().where(Budget.category == cat.id, Budget.from_month >= first).execute()
            Budget.create(category=cat.id, from_month=first, amount=minor)
            after = _history(cat.id)
            record_event(
                principal, "budget_set", "category", cat.id,
                {"category": cat.name, "budgets": before},
                {"category": cat.name, "budgets": after},
            )  # fmt: skip
        return next(line for line in month_lines(first) if line.category_id == cat.id)

    def remove(
        self, category: str, from_month: str | date | None = None
    ) -> tuple[str, date | None]:
        """End ``category``'s budget from ``from_month`` on, or (``None``) remove it entirely.

        Returns the category's name and the month the removal starts (``None``: all).
        """
        principal = self.session.require(Permission.MANAGE_BUDGETS)
        first = None
        if from_month is not None and str(from_month).strip():
            _, first = _check_inputs(None, from_month, None)
        with write_transaction():
            advisory_lock("finance_tui.budgets")
            cat = find_category(category, for_setting=False)
            before = _history(cat.id)
            if not _ends_something(cat.id, first):
                since = f" from {first:%Y-%m} on" if first else ""
                raise NotFound(f"{cat.name!r} has no budget{since}; nothing was changed")
            _end_budget(cat.id, first)
            after = _history(cat.id)
            record_event(
                principal, "budget_remove", "category", cat.id,
                {"category": cat.name, "budgets": before},
                {"category": cat.name, "budgets": after},
            )  # fmt: skip
        return cat.name, first


def _ends_something(category_id: int, first: date | None) -> bool:
    """Whether the category has a budget in force in ``first`` or any month after it."""
    query = Budget.select().where(Budget.category == category_id, Budget.amount > 0)
    if first is None:
        return query.exists()
    if query.where(Budget.from_month >= first).exists():
        return True
    return bool(effective(changes_until(first, [category_id]), first))


def _end_budget(category_id: int, first: date | None) -> None:
    """Delete the changes from ``first`` on; an ending row keeps the months before."""
    query = Budget.delete().where(Budget.category == category_id)
    if first is None:
        query.execute()
        return
    query.where(Budget.from_month >= first).execute()
    if effective(changes_until(first, [category_id]), first):  # an earlier budget goes on
        Budget.create(category=category_id, from_month=first, amount=0)
