"""Users (admin): list accounts, create, change role, activate/deactivate, reset a
password, sign someone out everywhere, lift a login lock. The core enforces every rule (including "the
last active admin stays"); this screen shows its messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding

from finance_tui.domain.dto import UserRow
from finance_tui.errors import FinanceError, ValidationError
from finance_tui.permissions import Permission, Role
from screens.admin_widgets import AdminTableScreen, ChoiceModal, FormField, FormModal
from screens.base import SHARED_STYLES
from screens.widgets import ConfirmModal, fmt_dt, literal

if TYPE_CHECKING:
    pass

ROLE_CHOICES = tuple((role.value.capitalize(), role.value) for role in Role)


def _confirm_matches(first: str, second: str) -> dict[str, str]:
    return {} if first == second else {"confirm": "does not match the password"}


class UsersScreen(AdminTableScreen[UserRow]):
    """Account administration. Needs ``Permission.MANAGE_USERS``."""

    TITLE = "Users"
    CSS_PATH = [*SHARED_STYLES, "../styles/users.tcss"]
    BINDINGS = [
        Binding("n", "create", "New user", id="users.new-user"),
        Binding("r", "change_role", "Role", id="users.role"),
        Binding("a", "toggle_active", "Activate/deactivate", id="users.activate-deactivate"),
        Binding("p", "reset_password", "Reset password", id="users.reset-password"),
        Binding("o", "sign_out", "Sign out everywhere", id="users.sign-out-everywhere"),
        Binding("l", "lift_lock", "Lift lock", id="users.lift-lock"),
        Binding("k", "ssh_keys", "SSH keys", id="users.ssh-keys"),
        Binding("f5", "refresh", "Refresh", id="users.refresh"),
    ]
    PERMISSION = Permission.MANAGE_USERS
    NAME = "users"
    NOUN = "user"
    COLUMNS = tuple(
        (label, None)
        for label in ("Username", "Email", "Role", "Active", "Locked until", "Last login")
    )
    PALETTE = (
        ("Users: new user", "Create an account (n)", "create"),
        ("Users: change role", "Role of the selected user (r)", "change_role"),
        ("Users: activate/deactivate", "The selected user (a)", "toggle_active"),
        ("Users: reset password", "Of the selected user (p)", "reset_password"),
        ("Users: sign out everywhere", "End the selected user's sessions (o)", "sign_out"),
        ("Users: lift lock", "Let the selected user log in again now (l)", "lift_lock"),
        ("Users: SSH keys", "The selected user's SSH keys (k)", "ssh_keys"),
    )

    # ---- the table ------------------------------------------------------------
    def load_rows(self) -> list[UserRow]:
        return self.session.users.list()

    def _is_locked(self, row: UserRow) -> bool:
        """Whether a lock is still current, by the shell's clock (fixed in tests)."""
        return row.locked_until is not None and row.locked_until > self.shell.clock.now()

    def row_cells(self, row: UserRow) -> list[Text]:
        locked = fmt_dt(row.locked_until) if self._is_locked(row) else ""
        return [
            literal(row.username),
            literal(row.email),
            Text(row.role),
            Text("yes" if row.is_active else "no", style="" if row.is_active else "red"),
            Text(locked, style="yellow"),
            Text(fmt_dt(row.last_login_at) or "never"),
        ]

    def summary_text(self, rows: list[UserRow]) -> str:
        active_admins = sum(1 for r in rows if r.role == Role.ADMIN.value and r.is_active)
        return (
            f"{len(rows)} users · {active_admins} active admin(s) · "
            "n new · r role · a activate/deactivate · p reset password · o sign out · l lift lock"
        )

    def _refused(self, exc: FinanceError) -> bool:
        """Rule violations (e.g. the last active admin) as one plain sentence."""
        if isinstance(exc, ValidationError):
            self.notify(
                "Refused: " + "; ".join(exc.fields.values()),
                severity="error",
                markup=False,
                timeout=10,
            )
            return True
        return False

    # ---- actions ------------------------------------------------------------
    def action_create(self) -> None:
        users = self.session.users

        def check(values: dict[str, str]) -> dict[str, str]:
            return _confirm_matches(values["password"], values["confirm"])

        form = FormModal(
            "New user",
            [
                FormField("username", "Username"),
                FormField("email", "Email"),
                FormField("role", "Role", value="viewer", choices=ROLE_CHOICES),
                FormField("password", "Password", password=True),
                FormField("confirm", "Confirm password", password=True),
            ],
            lambda v: users.create(v["username"], v["email"], v["password"], v["role"]),
            check=check,
            submit_label="Create",
        )

        def created(row: UserRow | None) -> None:
            if row is not None:
                self.notify(f"Created user {row.username} ({row.role})", markup=False)
                self.action_refresh(select_id=row.id)

        self.app.push_screen(form, created)

    def _is_me(self, row: UserRow) -> bool:
        return row.id == self.session.principal.user_id

    def action_change_role(self) -> None:
        row = self.selected_row()
        if row is None:
            return

        def done(_: object) -> None:
            if self._is_me(row) and not self.session.can(Permission.MANAGE_USERS):
                self.shell.goto("dashboard")
                return
            self.action_refresh(select_id=row.id)

        def change(role: str) -> UserRow:
            result = self.session.users.set_role(row.id, role)
            if self._is_me(row):
                self.session.verify()  # reload my own role so can() reflects it
            return result

        def apply(role: str) -> None:
            self.call_db(
                lambda: change(role),
                done,
                success=f"{row.username} is now {role}",
                on_error=self._refused,
            )

        def chosen(role: str | None) -> None:
            if role is None or role == row.role:
                return
            others = [
                r for r in self.rows if r.role == Role.ADMIN.value and r.is_active and r != row
            ]
            # Ask before giving up your own admin rights (when the core would allow it).
            if self._is_me(row) and role != Role.ADMIN.value and others:
                self.app.push_screen(
                    ConfirmModal(
                        f"Make yourself {role}? You lose access to the admin screens at once.",
                        yes=f"Become {role}",
                    ),
                    lambda ok: apply(role) if ok else None,
                )
                return
            apply(role)

        self.app.push_screen(
            ChoiceModal(f"Role for {row.username}", ROLE_CHOICES, row.role), chosen
        )

    def action_toggle_active(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        activate = not row.is_active

        def apply(confirmed: bool | None) -> None:
            if not confirmed:
                return
            self.call_db(
                lambda: self.session.users.set_active(row.id, activate),
                lambda _: self.action_refresh(select_id=row.id),
                success=f"{row.username} {'activated' if activate else 'deactivated'}",
                on_error=self._refused,
            )

        if activate:
            apply(True)
        else:
            self.app.push_screen(
                ConfirmModal(
                    f"Deactivate {row.username}? They are signed out everywhere and "
                    "cannot log in until reactivated."
                    + (
                        " This is your own account: you will be logged out."
                        if self._is_me(row)
                        else ""
                    ),
                    yes="Deactivate",
                ),
                apply,
            )

    def action_reset_password(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        users = self.session.users
        form = FormModal(
            f"Reset password of {row.username}",
            [
                FormField("password", "New password", password=True),
                FormField("confirm", "Confirm new password", password=True),
            ],
            lambda v: users.reset_password(row.id, v["password"]),
            check=lambda v: _confirm_matches(v["password"], v["confirm"]),
            submit_label="Reset",
        )

        def done(result: UserRow | None) -> None:
            if result is not None:
                self.notify(
                    f"Password of {row.username} reset; their sessions were signed out",
                    markup=False,
                )
                self.action_refresh(select_id=row.id)

        self.app.push_screen(form, done)

    def action_sign_out(self) -> None:
        row = self.selected_row()
        if row is None:
            return

        def apply(confirmed: bool | None) -> None:
            if confirmed:
                self.call_db(
                    lambda: self.session.users.sign_out_everywhere(row.id),
                    success=lambda n: f"Signed {row.username} out of {n} session(s)",
                )

        message = f"Sign {row.username} out of every session?"
        if row.id == self.session.principal.user_id:
            message += " This includes this session: you will have to log in again."
        self.app.push_screen(ConfirmModal(message, yes="Sign out"), apply)

    def action_lift_lock(self) -> None:
        """Lift the selected user's login lock at once (the core audits it)."""
        row = self.selected_row()
        if row is None:
            return
        if self._is_locked(row):
            success = f"Lock on {row.username} lifted; they can log in now"
        else:
            success = f"{row.username} was not locked; failed attempts forgotten"
        self.call_db(
            lambda: self.session.users.unlock(row.id),
            lambda _: self.action_refresh(select_id=row.id),
            success=success,
        )

    def action_ssh_keys(self) -> None:
        """The selected user's SSH keys (the key service checks MANAGE_USERS)."""
        from screens.ssh_keys import SshKeysDialog

        row = self.selected_row()
        if row is not None:
            self.app.push_screen(SshKeysDialog(self.session, row.username))
