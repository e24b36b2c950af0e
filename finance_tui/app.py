"""The Textual app shell: login, screen routing by role, palette, help, themes, live refresh.

This is the only module under ``finance_tui/`` that imports Textual. Screens live in the
top-level ``screens`` package and talk to the core only through the
:class:`~finance_tui.session.SessionController` they are given.

Adding a screen (for the engineers building screens)
----------------------------------------------------
Write the screen as a :class:`screens.base.FinanceScreen` and append a
:class:`ScreenEntry` to :data:`SCREEN_REGISTRY`, with a loader that imports it::

    def _users() -> ScreenFactory:
        from screens.users import UsersScreen

        return UsersScreen

    ScreenEntry("users", "screens.users", _users, Permission.MANAGE_USERS, "5", "Users")

- The class is constructed as ``cls(session)`` the first time the user opens it and is
  kept (installed) until logout, so filters and cursor positions survive navigation.
- The module is imported lazily (start-up time); while it does not exist the entry is
  simply hidden.
- The entry's key (and a palette command "Go to <title>") appear only when
  ``session.can(permission)``; otherwise they are absent and inert.
- ``FinanceScreen.refresh_data()`` is called when another session changed the database
  (live refresh) while the screen is visible, or when it is shown again after such a
  change; ``FinanceScreen.palette_commands()`` lists what the palette offers while the
  screen is open, only what ``self.session.can(...)`` allows.
- Screens reach this app through ``screen.shell`` (:class:`screens.base.ShellApp`): the
  session, the one :class:`~finance_tui.clock.Clock`, navigation, and ``run_db``, which
  runs database calls on the app's :class:`~finance_tui.dbpool.DatabasePool`.
- Idle lock: ``screens.account.LockScreen(session)`` is pushed after the idle time; it
  dismisses with ``True`` once unlocked (``False`` logs out). Without that module the
  app logs out on idle instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from finance_tui.clock import Clock
from finance_tui.errors import DatabaseUnavailable, FinanceError
from finance_tui.permissions import Permission
from finance_tui.shell.styles_cache_leak import stop_styles_cache_leak
from finance_tui.shell.theme_store import ThemeStore
from finance_tui.shell.typeahead import TypeaheadGate
from finance_tui.textsafety import visible
from screens.base import FinanceModal, FinanceScreen, call_db

if TYPE_CHECKING:
    from textual.worker import Worker

    from finance_tui.dbpool import DatabasePool
    from finance_tui.domain.dto import RecurringRunReport
    from finance_tui.session import SessionController

T = TypeVar("T")
# A registered screen is built from the session of the user who opens it.
ScreenFactory = Callable[["SessionController"], FinanceScreen[Any]]
DEFAULT_THEME = "textual-dark"
ANSI_THEME = "ansi-dark"  # for terminals with 16 colours
SIXTEEN_COLOURS = ("standard", "windows")  # Rich's names of those colour systems
REFRESH_SECONDS = 2.0

stop_styles_cache_leak()  # Textual keeps removed widgets' painted lines (see the module)


def all_binding_ids() -> set[str]:
    """Ids of every binding declared by the app and by the loaded ``screens`` modules."""
    import sys

    from textual.dom import DOMNode

    ids = {b.id for b in FinanceApp.BINDINGS if isinstance(b, Binding) and b.id}
    for name, module in list(sys.modules.items()):
        if not name.startswith("screens.") or module is None:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, DOMNode):
                for item in value.__dict__.get("BINDINGS", ()):
                    if isinstance(item, Binding) and item.id:
                        ids.add(item.id)
    return ids


@dataclass(frozen=True)
class ScreenEntry:
    """One navigable screen: where it lives, who may open it, its key and title.

    ``module`` is only looked up (:meth:`available`), never imported, so the nav bar
    costs no import; ``loader`` imports the module and returns the class when the user
    first opens the screen."""

    name: str
    module: str
    loader: Callable[[], ScreenFactory]
    permission: Permission
    key: str
    title: str

    def available(self) -> bool:
        """The module can be found (an install missing a screen hides it, not crashes)."""
        return _module_exists(self.module)

    def load(self) -> ScreenFactory:
        return self.loader()


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _dashboard() -> ScreenFactory:
    from screens.dashboard import DashboardScreen

    return DashboardScreen


def _records() -> ScreenFactory:
    from screens.records import RecordsScreen

    return RecordsScreen


def _analytics() -> ScreenFactory:
    from screens.analytics import AnalyticsScreen

    return AnalyticsScreen


def _categories() -> ScreenFactory:
    from screens.categories import CategoriesScreen

    return CategoriesScreen


def _users() -> ScreenFactory:
    from screens.users import UsersScreen

    return UsersScreen


def _audit() -> ScreenFactory:
    from screens.audit import AuditScreen

    return AuditScreen


def _account() -> ScreenFactory:
    from screens.account import AccountScreen

    return AccountScreen


def _import() -> ScreenFactory:
    from screens.import_export import ImportScreen

    return ImportScreen


def _budgets() -> ScreenFactory:
    from screens.budgets import BudgetsScreen

    return BudgetsScreen


def _recurring() -> ScreenFactory:
    from screens.recurring import RecurringScreen

    return RecurringScreen


def _lock_screen() -> Callable[[SessionController], FinanceModal[bool]]:
    from screens.account import LockScreen

    return LockScreen


SCREEN_REGISTRY: list[ScreenEntry] = [
    ScreenEntry(
        "dashboard", "screens.dashboard", _dashboard, Permission.VIEW_DASHBOARD, "1", "Dashboard"
    ),
    ScreenEntry("records", "screens.records", _records, Permission.VIEW_RECORDS, "2", "Records"),
    ScreenEntry(
        "analytics", "screens.analytics", _analytics, Permission.VIEW_ANALYTICS, "3", "Analytics"
    ),
    ScreenEntry(
        "categories", "screens.categories", _categories, Permission.MANAGE_CATEGORIES, "4",
        "Categories",
    ),
    ScreenEntry("users", "screens.users", _users, Permission.MANAGE_USERS, "5", "Users"),
    ScreenEntry("audit", "screens.audit", _audit, Permission.VIEW_AUDIT, "6", "Audit log"),
    ScreenEntry(
        "account", "screens.account", _account, Permission.CHANGE_OWN_PASSWORD, "7", "Account"
    ),
    ScreenEntry(
        "import", "screens.import_export", _import, Permission.IMPORT_CSV, "8", "Import"
    ),
    ScreenEntry(
        "budgets", "screens.budgets", _budgets, Permission.VIEW_DASHBOARD, "9", "Budgets"
    ),
    ScreenEntry(
        "recurring", "screens.recurring", _recurring, Permission.MANAGE_RECURRING, "0",
        "Recurring",
    ),
]  # fmt: skip


def registry_entry(name: str) -> ScreenEntry | None:
    return next((e for e in SCREEN_REGISTRY if e.name == name), None)


def default_state_path() -> Path:
    from finance_tui.config import state_dir

    return state_dir() / "tui.json"


class Blank(Screen):
    """Bottom of the stack; only visible for an instant between login and dashboard.
    Empty: it is laid out once at start-up, before the login screen's first frame."""


class FinanceApp(App[int]):
    """The finance-tui terminal app. Constructor arguments exist for tests and snapshots."""

    TITLE = "finance-tui"
    # The app-wide look and the login screen, the first frame; each screen names the
    # shared sheets and its own in its CSS_PATH (``screens.base.SHARED_STYLES``).
    CSS_PATH = ["../styles/app.tcss", "../styles/login.tcss"]
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("ctrl+t", "change_theme", "Theme", show=False, id="app.theme"),
        Binding("ctrl+l", "lock", "Lock", show=False, id="app.lock"),
        *[
            Binding(e.key, f"goto('{e.name}')", e.title, show=False, id=f"app.goto-{e.name}")
            for e in SCREEN_REGISTRY
        ],
    ]

    def __init__(
        self,
        db_url: str | None = None,
        *,
        today: date | None = None,
        idle_lock_minutes: int | None = None,
        state_path: Path | None = None,
        session: SessionController | None = None,
        db_label: str | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
        now: datetime | None = None,
        typeahead: bool | None = None,
        clock: Clock | None = None,
        exit_when_session_ends: bool = False,
        open_database: bool = False,
    ) -> None:
        """``db_url`` is displayed (and opened with ``open_database``); ``session`` skips the login.
        ``clock`` is the one source of today and now for every screen; ``today`` and
        ``now`` are shorthands that fix them (tests, snapshots). ``typeahead`` orders
        keys that arrive together (:class:`TypeaheadGate`); by default on in a
        terminal, off headless, where the test pilot already waits after each key.
        ``exit_when_session_ends`` (``serve ssh``): the end of the session ends the app,
        with the reason in ``ended_because``, instead of showing the login screen.
        ``open_database`` (``run_app``): open and migrate ``db_url`` on the database pool
        once the login screen is painted; every database call waits for it, and a
        failure ends the app with the reason in ``startup_error``."""
        super().__init__()
        self._typeahead_wanted = typeahead
        self._typeahead: TypeaheadGate | None = None
        self.db_url = db_url
        self.exit_when_session_ends = exit_when_session_ends
        self.ended_because = ""
        self.clock = clock or Clock(fixed_today=today, fixed_now=now)
        self._database: DatabasePool | None = None
        self._open_on_start = open_database
        self._opened: asyncio.Future[bool] | None = None
        self.startup_error = ""
        if idle_lock_minutes is None:
            from finance_tui.config import settings

            idle_lock_minutes = settings().idle_lock_minutes
        self.idle_lock_minutes = idle_lock_minutes
        self.state_path = state_path or default_state_path()
        self._themes = ThemeStore(self.state_path)
        self._default_theme = self.theme
        self.session: SessionController | None = session
        self._db_label = db_label
        self.refresh_seconds = refresh_seconds
        self._installed: dict[str, Screen] = {}
        self._stale: set[str] = set()
        self._current: str | None = None
        self._last_activity = time.monotonic()
        self._locked = False
        self._change_token: Any = None
        self._loading_theme = False
        self._keymap_requested: dict[str, str] = {}

    # ---- facts screens use -------------------------------------------
    @property
    def today(self) -> date:
        """The date treated as today (fixed in tests and snapshots)."""
        return self.clock.today()

    @property
    def database(self) -> DatabasePool:
        """The few long-lived threads every database call of the screens runs on
        (``docs/ARCHITECTURE.md``, "Workers and the database pool"). Made on first use:
        the module loads the database driver, which the first frame does not need."""
        if self._database is None:
            from finance_tui.dbpool import DatabasePool

            self._database = DatabasePool()
        return self._database

    def run_db(self, call: Callable[[], T]) -> Awaitable[T]:
        """Run ``call`` on the database pool; await the result (see ``screens.base``).
        Until the database opened at start-up is ready, the call waits for it."""
        if self._opened is None or (self._opened.done() and self._opened.result()):
            return self.database.run(call)
        return self._run_db_when_open(call)

    async def _run_db_when_open(self, call: Callable[[], T]) -> T:
        assert self._opened is not None
        if not await asyncio.shield(self._opened):  # a cancelled caller leaves it be
            raise DatabaseUnavailable("connection", self.startup_error)
        return await self.database.run(call)

    @property
    def db_label(self) -> str:
        if self._db_label is not None:
            return self._db_label
        from finance_tui.dburl import describe

        url = self.db_url
        if not url:
            from finance_tui.db import current_url

            url = current_url()
        return describe(url) if url else "(not connected)"

    @property
    def current_screen_name(self) -> str | None:
        return self._current

    def nav_entries(self) -> list[ScreenEntry]:  # a Sequence[NavEntry] for screens
        """Registry entries the current user may open and that exist."""
        if self.session is None:
            return []
        return [e for e in SCREEN_REGISTRY if self.session.can(e.permission) and e.available()]

    # ---- start-up ----------------------------------------------------------
    def get_default_screen(self) -> Screen:
        return Blank()

    @property
    def typing_ahead(self) -> bool:
        """Whether typed keys are still waiting for earlier ones to take effect."""
        return self._typeahead is not None and self._typeahead.busy

    def on_mount(self) -> None:
        wanted = self._typeahead_wanted
        if wanted or (wanted is None and not self.is_headless):
            self._typeahead = TypeaheadGate(self)
        self._load_theme()
        self._use_theme_palette()
        self._load_keymap()
        self.set_interval(5, self._check_idle)
        if self._open_on_start:
            self._opened = asyncio.get_running_loop().create_future()
            self.call_after_refresh(self._open_database)
        elif self.refresh_seconds > 0:
            self._watch_changes()
        if self.session is not None:
            self._after_login(self.session)
        else:
            # After the mount, not during it: Textual paints nothing while the app
            # mounts, and a screen pushed then drew its first frame into that pause, so
            # the login showed only when a later change (its footer) repainted it.
            self.call_later(self.show_login)
        self.call_after_refresh(self._preload_modules)

    def _open_database(self) -> None:
        """After the first frame: open (create, migrate) the database on the pool, so
        the login screen does not wait for the driver, the schema check or the sweep."""
        url = self.db_url or ""

        def open_it() -> None:
            from finance_tui.db import limit_sqlite_heap
            from finance_tui.startup import connect_checked

            connect_checked(url)
            limit_sqlite_heap()

        async def job() -> None:
            assert self._opened is not None
            try:
                await self.database.run(open_it)
            except FinanceError as exc:
                self.startup_error = " ".join(str(exc).split())
                self._opened.set_result(False)
                self.exit(1)
                return
            self._opened.set_result(True)
            if self.refresh_seconds > 0:
                self._watch_changes()

        worker: Worker[None] = self.run_worker(job, name="open-database", group="open-database")
        del worker  # typed for mypy, which infers the result type from the target

    def on_unmount(self) -> None:
        """Let the database threads end with the app (their connections close)."""
        if self._database is not None:
            self._database.close()

    def _preload_modules(self) -> None:
        """After the first frame, load the rest of the program in a thread, so a later
        upgrade of the installed package cannot change the code under this session."""
        from finance_tui.preload import preload

        def load() -> None:
            failed = preload()
            if failed:
                self.log.error(f"modules that failed to preload: {failed}")
            self.call_from_thread(self._check_keymap_ids)

        self.run_worker(load, thread=True, name="preload", group="preload")

    # ---- keymap -------------------------------------------------------------------
    def _load_keymap(self) -> None:
        """Apply the user's keymap file; each problem is one message, defaults stay."""
        from finance_tui.keymap import load_keymap

        keymap = load_keymap()
        self._keymap_requested = dict(keymap.bindings)
        for problem in keymap.problems:
            self.notify(problem, title="Keymap", severity="warning", timeout=15)
        if keymap.bindings:
            self.set_keymap(keymap.bindings)

    def _check_keymap_ids(self) -> None:
        """Once every screen is loaded: report (and drop) ids that name no binding."""
        known = all_binding_ids()
        unknown = sorted(set(self._keymap_requested) - known)
        for binding_id in unknown:
            self.notify(
                f"keymap: {binding_id}: no such binding (the ids are listed in help, F1); ignored",
                title="Keymap",
                severity="warning",
                timeout=15,
            )
            del self._keymap_requested[binding_id]
        if unknown:
            self.set_keymap(self._keymap_requested)

    def show_login(self, message: str = "") -> None:
        if self.exit_when_session_ends:
            self.ended_because = message or "your session has ended"
            self.exit()
            return
        from screens.login import LoginScreen

        self.push_screen(LoginScreen(self.db_label, message=message))
        self.call_after_refresh(gc.enable)  # off since launch (``cli``): the frame is up

    def on_login_screen_logged_in(self, message: Any) -> None:
        from screens.login import LoginScreen

        if isinstance(self.screen, LoginScreen):
            self.pop_screen()
        self.call_later(self._after_login, message.session)

    def _after_login(self, session: SessionController) -> None:
        self.session = session
        self._use_users_theme(session)
        self._last_activity = time.monotonic()
        self._locked = False
        start = next((e.name for e in self.nav_entries()), None)
        if start is None:
            self.notify("No screen is available for your role", severity="error")
            return
        self.goto(start)
        self.call_after_refresh(self._run_recurring, session)

    def _run_recurring(self, session: SessionController) -> None:
        """Create the due recurring records once the first screen is painted: a worker
        on the database pool, so nothing waits for it; the notification says how many."""
        if session is not self.session:
            return  # logged out before the first frame
        today = self.today

        def done(report: RecurringRunReport) -> None:
            from screens.recurring import show_run

            show_run(self, report, quiet=True)

        call_db(self, lambda: session.recurring.run(today), done, group="recurring-run")

    # ---- navigation --------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "goto":
            entry = registry_entry(str(parameters[0])) if parameters else None
            return bool(entry and entry in self.nav_entries())
        if action == "lock":
            return self.session is not None
        return True

    def action_goto(self, name: str) -> None:
        if isinstance(self.screen, ModalScreen):
            return
        self.goto(name)

    def goto(self, name: str) -> None:
        """Show screen ``name`` if the user's role allows it (one instance per login)."""
        entry = registry_entry(name)
        if entry is None or self.session is None or entry not in self.nav_entries():
            return
        if name == self._current and self.screen is self._installed.get(name):
            return
        if name not in self._installed:
            try:
                cls = entry.load()
            except (ImportError, AttributeError) as exc:
                self.notify(
                    f"{entry.title} is not available: {exc}", severity="error", markup=False
                )
                return
            screen = cls(self.session)
            self.install_screen(screen, name)
            self._installed[name] = screen
        elif name in self._stale:
            self._refresh_screen(self._installed[name])
        self._stale.discard(name)
        self._current = name
        if isinstance(self.screen, Blank):
            self.push_screen(name)
        else:
            self.switch_screen(name)

    # ---- help, theme, palette ----------------------------------------------
    def action_help(self) -> None:
        from screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.screen))

    def watch_theme(self, theme: str) -> None:
        self._use_theme_palette()
        if not self._loading_theme:
            self._remember_theme(theme)

    def _use_theme_palette(self) -> None:
        """Income and expense figures take the theme's readable success/error colours;
        visible screens redraw with them."""
        from screens.widgets import Palette

        Palette.use_theme(self.get_css_variables())
        current = self._installed.get(self._current or "")
        if current is not None:
            self._refresh_screen(current)

    def _load_theme(self) -> None:
        """The theme before anyone logs in: on a 16-colour terminal (TERM=xterm, the
        Linux console) the ANSI theme, whose colours are the terminal's own (the
        truecolor themes, squeezed into 16 colours, put text on a background of the
        same colour); else Textual's default. Each user's own choice comes at login."""
        if not self.is_headless and self.console.color_system in SIXTEEN_COLOURS:
            self._set_theme_quietly(ANSI_THEME)
        self._default_theme = self.theme

    def _use_users_theme(self, session: SessionController | None) -> None:
        """The theme this user chose last, else the default: never the previous
        user's (a shared server runs everyone under one account and one state file)."""
        theme = self._themes.theme_of(session.principal.user_id) if session else None
        if theme is None or theme not in self.available_themes:
            theme = self._default_theme
        self._set_theme_quietly(theme)

    def _set_theme_quietly(self, theme: str) -> None:
        self._loading_theme = True
        try:
            self.theme = theme
        finally:
            self._loading_theme = False

    def _remember_theme(self, theme: str) -> None:
        if self.session is None:
            return
        try:
            self._themes.remember(self.session.principal.user_id, theme)
        except OSError as exc:
            self.notify(f"Could not remember the theme: {exc}", severity="warning", markup=False)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast passes here: stored text in one (a category name, an error quoting
        a value) shows control and bidi characters as stand-ins, never as escapes."""
        super().notify(
            visible(message, single_line=False),
            title=visible(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Palette: only what the current role may do (no hidden admin commands)."""
        if self.session is not None and not self._locked:
            for entry in self.nav_entries():
                yield SystemCommand(
                    f"Go to {entry.title}",
                    f"Open the {entry.title.lower()} screen (key {entry.key})",
                    lambda name=entry.name: self.goto(name),
                )
            yield SystemCommand("Log out", "End this session (revokes the token)", self.logout)
            if self.idle_lock_minutes >= 0:
                yield SystemCommand("Lock", "Lock the screen now", self.action_lock)
        yield SystemCommand("Help", "Keys of the current screen", self.action_help)
        yield SystemCommand(
            "Theme", "Change the colour theme (remembered)", self.action_change_theme
        )
        yield SystemCommand("Quit", "Quit finance-tui", self.action_quit)

    # ---- session lifecycle -------------------------------------------------
    def logout(self, message: str = "You have been logged out") -> None:
        session, self.session = self.session, None
        if session is not None:
            call_db(self, session.logout, group="logout")
        self._reset_screens()
        self.show_login(message)

    def session_expired(self, message: str) -> None:
        """Called by screens when the core says the session is no longer valid."""
        if self.session is None:
            return
        self.session = None
        self._reset_screens()
        self.show_login(message)

    def _reset_screens(self) -> None:
        self._use_users_theme(None)  # the login screen shows no one's own choice
        while len(self.screen_stack) > 1:
            self.pop_screen()
        for name in list(self._installed):
            self.uninstall_screen(name)
        self._installed.clear()
        self._stale.clear()
        self._current = None
        self._locked = False

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self._last_activity = time.monotonic()
        typed = isinstance(event, events.Key | events.Paste) and not event.is_forwarded
        if typed and self._typeahead is not None and self._typeahead.hold(event):
            return
        await super().on_event(event)

    def _check_idle(self) -> None:
        if self.session is None or self._locked or self.idle_lock_minutes <= 0:
            return
        if time.monotonic() - self._last_activity >= self.idle_lock_minutes * 60:
            self.action_lock()

    def action_lock(self) -> None:
        if self.session is None or self._locked:
            return
        if not _module_exists("screens.account"):
            self.logout("Locked after inactivity; please log in again")
            return
        try:
            cls = _lock_screen()
        except (ImportError, AttributeError):
            self.logout("Locked after inactivity; please log in again")
            return
        self._locked = True

        def unlocked(ok: bool | None) -> None:
            self._locked = False
            self._last_activity = time.monotonic()
            if not ok:
                self.logout()

        self.push_screen(cls(self.session), unlocked)

    # ---- live refresh ------------------------------------------------------
    def _watch_changes(self) -> None:
        """One long-lived thread polls change_token() (one connection, so SQLite's
        data_version is meaningful) and tells the UI when anything was committed.

        It also watches the database itself: a lost connection is retried at once
        (a restarted server costs nobody a failed action); if the database stays
        unavailable the user is told once, and again when it is back."""

        def poll() -> None:
            from textual.worker import get_current_worker

            worker = get_current_worker()
            previous = None
            outage: DatabaseUnavailable | None = None
            while not worker.is_cancelled:
                token, problem = _poll_token(previous)
                if problem is not None and outage is None:
                    self._call_ui(self._database_unavailable, problem)
                elif problem is None and outage is not None:
                    self._call_ui(self._database_back)
                outage = problem
                if previous is not None and token != previous:
                    self._call_ui(self.database_changed)
                previous = token
                deadline = time.monotonic() + self.refresh_seconds
                while time.monotonic() < deadline and not worker.is_cancelled:
                    time.sleep(0.05)

        self.run_worker(poll, thread=True, group="change-poll", exclusive=True, exit_on_error=False)

    def _call_ui(self, callback: Any, *args: Any) -> None:
        """From the poll thread; the app may be closing, then there is nobody to tell."""
        with contextlib.suppress(RuntimeError):
            self.call_from_thread(callback, *args)

    def _database_unavailable(self, problem: DatabaseUnavailable) -> None:
        self.notify(
            f"{problem} — live refresh paused",
            title="Database",
            severity="error",
            markup=False,
            timeout=10,
        )

    def _database_back(self) -> None:
        self.notify("The database is available again", title="Database", markup=False)
        self.database_changed()

    def database_changed(self) -> None:
        """Refresh the visible screen; remember the others as stale until shown."""
        for name, screen in self._installed.items():
            if name == self._current:
                self._refresh_screen(screen)
            else:
                self._stale.add(name)

    @staticmethod
    def _refresh_screen(screen: Screen) -> None:
        """Reload a screen's data; one still mounting loads its own (a reload that lands
        before its on_mount built the tables would fill a table without columns)."""
        if screen.is_mounted and isinstance(screen, FinanceScreen):
            screen.refresh_data()


def _poll_token(previous: Any) -> tuple[Any, DatabaseUnavailable | None]:
    """The change token, or ``previous`` and the problem when the database fails twice
    running (the first failure closed a dead connection; the retry reconnects)."""
    from finance_tui.db import change_token, database_errors

    problem: DatabaseUnavailable | None = None
    for _ in range(2):
        try:
            with database_errors():
                return change_token(), None
        except DatabaseUnavailable as exc:
            problem = exc
        except Exception:  # noqa: BLE001 - a failed poll must not kill the app
            return previous, None
    return previous, problem


def run_app(db_url: str | None, *, connected: bool = False) -> int:
    """Entry point for ``finance-tui`` with no subcommand: run the TUI, which opens the
    database after its first frame (unless the caller already connected)."""
    import sys

    from finance_tui.dburl import check_url, normalize_url

    try:
        url = check_url(normalize_url(db_url))
    except FinanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    app = FinanceApp(url, open_database=not connected)
    try:
        result = app.run()
    finally:
        gc.enable()  # also when the app ended before its login screen was painted
    if app.startup_error:
        print(f"error: {app.startup_error}", file=sys.stderr)
        return 1
    if app.session is not None:
        from finance_tui.db import database_errors

        with contextlib.suppress(FinanceError), database_errors():
            app.session.logout()
    return int(result or 0)
