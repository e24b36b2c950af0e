"""Start-up time: process start to an interactive login screen, against a bare Textual app.

    python bench/startup.py --db sqlite:///path.db [--repeat 5]

Both run the same way: a fresh ``python`` process on a pseudo-terminal (120x40), timed
until their first screen with a marker text is written to the terminal ("Log in" on the
login screen; "BARE-READY" for the bare app, which shows it from on_mount). Prints
``app=<seconds>`` and ``bare=<seconds>`` (medians, alternating runs).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = """
from textual.app import App
from textual.widgets import Static


class Bare(App):
    def compose(self):
        yield Static("waiting")

    def on_mount(self):
        self.query_one(Static).update("BARE-READY")


Bare().run()
"""


def time_to_marker(argv: list[str], marker: bytes, env: dict, timeout: float = 30.0) -> float:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
    )
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                seen = seen[-4096:] + chunk
                if marker in seen:
                    return time.perf_counter() - start
            if proc.poll() is not None:
                break
        raise RuntimeError(f"{argv[-1]}: no {marker!r} within {timeout}s: {seen[-300:]!r}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        os.close(master)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        bare = Path(home) / "bare_app.py"
        bare.write_text(BARE_APP)
        env = {
            **os.environ,
            "HOME": home,
            "XDG_STATE_HOME": f"{home}/state",
            "XDG_CONFIG_HOME": f"{home}/config",
            "XDG_DATA_HOME": f"{home}/data",
            "TERM": "xterm-256color",
            "COLUMNS": "120",
            "LINES": "40",
        }
        env.pop("TEXTUAL", None)
        app_cmd = [sys.executable, "-m", "finance_tui", "--db", args.db]
        bare_cmd = [sys.executable, str(bare)]
        time_to_marker(app_cmd, b"Log in", env)  # warm the OS file cache for both
        time_to_marker(bare_cmd, b"BARE-READY", env)
        app_times, bare_times = [], []
        for _ in range(args.repeat):
            app_times.append(time_to_marker(app_cmd, b"Log in", env))
            bare_times.append(time_to_marker(bare_cmd, b"BARE-READY", env))
    print(f"app={statistics.median(app_times):.4f}")
    print(f"bare={statistics.median(bare_times):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
