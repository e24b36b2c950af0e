"""Parsing SSH public keys as people paste them (one ``authorized_keys``-style line).

The common mistakes get their own message: the private key instead of the ``.pub``
file (which must never be stored, nor echoed back), several keys at once, a truncated
line. asyncssh does the actual parsing, so what is accepted here is exactly what the
SSH server can later match.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from finance_tui.errors import ValidationError
from finance_tui.textsafety import visible

MAX_COMMENT = 200
EXAMPLE = "e.g. the line in ~/.ssh/id_ed25519.pub"


@dataclass(frozen=True)
class ParsedKey:
    algorithm: str
    key_data: str  # "<algorithm> <base64>", the part a client's key is compared with
    fingerprint: str  # "SHA256:..." as ssh-keygen -lf prints it
    comment: str


def _refuse(message: str) -> ValidationError:
    return ValidationError({"key": message})


def _one_line(text: str) -> str:
    """The single non-blank line of ``text``; a private key or several keys are refused."""
    if "PRIVATE KEY" in text or "PuTTY-User-Key-File" in text:
        raise _refuse(
            "this is a PRIVATE key: never share it; add the public key instead "
            f"({EXAMPLE}). Nothing was stored"
        )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("#")]
    if not lines:
        raise _refuse(f"is empty: paste one public key line ({EXAMPLE})")
    if len(lines) > 1:
        raise _refuse(f"holds {len(lines)} lines: add one public key at a time")
    return lines[0]


def parse_public_key(text: str) -> ParsedKey:
    """One OpenSSH public key line -> its parts, or a ValidationError saying what is wrong."""
    import asyncssh

    line = _one_line(text)
    try:
        key = asyncssh.import_public_key(line)
    except (asyncssh.KeyImportError, ValueError, TypeError):
        raise _refuse(
            f"is not an OpenSSH public key (expected 'ssh-ed25519 AAAA... comment', {EXAMPLE})"
        ) from None
    algorithm = key.get_algorithm()
    data = base64.b64encode(key.public_data).decode("ascii")
    comment = visible(" ".join(line.split()[2:]))[:MAX_COMMENT]
    return ParsedKey(algorithm, f"{algorithm} {data}", key.get_fingerprint("sha256"), comment)


def fingerprint_of(key: object) -> str:
    """SHA256 fingerprint of an ``asyncssh.SSHKey`` (what a client offered)."""
    return key.get_fingerprint("sha256")  # type: ignore[attr-defined]
