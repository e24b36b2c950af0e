"""Peewee models (docs/ARCHITECTURE.md: Data model). Bound to a proxy so one process can open any engine."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
    UUIDField,
)

database = DatabaseProxy()


def utcnow() -> datetime:
    """Naive UTC timestamp (stored the same way on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class User(BaseModel):
    id = UUIDField(primary_key=True, default=uuid.uuid4)
    username = CharField(max_length=150)
    username_lower = CharField(max_length=150, unique=True)
    email = CharField(max_length=254)
    email_lower = CharField(max_length=254, unique=True)
    password_hash = CharField(max_length=100)
    role = CharField(max_length=10, default="viewer")
    is_active = BooleanField(default=True)
    # Display copy of this user's LoginThrottle row (written with it); not enforced.
    failed_logins = IntegerField(default=0)
    lockouts = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    last_login_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class Category(BaseModel):
    id = AutoField()
    name = CharField(max_length=50)
    name_lower = CharField(max_length=50, unique=True)
    kind = CharField(max_length=10, default="both")
    is_archived = BooleanField(default=False)


class Record(BaseModel):
    id = UUIDField(primary_key=True, default=uuid.uuid4)
    kind = CharField(max_length=10)
    amount = BigIntegerField()  # minor units (cents), always > 0
    category = ForeignKeyField(Category, backref="records", on_delete="RESTRICT")
    date = DateField()
    notes = TextField(default="")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    updated_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    is_deleted = BooleanField(default=False)
    deleted_at = DateTimeField(null=True)
    deleted_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    version = IntegerField(default=1)
    import_fingerprint = CharField(max_length=64, null=True, unique=True)
    # The import (ImportBatch id) that wrote this row, while it may still be unpublished;
    # cleared after publishing. Rows of an unpublished import are invisible to every read.
    import_batch = IntegerField(null=True)
    # Primary keys of the foreign keys above, which peewee adds as `<name>_id`.
    category_id: int
    created_by_id: UUID | None
    updated_by_id: UUID | None
    deleted_by_id: UUID | None

    class Meta:
        indexes = (
            (("date", "created_at"), False),
            (("category", "date"), False),
            (("amount",), False),
            (("created_by", "date"), False),
        )


class MonthlyTotal(BaseModel):
    """Summary maintained in the same transaction as every record write (live rows only)."""

    id = AutoField()
    month = DateField()  # first day of the month
    category = ForeignKeyField(Category, on_delete="RESTRICT", backref="+")
    category_id: int
    kind = CharField(max_length=10)
    count = BigIntegerField(default=0)
    total = BigIntegerField(default=0)

    class Meta:
        indexes = ((("month", "category", "kind"), True),)


class ImportBatch(BaseModel):
    """One CSV import written in short transactions: ``pending`` (its records are
    invisible) -> ``published`` (visible, tags being cleared) -> ``done``; or
    ``discarded`` (cancelled, rejected, or its owner died: its records are removed)."""

    id = AutoField()
    state = CharField(max_length=10, default="pending", index=True)
    source = CharField(max_length=255, default="")
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    owner_host = CharField(max_length=255, default="")
    owner_pid = IntegerField(default=0)
    started_at = DateTimeField(default=utcnow)
    heartbeat_at = DateTimeField(default=utcnow)
    rows = BigIntegerField(default=0)
    created_categories = TextField(default="")  # ids, comma-separated
    actor_id: UUID | None


class AuditEvent(BaseModel):
    id = AutoField()
    at = DateTimeField(default=utcnow, index=True)
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    actor_name = CharField(max_length=150, default="")
    action = CharField(max_length=40, index=True)
    entity_type = CharField(max_length=20, default="")
    entity_id = CharField(max_length=40, default="", index=True)
    before = TextField(null=True)  # JSON
    after = TextField(null=True)  # JSON
    # The session (Session.jti) that made the change: undo only reverses a session's own.
    session_jti = CharField(max_length=64, null=True)
    # For an undo (or a refused one): the event it reversed. Unique, so no change is
    # undone twice, even by two undos racing.
    undoes = IntegerField(null=True, unique=True)
    actor_id: UUID | None

    class Meta:
        indexes = ((("session_jti", "id"), False),)


class Session(BaseModel):
    """Registry of issued tokens. ``jti`` is only the lookup key: a token is valid only
    if it also carries the secret whose SHA-256 is ``secret_hash``, which the database
    never holds, so reading the database does not give a session."""

    jti = CharField(max_length=64, primary_key=True)
    user = ForeignKeyField(User, on_delete="CASCADE", backref="sessions")
    issued_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    revoked_at = DateTimeField(null=True)
    secret_hash = CharField(max_length=64, null=True)  # NULL: issued before secrets existed
    user_id: UUID


class LoginThrottle(BaseModel):
    """Failed-login state of one login key, the only lockout state that is enforced.

    The key is ``user:<id hex>`` for an identifier that names an account (its username
    and email share the lock) and ``name:<sha256>`` of the normalised identifier when it
    names no one, so unknown names lock exactly like real ones. The lock columns of
    ``User`` are a copy for display, written in the same transaction.
    """

    key = CharField(max_length=80, primary_key=True)
    failures = IntegerField(default=0)  # attempts reserved since the last lock or success
    lockouts = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow, index=True)


class SshKey(BaseModel):
    """A public key its owner may log in with over SSH (``finance-tui serve ssh``).

    Only the public half is ever stored; ``fingerprint`` (``SHA256:...``) is what people
    compare with ``ssh-keygen -lf`` and what audit events name.
    """

    id = AutoField()
    user = ForeignKeyField(User, on_delete="CASCADE", backref="ssh_keys")
    user_id: UUID
    algorithm = CharField(max_length=64)
    key_data = TextField()  # "<algorithm> <base64>", without the comment
    fingerprint = CharField(max_length=100)
    comment = CharField(max_length=200, default="")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "fingerprint"), True),)


class Budget(BaseModel):
    """A monthly spending limit of an expense category from ``from_month`` on.

    One row per change: the budget of month M is the row with the latest
    ``from_month <= M``. An ``amount`` of 0 ends the budget from that month on (a
    removal from a month keeps the months before it).
    """

    id = AutoField()
    category = ForeignKeyField(Category, on_delete="RESTRICT", backref="+")
    category_id: int
    from_month = DateField()  # first day of a month
    amount = BigIntegerField()  # minor units; 0 = no budget from this month on

    class Meta:
        indexes = ((("category", "from_month"), True),)


class SavedView(BaseModel):
    """A user's named filter and sort of the records screen; only its owner sees it.

    ``spec`` is JSON: the filter bar's text as typed, the categories as id and name,
    the sort field and order (``finance_tui.services.views``).
    """

    id = AutoField()
    owner = ForeignKeyField(User, on_delete="CASCADE", backref="+")
    owner_id: UUID
    name = CharField(max_length=60)
    name_lower = CharField(max_length=60)
    spec = TextField()
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner", "name_lower"), True),)


class Schedule(BaseModel):
    """A recurring record: a template and when it is due (``finance_tui.domain.recurrence``).

    ``next_due`` is the first period not yet created (NULL once the end date is passed),
    so a run reads only the schedules that are due. It is a shortcut, not the guard:
    ``ScheduleRun``'s unique key is what makes a period impossible to create twice.
    """

    id = AutoField()
    every = CharField(max_length=5)  # month, week or year
    day = IntegerField(null=True)  # month: day 1-31; week: ISO weekday 1-7; year: NULL
    start_date = DateField()
    end_date = DateField(null=True)
    next_due = DateField(null=True, index=True)
    kind = CharField(max_length=10)
    amount = BigIntegerField()  # minor units, > 0
    category = ForeignKeyField(Category, on_delete="RESTRICT", backref="+")
    notes = TextField(default="")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField(default=utcnow)
    is_active = BooleanField(default=True)  # False once removed (its history stays)
    category_id: int
    created_by_id: UUID | None


class ScheduleRun(BaseModel):
    """One period a schedule has created (or is creating): at most one per period.

    A separate table rather than columns on ``record``: the record table and its writers
    stay as they are, and the period stays taken when its record is deleted (deleting a
    scheduled record must not make the next run create it again).
    """

    id = AutoField()
    schedule = ForeignKeyField(Schedule, on_delete="CASCADE", backref="runs")
    period = DateField()
    record = ForeignKeyField(Record, null=True, unique=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField(default=utcnow)
    schedule_id: int
    record_id: UUID | None

    class Meta:
        indexes = ((("schedule", "period"), True),)


class Meta(BaseModel):
    key = CharField(max_length=50, primary_key=True)
    value = TextField()


ALL_MODELS = [
    User,
    Category,
    Record,
    MonthlyTotal,
    ImportBatch,
    AuditEvent,
    Session,
    LoginThrottle,
    SshKey,
    Budget,
    SavedView,
    Schedule,
    ScheduleRun,
    Meta,
]

SEED_CATEGORIES = [
    ("salary", "income"),
    ("food", "expense"),
    ("rent", "expense"),
    ("investment", "both"),
    ("other", "both"),
]

__all__ = [
    "ALL_MODELS",
    "AuditEvent",
    "Budget",
    "Category",
    "ImportBatch",
    "LoginThrottle",
    "SshKey",
    "Meta",
    "MonthlyTotal",
    "Record",
    "SavedView",
    "Schedule",
    "ScheduleRun",
    "SEED_CATEGORIES",
    "SQL",
    "Session",
    "User",
    "database",
    "utcnow",
]
