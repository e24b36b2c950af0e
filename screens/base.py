"""What every screen is built on: typed access to the app shell, database workers, and
palette commands.

- :class:`ShellApp` says what a screen may use of the app beyond Textual's ``App``:
  the session, the one :class:`Clock`, navigation, logout, and :meth:`ShellApp.run_db`,
  which runs a database call on the app's small fixed pool of database threads. It is
  a Protocol, so screens never import ``finance_tui.app``; the app shell implements it.
- :class:`FinanceScreen` / :class:`FinanceModal` reach the app through
  :attr:`FinanceScreen.shell`. The shell calls :meth:`FinanceScreen.refresh_data`
  after another session changed the database, and the palette offers
  :meth:`FinanceScreen.palette_commands` through the :class:`ScreenCommands` provider
  (Textual's ``Screen.COMMANDS``).
- Database work runs in async Textual workers that await the pool. A loader that may
  be overtaken (the user pages or types on) is an ``@work(exclusive=True, group=...)``
  method: starting it again cancels the stale one, whose result is then never shown.
  It awaits :meth:`FinanceScreen.fetch`, which also stops it when its screen went away
  meanwhile. One-off calls (save, delete) use :meth:`FinanceScreen.call_db`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol, TypeVar, cast

from textual.app import CSSPathType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.geometry import Size
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.worker import Worker

from finance_tui.errors import DatabaseUnavailable, FinanceError, SessionExpired
from screens.screen_open import OpenOnceScreen

if TYPE_CHECKING:
    from finance_tui.session import SessionController

T = TypeVar("T")
ResultT = TypeVar("ResultT")

# Sheets for the widgets and dialogs every screen after the login may show; each
# screen's CSS_PATH lists them before its own sheet. Not the app's CSS_PATH: the login
# screen's first frame then parses only what it shows (Textual re-parses every sheet
# loaded so far whenever a screen brings a new one, so fewer sheets before the first
# frame is a shorter start-up). Paths are relative to the screen's module in screens/.
SHARED_STYLES: list[str | PurePath] = ["../styles/widgets.tcss", "../styles/form.tcss"]


class Clock(Protocol):
    """The date and time screens treat as current (fixed in tests and snapshots)."""

    def today(self) -> date: ...

    def now(self) -> datetime: ...


class NavEntry(Protocol):
    """A screen the user may open: what the nav bar shows of it."""

    @property
    def name(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def title(self) -> str: ...


class ShellApp(Protocol):
    """The app shell as screens see it (``finance_tui.app.FinanceApp`` implements it)."""

    session: SessionController | None
    clock: Clock

    def nav_entries(self) -> Sequence[NavEntry]: ...

    def goto(self, name: str) -> None: ...

    def logout(self, message: str = ...) -> None: ...

    def session_expired(self, message: str) -> None: ...

    def run_db(self, call: Callable[[], T]) -> Awaitable[T]: ...


class PaletteCommand(NamedTuple):
    """One command a screen offers in the palette."""

    title: str
    help: str
    callback: Callable[[], Any]


def shell_of(node: DOMNode) -> ShellApp:
    """The app shell of any widget or screen, typed."""
    return cast("ShellApp", node.app)


def notify_error(node: DOMNode, exc: FinanceError) -> None:
    """Show a core error; a dead session sends the app back to its login screen."""
    node.app.notify(str(exc), title="Error", severity="error", markup=False, timeout=8)
    if isinstance(exc, SessionExpired):
        shell_of(node).session_expired(str(exc))


def forget(future: asyncio.Future[Any]) -> None:
    """Drop a database call started alongside another whose worker ended first: a
    call still queued never runs, and a failure of one that ran is not reported."""
    if not future.done():
        future.cancel()
    elif not future.cancelled():
        future.exception()


def gone(node: DOMNode) -> bool:
    """Whether ``node`` went away while a database call was under way: the app is
    quitting, or the node was removed. A screen's ``display`` turns False as soon as
    Textual starts removing it (its widgets go first), before it is detached."""
    return not node.is_attached or (isinstance(node, Screen) and not node.display)


def call_db(
    node: DOMNode,
    call: Callable[[], T],
    on_done: Callable[[T], None] | None = None,
    *,
    on_error: Callable[[FinanceError], bool | None] | None = None,
    success: str | Callable[[T], str] | None = None,
    group: str = "db",
    exclusive: bool = False,
) -> Worker[None]:
    """Run ``call`` on the database pool in an async worker; handle the outcome on
    the UI thread.

    A :class:`FinanceError` goes to ``on_error`` (return True when handled), otherwise
    it becomes an error notification. Database trouble is a :class:`DatabaseUnavailable`
    and is always notified too (the screen keeps what was typed; the user retries).
    Anything else is a bug and surfaces as one. With ``exclusive`` a newer call of the
    same group cancels this one, and its result is dropped.
    """
    shell = shell_of(node)

    async def job() -> None:
        try:
            result = await shell.run_db(call)
        except FinanceError as exc:
            handled = not gone(node) and on_error is not None and on_error(exc)
            if not handled or isinstance(exc, DatabaseUnavailable):
                notify_error(node, exc)
            return
        if gone(node):
            return
        if on_done is not None:
            on_done(result)
        if success is not None:
            message = success(result) if callable(success) else success
            node.app.notify(message, markup=False)

    # The coroutine function, not a coroutine: a worker cancelled before it starts
    # leaves no coroutine behind that was never awaited.
    return node.run_worker(job, name=group, group=group, exclusive=exclusive)


def screen_commands(screen: Screen[Any]) -> list[PaletteCommand]:
    """The palette commands of ``screen`` (none for a screen not of this app)."""
    if isinstance(screen, FinanceScreen):
        return list(screen.palette_commands())
    return []


class ScreenCommands(Provider):
    """Palette provider for the commands of the screen the palette was opened on.

    ``self.screen`` is that screen, not the palette itself (which is the app's current
    screen while it is open), so the screen's commands are found while typing.
    """

    async def discover(self) -> Hits:
        for command in screen_commands(self.screen):
            yield DiscoveryHit(command.title, command.callback, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in screen_commands(self.screen):
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(command.title), command.callback, help=command.help
                )


def laid_out_content(widget: Widget) -> tuple[int, int]:
    """The width and height of ``widget``'s content area, from the size the last layout
    gave it. Textual's ``content_size`` and ``content_region`` look the widget up in
    the screen's map of widgets instead, and that map is rebuilt (the whole screen
    arranged again) when it is out of date: inside a layout that measures the widget,
    or right after a change that asked for one. A new size repaints the widget."""
    width, height = widget.outer_size
    gutter = widget.styles.gutter
    return max(0, width - gutter.width), max(0, height - gutter.height)


def breakpoint_classes(screen: Screen, size: Size) -> list[str]:
    """The breakpoint classes Textual gives ``screen`` at ``size`` (the screen's own
    ``HORIZONTAL_BREAKPOINTS``/``VERTICAL_BREAKPOINTS``, else the app's)."""
    app = screen.app
    axes = (
        (screen.HORIZONTAL_BREAKPOINTS, app.HORIZONTAL_BREAKPOINTS, size.width),
        (screen.VERTICAL_BREAKPOINTS, app.VERTICAL_BREAKPOINTS, size.height),
    )
    classes = []
    for own, default, cells in axes:
        fitting = [
            (at, name) for at, name in (default if own is None else own) or [] if cells >= at
        ]
        if fitting:
            classes.append(max(fitting)[1])
    return classes


def start_at_breakpoints(screen: Screen) -> None:
    """Give a new screen its breakpoint classes for the terminal's size now.

    Textual adds them at the screen's first Resize, after every widget of the screen
    was styled, and then styles the whole screen again (81 widgets on the dashboard).
    Added before the widgets are mounted, the Resize finds them there and changes
    nothing. A screen made outside a running app is left to Textual."""
    try:
        size = screen.app.size
    except RuntimeError:  # Textual's NoActiveAppError: no app is running
        return
    screen.add_class(*breakpoint_classes(screen, size), update=False)


class FinanceScreen(OpenOnceScreen[ResultT]):
    """A main screen of the app: typed access to the shell, refresh and palette hooks."""

    COMMANDS = {ScreenCommands}
    CSS_PATH: ClassVar[CSSPathType | None] = SHARED_STYLES

    def __init__(self, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        start_at_breakpoints(self)

    @property
    def shell(self) -> ShellApp:
        return shell_of(self)

    def refresh_data(self) -> None:
        """Reload from the database: another session changed it while this screen was
        shown (or before it is shown again). Screens that show data override it."""

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """This screen's own palette commands, only those the role may use (the core
        would refuse the rest anyway)."""
        return ()

    def call_db(
        self,
        call: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        **options: Any,
    ) -> Worker[None]:
        """:func:`call_db` for this screen."""
        return call_db(self, call, on_done, **options)

    async def fetch(self, call: Callable[[], T]) -> T:
        """Await ``call`` on the database pool, for a loader worker of this screen.

        The answer (or the error) may come after the screen was closed or the app began
        to quit, when its widgets are gone; the worker then ends here, cancelled, instead
        of updating widgets that no longer exist."""
        try:
            result = await self.shell.run_db(call)
        except FinanceError:
            self._stop_if_gone()
            raise
        self._stop_if_gone()
        return result

    def _stop_if_gone(self) -> None:
        if gone(self):
            raise asyncio.CancelledError


class FinanceModal(ModalScreen[ResultT]):
    """A dialog of the app: the same typed access to the shell as :class:`FinanceScreen`."""

    CSS_PATH: ClassVar[CSSPathType | None] = SHARED_STYLES

    def __init__(self, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        start_at_breakpoints(self)

    @property
    def shell(self) -> ShellApp:
        return shell_of(self)

    def call_db(
        self,
        call: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        **options: Any,
    ) -> Worker[None]:
        return call_db(self, call, on_done, **options)
