"""Audit log screen: filters, paging, literal before/after detail; snapshot."""

from __future__ import annotations

from datetime import date, datetime

from rich.text import Text
from test_tui_admin_support import (
    SIZE,
    HostApp,
    fix_audit_times,
    in_shell,
    notifications,
    settle,
    sqlite_only,
)
from test_tui_support import make_app
from textual.widgets import DataTable, Input, Select, Static

from finance_tui.clock import Clock
from finance_tui.db import write_transaction
from finance_tui.models import AuditEvent
from finance_tui.services.audit import record_event
from screens.audit import PAGE_SIZE, AuditScreen

TODAY = date(2026, 11, 25)


def _actions(app) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(i)[2]) for i in range(table.row_count)]


def _actors(app) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


def _plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def _make_history(admin, make_user) -> None:
    ann = make_user("analyst", name="ann")
    admin.users.set_role("ann", "admin")
    admin.categories.create("[red]evil[/red] name", "expense")
    ann.categories.create("ann's", "income")
    # Older events for the date filter: everything so far happened on 2026-10-10.
    fix_audit_times(datetime(2026, 10, 10, 8, 0))
    admin.users.set_role("ann", "analyst")
    with write_transaction():
        AuditEvent.update(at=datetime(2026, 11, 20, 12, 0)).where(
            AuditEvent.at > datetime(2026, 10, 11)
        ).execute()


async def test_filters_and_literal_detail(admin, make_user):
    _make_history(admin, make_user)
    total = AuditEvent.select().count()
    app = HostApp(lambda: AuditScreen(admin), clock=Clock(fixed_today=TODAY))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert len(_actions(app)) == total
        assert _actions(app)[0] == "user_set_role"  # newest first
        # The detail pane shows the newest event's before/after JSON.
        detail = _plain(screen.query_one("#audit-detail", Static))
        assert '"role": "admin"' in detail and '"role": "analyst"' in detail
        assert detail.index("before:") < detail.index('"role": "admin"') < detail.index("after:")

        # Actor filter (case-insensitive), applied with Enter.
        screen.query_one("#audit-actor", Input).focus()
        await pilot.press(*"ANN", "enter")
        await settle(pilot)
        assert set(_actors(app)) == {"ann"}
        assert "login" in _actions(app) and "category_create" in _actions(app)

        # Action filter on top of it.
        screen.query_one("#audit-action", Select).value = "category_create"
        await settle(pilot)
        assert _actions(app) == ["category_create"]
        assert '"name": "ann\'s"' in _plain(screen.query_one("#audit-detail", Static))

        # Escape clears every filter.
        screen.query_one(DataTable).focus()
        await pilot.press("escape")
        await settle(pilot)
        assert len(_actions(app)) == total
        assert screen.query_one("#audit-actor", Input).value == ""

        # Date range: only the role change made "later" (2026-11-20).
        screen.query_one("#audit-from", Input).value = "2026-11-01"
        screen.query_one("#audit-to", Input).focus()
        await pilot.press(*"today", "enter")
        await settle(pilot)
        assert _actions(app) == ["user_set_role"]
        assert "events 1–1 of 1" in _plain(screen.query_one("#audit-status", Static))

        # A bad date is reported and the previous filter stays.
        screen.query_one("#audit-from", Input).value = "2026-13-01"
        screen.query_one("#audit-from", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert any(n.startswith("Filter not applied — date from:") for n in notifications(app))
        assert screen.query_one("#audit-from", Input).has_class("bad-date")
        assert _actions(app) == ["user_set_role"]

        # Markup typed by a user is shown literally in the detail pane.
        await pilot.press("escape")
        await settle(pilot)
        screen.query_one("#audit-action", Select).value = "category_create"
        await settle(pilot)
        table = screen.query_one(DataTable)
        names = []
        for row in range(table.row_count):
            table.move_cursor(row=row)
            await pilot.pause()
            names.append(_plain(screen.query_one("#audit-detail", Static)))
        assert any('"name": "[red]evil[/red] name"' in text for text in names)


async def test_paging(admin):
    with write_transaction():
        for i in range(PAGE_SIZE + 20):
            record_event(None, "test_event", "thing", i, after={"i": i}, actor_name="bot")
    total = AuditEvent.select().count()
    app = HostApp(lambda: AuditScreen(admin))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = app.screen.query_one("#audit-status", Static)
        assert len(_actions(app)) == PAGE_SIZE
        assert f"events 1–{PAGE_SIZE} of {total}" in _plain(status)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert len(_actions(app)) == total - PAGE_SIZE
        assert f"events {PAGE_SIZE + 1}–{total} of {total} · page 2/2" in _plain(status)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "No more pages that way" in notifications(app)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert f"events 1–{PAGE_SIZE} of {total} · page 1/2" in _plain(status)


async def test_analyst_cannot_open_audit(sessions):
    app = HostApp(lambda: AuditScreen(sessions["analyst"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.screen.query(DataTable)
        assert "permission" in _plain(app.screen.query_one("#audit-denied", Static))


def test_audit_snapshot(snap_compare, db_url, admin, make_user, tmp_path):
    sqlite_only(db_url)
    _make_history(admin, make_user)
    with write_transaction():  # user ids are random UUIDs: pin them for the picture
        AuditEvent.update(entity_id="0b1c2d3e-0000-4000-8000-000000000001").where(
            AuditEvent.entity_type == "user"
        ).execute()
    app = make_app(tmp_path, admin, today=TODAY)
    assert snap_compare(app, terminal_size=SIZE, run_before=in_shell("audit"))


async def test_actor_filter_with_a_control_character_is_not_applied(admin, make_user):
    _make_history(admin, make_user)
    total = AuditEvent.select().count()
    app = HostApp(lambda: AuditScreen(admin), clock=Clock(fixed_today=TODAY))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        box = app.screen.query_one("#audit-actor", Input)
        box.value = "ann\x00"  # pasted
        box.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert any(
            n == "Filter not applied — actor: contains a control character"
            for n in notifications(app)
        )
        assert len(_actions(app)) == total
