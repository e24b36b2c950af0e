"""The typeahead gate: keys that arrive together take effect one after the other.

A workaround for stock Textual (8.2): Textual gives a key to the widget focused *when
the key is read* and resolves most bindings later, so a burst of keys (typed ahead over
SSH, a password manager's auto-type) lands in the wrong place. See
:class:`TypeaheadGate` and ``docs/ARCHITECTURE.md`` ("Why the typeahead gate exists").

It reads one private attribute of Textual's ``MessagePump``, ``_pending_message`` (the
message being handled right now), because the public ``message_queue_size`` does not
count it. ``tests/test_typeahead_canary.py`` checks that attribute still exists and that
stock Textual still misroutes a burst.

When it can be removed: when that canary's stock-behaviour test fails after a Textual
upgrade (Textual then routes a burst of keys correctly by itself), delete this module,
its use in ``FinanceApp.on_event`` and the ``typeahead`` constructor argument.
"""

from __future__ import annotations

import asyncio
from collections import deque

from textual import events
from textual.app import App

SETTLE_ROUNDS = 16  # a key's effects cascade: key -> bubble -> binding -> push -> mount
SETTLE_SECONDS = 2.0  # never hold a typed key back longer than this (a stuck widget)


class TypeaheadGate:
    """Hands keys to the app one at a time, each after the previous one took effect.

    Textual gives a key to the widget focused *when the key is read*, and resolves most
    bindings later, when the key has bubbled back up to the app. Keys that arrive
    together (typed ahead over a slow SSH link, a password manager's auto-type, a
    pasted key sequence) would reach the wrong place: "name Tab password" lands in one
    field, and the keys after ``n`` miss the form ``n`` opens. So while a key's effects
    are still being handled, later keys wait here, and are released in order once the
    app and the current screen have no more queued messages. A human typing never
    waits; nothing waits longer than :data:`SETTLE_SECONDS` per key.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self.waiting: deque[events.Event] = deque()
        self.released: set[int] = set()
        self.busy = False
        self._task: asyncio.Task | None = None

    def hold(self, event: events.Event) -> bool:
        """Whether ``event`` must wait (it is posted again when its turn comes)."""
        if id(event) in self.released:
            self.released.discard(id(event))
            return False
        if self.busy:
            self.waiting.append(event)
            return True
        self.busy = True
        self._task = asyncio.create_task(self._release_in_turn())  # kept: not collected
        return False

    async def _release_in_turn(self) -> None:
        try:
            while True:
                await self._settle()
                if not self.waiting:
                    return
                self._release(self.waiting.popleft())
        except Exception as exc:  # waiting is a convenience: if it breaks, type on ungated
            self.app.log.error(f"typeahead gate: {exc!r}")
        finally:  # also if cancelled: never keep a typed key back
            self.busy = False
            while self.waiting:
                self._release(self.waiting.popleft())

    def _release(self, event: events.Event) -> None:
        self.released.add(id(event))
        self.app.post_message(event)

    async def _settle(self) -> None:
        """Wait until the app and its screen have handled every message already sent to
        them, round after round: a key's effects cascade (it bubbles up through the
        widgets, a binding pushes a screen, the screen mounts and takes focus)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        for _ in range(SETTLE_ROUNDS):
            try:
                nodes = [self.app, *self.app.screen.walk_children(with_self=True)]
            except Exception:  # no screen yet, or the app is closing
                return
            markers: list[asyncio.Event] = []
            for node in nodes:
                if node.message_queue_size or getattr(node, "_pending_message", None) is not None:
                    handled = asyncio.Event()
                    if node.call_later(handled.set):  # runs after what is queued now
                        markers.append(handled)
            if not markers:
                await asyncio.sleep(0)  # a handler half-way through may still post
                if not any(node.message_queue_size for node in nodes):
                    return
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(asyncio.gather(*(m.wait() for m in markers)), remaining)
            except TimeoutError:
                return
