"""Which characters stored text may hold, and how any text is shown without harm.

A terminal obeys what it is sent: ESC starts a sequence that can retitle the window or
wipe the screen, C1 bytes (U+0080-U+009F) do the same on some terminals, and bidi
overrides make text read differently from what is stored. So:

- :data:`UNSAFE_LINE` / :data:`UNSAFE_MULTILINE` are the one definition of what a text
  field rejects (validation) and what a screen never writes raw (display);
- :func:`visible` gives the on-screen form of any text, even text that never passed
  validation (older rows, rows written straight into the database): every unsafe
  character becomes a printable stand-in (Control Pictures such as "␛" for C0 and DEL,
  ``<U+202E>`` for C1 and bidi controls), one stand-in per character so nothing hides;
- :func:`printable` does the same for the command line, in ``\\x1b`` style.

No Textual or Rich here: the CLI uses it too.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls, DEL, C1 controls, bidi embeddings/overrides (U+202A-U+202E) and isolates
# (U+2066-U+2069). Lone surrogates (bytes that did not decode) are not text at all: the
# encoding check refuses them, and the display replaces them like the rest.
_CONTROLS = "\x00-\x1f\x7f-\x9f"
_BIDI = "\u202a-\u202e\u2066-\u2069"

#: Anything a one-line field (names, emails, category names) must not contain.
UNSAFE_LINE = re.compile(f"[{_CONTROLS}{_BIDI}]")
#: The same for notes, which may keep tabs and line breaks (LF, or CR LF).
UNSAFE_MULTILINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]|\r(?!\n)")


def unsafe_char_problem(text: str, *, multiline: bool = False) -> str | None:
    """The first character of ``text`` that a text field refuses, as a field message.

    Positions count from 1, in the text as given, so the user can find the character
    (the screens show it at the same place, as a one-character stand-in for C0/DEL).
    """
    match = (UNSAFE_MULTILINE if multiline else UNSAFE_LINE).search(text)
    if match is None:
        return None
    code, position = ord(match.group()[0]), match.start() + 1
    if code == 0:
        kind = "a NUL character"
    elif code in range(0x202A, 0x202F) or code in range(0x2066, 0x206A):
        kind = "a bidirectional control character"
    else:
        kind = "a control character"
    return f"contains {kind} (U+{code:04X}) at position {position}"


def _stand_in(code: int) -> str:
    if code < 0x20:
        return chr(0x2400 + code)  # Control Pictures: ␀ … ␟ (␛ for ESC)
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


_STAND_INS = {
    code: _stand_in(code)
    for code in [*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F)]
    + [*range(0x2066, 0x206A), *range(0xD800, 0xE000)]
}
_ONE_LINE = {0x09: " ", 0x0A: " "}
_TAB_STOP = "    "


def visible(value: object, *, single_line: bool = True) -> str:
    """``value`` as text that is safe to write to a terminal, unsafe characters shown.

    One line: tabs and line breaks become spaces (a table cell, an input box).
    Several lines: line breaks stay (LF; CR LF becomes LF), tabs become four spaces.
    Every other unsafe character becomes its stand-in, so visible(x) == x exactly when
    there was nothing to hide.
    """
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n")
    if single_line:
        return text.translate(_ONE_LINE).translate(_STAND_INS)
    lines = text.replace("\t", _TAB_STOP).split("\n")
    return "\n".join(line.translate(_STAND_INS) for line in lines)


def printable(text: str) -> str:
    """Text for the command line: control, format and bidi characters escaped
    (``\\x1b``, ``\\u202e``), surrogates too; everything else as typed."""
    return "".join(
        ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs")
        else ch
        for ch in text
    )
