"""``finance-tui serve ssh``: argument parsing and start-up messages of the SSH server."""

from __future__ import annotations

import argparse
import asyncio
import getpass

from finance_tui.commands.common import db_url, describe, open_db
from finance_tui.config import user_path
from finance_tui.errors import FinanceError


def register(servers: argparse._SubParsersAction) -> None:
    parser = servers.add_parser(
        "ssh",
        help="serve the app over SSH (its own server; no system sshd)",
        description="Serve the app over SSH. People connect with 'ssh -p PORT USER@HOST', "
        "where USER is their finance-tui username or email, and log in with a key added by "
        "'finance-tui key add' or with their finance-tui password.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=_port, default=2222, help="port (default: 2222; 0: any free port)"
    )
    parser.add_argument(
        "--host-key",
        metavar="PATH",
        help="the server's private host key (created at the first start, mode 0600); "
        "default: ssh_host_ed25519_key in the state directory",
    )
    parser.add_argument(
        "--max-sessions", type=_positive_int, default=32, help="most sessions at once (default: 32)"
    )
    parser.add_argument(
        "--idle-timeout",
        type=_minutes,
        default=0,
        metavar="MINUTES",
        help="disconnect after this many minutes without input (default: 0, never)",
    )
    parser.set_defaults(handler=run_serve_ssh)


def _port(text: str) -> int:
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0-65535)")
    return value


def _positive_int(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be 0 (never) or a positive number of minutes")
    return value


def connect_command(host: str, port: int) -> str:
    """The exact command people run (an IPv6 address needs no brackets with -p)."""
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    if host in ("0.0.0.0", "::", ""):
        shown = "THIS-HOST"
    return f"ssh -p {port} USER@{shown}"


def run_serve_ssh(args: argparse.Namespace) -> int:
    from finance_tui.serve import ssh

    open_db(args)  # create and migrate now: a bad URL is an error here, not per connection
    url = db_url(args)
    key_path = user_path(args.host_key) if args.host_key else ssh.default_host_key_path()
    try:
        host_key, created = ssh.load_or_create_host_key(key_path)
    except OSError as exc:
        raise FinanceError(
            f"cannot create the host key {key_path}: {exc.strerror or exc}"
        ) from None
    verb = "Created" if created else "Using"
    print(f"{verb} host key {key_path}")
    print(f"Host key fingerprint: {host_key.get_fingerprint('sha256')}")
    options = ssh.ServerOptions(
        db_url=url,
        host=args.host,
        port=args.port,
        host_key=key_path,
        max_sessions=args.max_sessions,
        idle_timeout_minutes=args.idle_timeout,
    )

    def ready(port: int) -> None:
        print(
            f"Serving {describe(url)} over SSH on {args.host} port {port} (as {getpass.getuser()})"
        )
        print(
            f"Connect with: {connect_command(args.host, port)}  (USER: a finance-tui username or email)"
        )
        print("Stop with Ctrl+C", flush=True)

    try:
        asyncio.run(ssh.serve_forever(options, host_key, ready))
    except OSError as exc:
        raise FinanceError(
            f"cannot listen on {args.host} port {args.port}: {exc.strerror or exc}"
        ) from None
    print("Stopped")
    return 0
