"""Flow control of the SSH server: a client that reads slower than its app paints must
not make the server (shared by every connection) hold that app's output in memory."""

from __future__ import annotations

import asyncio
import os
import sys
from types import SimpleNamespace

import pytest

from finance_tui.serve.ssh import AppSession

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX pseudo-terminals")


class SlowChannel:
    """The part of an SSH channel the session writes to; it only counts."""

    def __init__(self) -> None:
        self.received = 0

    def write(self, data: bytes) -> None:
        self.received += len(data)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0.01)


async def test_a_paused_channel_stops_reading_the_apps_terminal():
    master, slave = os.openpty()
    os.set_blocking(master, False)
    session = AppSession(SimpleNamespace(state=None))  # type: ignore[arg-type]
    channel = SlowChannel()
    session.chan = channel  # type: ignore[assignment]
    session.master = master
    loop = asyncio.get_running_loop()
    loop.add_reader(master, session._pump)
    try:
        os.write(slave, b"first paint")
        await _settle()
        assert channel.received == len(b"first paint")

        session.pause_writing()  # asyncssh: the channel's send buffer is over its limit
        os.set_blocking(slave, False)
        waiting = 0
        try:  # the app paints on until its own terminal is full, then it would block
            while waiting < 4 << 20:
                waiting += os.write(slave, b"x" * 4096)
        except BlockingIOError:
            pass
        await _settle()
        assert channel.received == len(b"first paint"), "read while the client was full"
        assert 0 < waiting < 4 << 20, "the app's output waits in its own pty buffer"

        session.resume_writing()
        for _ in range(200):
            await asyncio.sleep(0.01)
            if channel.received == len(b"first paint") + waiting:
                break
        assert channel.received == len(b"first paint") + waiting
    finally:
        session._stop_reading()
        os.close(slave)
