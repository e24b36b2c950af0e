"""The pilot waits for the widgets that have work, not for every widget on the screen.

After each key and each pause, Textual's pilot waits until every node of the screen has
handled what was queued for it (``Pilot._wait_for_screen``). It does so by posting a
callback to every node, app and screen included, and awaiting them all. Each of those
callbacks is a message its node must take from its queue, dispatch, and follow with an
idle event, so a screen of 150 widgets handles 300 messages per key, almost all of
them for widgets that had nothing to do.

Here a node gets the callback only if it may still have work: a message queued or
peeked, a callback waiting for the next turn, a message loop not running yet, or a
loop not waiting on its empty queue (a handler is awaiting something). A node whose
loop waits on its empty queue has already handled everything queued for it, with its
idle event, so the callback would prove nothing the stock wait does not already know.
The nodes that do get it are awaited as before, with the same timeout and the same
answer when the app has failed.

As sharp as before: the wait ends at the same point of every node's queue; only the
messages that would have been handled without anything to handle are not sent.
"""

from __future__ import annotations

import asyncio

from textual.message_pump import MessagePump
from textual.pilot import Pilot, WaitForScreenTimeout

STOCK_WAIT = Pilot._wait_for_screen


def may_have_work(node: MessagePump) -> bool:
    """False only for a node whose message loop waits on its empty queue."""
    queue = node._message_queue
    task = node._task
    if queue.values or node._pending_message is not None or node._next_callbacks:
        return True
    if task is None or task.done():
        return True
    waiter = getattr(task, "_fut_waiter", None)
    return waiter is None or waiter not in queue.ready_event._waiters


async def _wait_for_busy_nodes(self: Pilot, timeout: float = 30.0) -> bool:
    app = self.app
    try:
        screen = app.screen
    except Exception:
        return False
    nodes = [node for node in (app, *screen.walk_children(with_self=True)) if may_have_work(node)]
    outstanding = 0
    all_handled = asyncio.Event()

    def handled() -> None:
        nonlocal outstanding
        outstanding -= 1
        if outstanding == 0:
            all_handled.set()

    for node in nodes:
        if node.call_later(handled):
            outstanding += 1
    if not outstanding:
        return True
    waits = [
        asyncio.create_task(all_handled.wait()),
        asyncio.create_task(app._exception_event.wait()),
    ]
    done, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if not done:
        raise WaitForScreenTimeout("nodes on the screen did not handle their messages in time")
    return outstanding == 0


def wait_only_for_busy_nodes() -> None:
    """Install the narrower wait for the pilots of this process (idempotent)."""
    Pilot._wait_for_screen = _wait_for_busy_nodes  # type: ignore[method-assign]
