"""SSH keys dialog: own keys from the Account screen, another user's from Users (admin)."""

from __future__ import annotations

import asyncssh
from test_tui_admin_support import SIZE, HostApp, notifications, settle
from textual.widgets import DataTable, Input, Static

from finance_tui.models import SshKey, User
from screens.account import AccountScreen
from screens.ssh_keys import SshKeysDialog
from screens.users import UsersScreen
from screens.widgets import ConfirmModal


def _public_key(comment: str) -> str:
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    return key.export_public_key("openssh").decode().strip()


def _fingerprints(app) -> list[str]:
    table = app.screen.query_one("#keys-table", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def _paste(pilot, text: str) -> None:
    pilot.app.screen.query_one("#keys-input", Input).value = text
    await pilot.press("enter")
    await settle(pilot)


async def test_own_keys_add_refuse_and_remove_from_account(make_user):
    viewer = make_user("viewer", name="vera")
    app = HostApp(lambda: AccountScreen(viewer), session=viewer)
    public = _public_key("vera@laptop")
    fingerprint = asyncssh.import_public_key(public).get_fingerprint("sha256")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert isinstance(app.screen, SshKeysDialog)
        assert _fingerprints(app) == ["(no keys yet)"]

        await _paste(pilot, "-----BEGIN OPENSSH PRIVATE KEY-----")
        error = str(app.screen.query_one("#keys-error", Static).render())
        assert "PRIVATE key" in error and SshKey.select().count() == 0

        await _paste(pilot, public)
        assert _fingerprints(app) == [fingerprint]
        assert f"Added SSH key {fingerprint}" in notifications(app)
        assert app.screen.query_one("#keys-input", Input).value == ""

        await _paste(pilot, public)  # the same key again
        assert "already registered" in str(app.screen.query_one("#keys-error", Static).render())
        assert SshKey.select().count() == 1

        await pilot.press("tab")  # to the list
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert _fingerprints(app) == ["(no keys yet)"]
        assert SshKey.select().count() == 0
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)


async def test_admin_manages_selected_users_keys(admin, make_user):
    make_user("analyst", name="anna")
    app = HostApp(lambda: UsersScreen(admin), session=admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        table.move_cursor(row=names.index("anna"))
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, SshKeysDialog)
        await _paste(pilot, _public_key("anna@desk"))
        anna = User.get(User.username_lower == "anna")
        (key,) = SshKey.select()
        assert key.user_id == anna.id and key.comment == "anna@desk"
        assert _fingerprints(app) == [key.fingerprint]
