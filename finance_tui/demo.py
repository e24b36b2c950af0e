"""Demo data: the three demo accounts (README: Command line) and N realistic, seeded records.

Records span the last 24 calendar months up to ``today``: a salary every month (around
the 25th) and rent every month (1st–3rd), many small food expenses, transport, bills,
occasional investments and freelance income, with amounts plausible per category. The
same seed gives the same amounts, dates and notes. Running it again never duplicates:
existing accounts are left as they are, and records are added only to a database the
demo has not filled yet (each fill leaves a ``demo_records`` audit event). A million
records go in through :mod:`finance_tui.services.bulk` in one transaction.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from finance_tui.db import is_sqlite, write_transaction
from finance_tui.domain.periods import first_of_month
from finance_tui.models import AuditEvent, Category, User, database
from finance_tui.services import bulk
from finance_tui.services.audit import record_event
from finance_tui.services.users import insert_user

DEFAULT_RECORDS = 300
DEFAULT_SEED = 2026
MONTHS = 24
MAX_RECORDS = 5_000_000

DEMO_ACCOUNTS = (
    ("Demo_admin", "demo.admin@gmail.com", "demo@admin2026", "admin"),
    ("Demo_analyst", "demo.analyst@gmail.com", "demo@analyst2026", "analyst"),
    ("Demo_viewer", "demo.viewer@gmail.com", "demo@viewer2026", "viewer"),
)

# Categories the demo adds next to the seeded five (name, kind).
EXTRA_CATEGORIES = (
    ("transport", "expense"),
    ("utilities", "expense"),
    ("entertainment", "expense"),
    ("health", "expense"),
    ("freelance", "income"),
)


@dataclass(frozen=True)
class Profile:
    """How one kind of record looks: share of all records, amount range, notes."""

    category: str
    kind: str
    share: float  # fraction of the random (non-monthly) records
    low: int  # amount range in whole currency units
    high: int
    notes: tuple[str, ...]


PROFILES = (
    Profile(
        "food",
        "expense",
        0.56,
        3,
        90,
        (
            "Groceries at Lidl",
            "Groceries at Aldi",
            "Supermarket run",
            "Coffee",
            "Lunch with the team",
            "Bakery",
            "Pizza night",
            "Farmers market",
            "Sushi takeaway",
            "Snacks for the office",
            "Dinner out",
            "",
        ),
    ),
    Profile(
        "transport",
        "expense",
        0.14,
        2,
        60,
        ("Bus ticket", "Taxi to the airport", "Fuel", "Train to the client", "Parking", ""),
    ),
    Profile(
        "utilities",
        "expense",
        0.05,
        25,
        220,
        ("Electricity bill", "Water bill", "Internet", "Mobile phone plan", "Heating"),
    ),
    Profile(
        "entertainment",
        "expense",
        0.08,
        8,
        120,
        ("Cinema", "Concert tickets", "Streaming subscription", "Books", "Board game"),
    ),
    Profile(
        "health",
        "expense",
        0.04,
        10,
        250,
        ("Pharmacy", "Dentist", "Gym membership", "Doctor visit", "Glasses"),
    ),
    Profile(
        "investment",
        "expense",
        0.03,
        100,
        2500,
        ("Index fund purchase", "ETF savings plan", "Bond purchase", "Crypto purchase"),
    ),
    Profile(
        "investment",
        "income",
        0.015,
        20,
        600,
        ("Dividend payout", "Interest", "Fund sale"),
    ),
    Profile(
        "freelance",
        "income",
        0.015,
        150,
        2500,
        ("Freelance invoice", "Consulting day", "Workshop fee", "Design project"),
    ),
    Profile(
        "salary",
        "income",
        0.015,
        2800,
        6500,
        ("Salary", "Bonus", "Salary advance"),
    ),
    Profile(
        "other",
        "expense",
        0.025,
        5,
        300,
        ("Gift", "Donation", "Bank fee", "Household items", "Repair"),
    ),
    Profile(
        "other",
        "income",
        0.005,
        10,
        400,
        ("Refund", "Sold old bike", "Cashback"),
    ),
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoResult:
    accounts_created: list[str]
    accounts_existing: list[str]
    records: int
    already_present: int | None = None  # demo records found: none were added


def ensure_accounts() -> tuple[list[str], list[str]]:
    """Create the missing demo accounts. Returns (created, already existing) usernames."""
    created, existing = [], []
    with write_transaction():
        for username, email, password, role in DEMO_ACCOUNTS:
            found = User.get_or_none(
                (User.username_lower == username.lower()) | (User.email_lower == email.lower())
            )
            if found is not None:
                existing.append(found.username)
                continue
            user = insert_user(username, email, password, role)
            record_event(
                None,
                "user_create",
                "user",
                user.id,
                after={"username": username, "email": email, "role": role},
                actor_name="demo",
            )
            created.append(username)
    return created, existing


def ensure_categories() -> dict[tuple[str, str], int]:
    """Category ids for every profile, creating the demo's extra categories if missing."""
    with write_transaction():
        for name, kind in EXTRA_CATEGORIES:
            Category.insert(name=name, name_lower=name, kind=kind).on_conflict_ignore().execute()
    by_name = {c.name_lower: c.id for c in Category.select()}
    wanted = [(p.category, p.kind) for p in PROFILES] + [("salary", "income"), ("rent", "expense")]
    return {(name, kind): by_name[name] for name, kind in wanted}


def month_starts(today: date, months: int = MONTHS) -> list[date]:
    """First days of the last ``months`` calendar months, oldest first (this one included)."""
    starts = [first_of_month(today)]
    while len(starts) < months:
        starts.append(first_of_month(starts[-1] - timedelta(days=1)))
    return starts[::-1]


def _monthly_items(
    starts: list[date], today: date, ids: dict[tuple[str, str], int], rng: random.Random
) -> list[tuple[date, int, str, int, str]]:
    """A salary and the rent in every month: (day, category id, kind, which, notes)."""
    monthly: list[tuple[date, int, str, int, str]] = []
    for start in starts:
        pay_day = min(start.replace(day=25), today)
        rent_day = min(start + timedelta(days=rng.randrange(3)), today)
        if start.replace(day=25) <= today:
            monthly.append((pay_day, ids[("salary", "income")], "income", 0, "Monthly salary"))
        monthly.append((rent_day, ids[("rent", "expense")], "expense", 1, "Rent"))
    return monthly


def _scheduled(
    monthly: list[tuple[date, int, str, int, str]], first_day: date, amounts: tuple[int, int]
) -> tuple[list, list[str]]:
    """The monthly items in date order as (day offset, row start), and their notes."""
    monthly.sort(key=lambda item: item[0])
    pending = [
        ((day - first_day).days, (kind, amounts[which], cat, day))
        for day, cat, kind, which, _ in monthly
    ]
    return pending, [item[4] for item in monthly]


def generate(
    count: int, seed: int = DEFAULT_SEED, today: date | None = None
) -> Iterator[bulk.RowTuple]:
    """``count`` record tuples in date order (seeded), ready for :func:`bulk.insert_tuples`.

    Category ids are looked up (and extra categories created) first.
    """
    today = today or date.today()
    ids = ensure_categories()
    rng = random.Random(seed)
    starts = month_starts(today)
    first_day = starts[0]
    span = (today - first_day).days + 1

    monthly = _monthly_items(starts, today, ids, rng) if count >= 2 * MONTHS else []
    salary_amount = rng.randrange(3800, 5200) * 100
    rent_amount = rng.randrange(1100, 1700) * 100

    remaining = count - len(monthly)
    picks = rng.choices(range(len(PROFILES)), weights=[p.share for p in PROFILES], k=remaining)
    days = sorted(rng.randrange(span) for _ in range(remaining))  # date order: fast inserts

    pending, pending_notes = _scheduled(monthly, first_day, (salary_amount, rent_amount))

    day_of = [first_day + timedelta(days=offset) for offset in range(span)]
    midnight = [datetime.combine(d, datetime.min.time()) for d in day_of]
    # Entry times during the working day, drawn from a pool (cheaper than per-row math).
    times = [timedelta(seconds=rng.randrange(28_800, 72_000)) for _ in range(4096)]
    shapes = [
        (p.kind, ids[(p.category, p.kind)], p.low * 100, (p.high - p.low) * 100, p.notes)
        for p in PROFILES
    ]
    random_ = rng.random
    next_pending = 0
    for offset, pick in zip(days, picks, strict=True):
        while next_pending < len(pending) and pending[next_pending][0] <= offset:
            yield _monthly_row(pending[next_pending], pending_notes[next_pending], midnight, rng)
            next_pending += 1
        kind, category_id, low, width, notes = shapes[pick]
        r = random_()
        # Skewed towards the low end: many small amounts, a few large ones.
        yield (
            kind,
            low + int(width * r * r) + 1,
            category_id,
            day_of[offset],
            notes[int(random_() * len(notes))],
            None,
            midnight[offset] + times[int(random_() * 4096)],
        )
    for index in range(next_pending, len(pending)):
        yield _monthly_row(pending[index], pending_notes[index], midnight, rng)


def _monthly_row(
    item: tuple[int, tuple[str, int, int, date]],
    notes: str,
    midnight: list[datetime],
    rng: random.Random,
) -> bulk.RowTuple:
    offset, (kind, amount, category_id, day) = item
    created = midnight[offset] + timedelta(seconds=rng.randrange(28_800, 64_800))
    return (kind, amount, category_id, day, notes, None, created)


def demo_records_present() -> int | None:
    """How many records earlier demo runs added, or None if the demo never filled this
    database (a re-run must not add the sample data a second time)."""
    events = AuditEvent.select(AuditEvent.after).where(AuditEvent.action == "demo_records")
    found = None
    for (after,) in events.tuples():
        try:
            added = int(json.loads(after or "{}").get("records", 0))
        except (ValueError, TypeError, AttributeError):
            added = 0
        found = (found or 0) + added
    return found


def create_demo(
    records: int = DEFAULT_RECORDS,
    *,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """Demo accounts plus ``records`` records in one write transaction; both idempotent:
    a database that already holds demo records gets none (see ``already_present``)."""
    if not 0 <= records <= MAX_RECORDS:
        from finance_tui.errors import ValidationError

        raise ValidationError({"records": f"must be between 0 and {MAX_RECORDS:,}"})
    created, existing = ensure_accounts()
    admin = User.get(User.username_lower == DEMO_ACCOUNTS[0][0].lower())
    inserted = 0
    present = demo_records_present()
    if present is not None:
        return DemoResult(created, existing, 0, already_present=present)
    if records:
        rows = generate(records, seed, today)
        report = (lambda done: progress(done, records)) if progress else None
        with _bulk_tuning(records), write_transaction():
            inserted = bulk.insert_tuples(rows, admin.id, progress=report, defer_indexes=True)
            record_event(
                None,
                "demo_records",
                "record",
                "",
                after={"records": inserted, "seed": seed},
                actor_name=admin.username,
            )
        if is_sqlite() and records >= 10_000:
            database.execute_sql("PRAGMA optimize")  # fresh statistics for the query planner
        elif not is_sqlite():
            database.execute_sql("ANALYZE record")
    return DemoResult(created, existing, inserted)


class _bulk_tuning:
    """A larger SQLite page cache while inserting many rows (random UUID keys)."""

    def __init__(self, records: int):
        self.active = is_sqlite() and records >= 50_000

    def __enter__(self) -> None:
        if self.active:
            self.previous = database.execute_sql("PRAGMA cache_size").fetchone()[0]
            database.execute_sql("PRAGMA cache_size = -524288")  # 512 MB

    def __exit__(self, *exc: object) -> None:
        if self.active:
            database.execute_sql(f"PRAGMA cache_size = {int(self.previous)}")
