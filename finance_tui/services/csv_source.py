"""Opening a CSV byte stream for import: encoding, delimiter, header, byte progress.

Kept apart from the row validation so the hot loop in :mod:`csv_import` only sees
decoded rows. Undecodable bytes are kept as surrogates (``surrogateescape``) so the row
that holds them can be reported by line number instead of aborting the whole file.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from finance_tui.domain.csv_options import CsvFormatError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

HEAD_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
FIELD_LIMIT = 1 << 20  # larger fields are reported as a bad row, never a crash
MAX_LINE_BYTES = 1 << 20  # a longer line stops the import: memory stays bounded


class _LineGuard:
    """Refuses a line longer than ``limit`` bytes as the bytes go by, chunk by chunk.

    The text layer and the csv module read a whole line before any field limit applies,
    so a file without line breaks (``/dev/zero``, a binary file) would otherwise be read
    into memory whole. Scanning each chunk for CR/LF is cheap (a few per megabyte).
    """

    def __init__(self, limit: int = MAX_LINE_BYTES):
        self.limit = limit
        self.lines = 0  # complete lines seen so far
        self._run = 0  # bytes of the current line so far
        self._newline = b""  # b"\n", or b"\r" for old Mac files: what counts lines

    def feed(self, data: bytes) -> None:
        last = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if last < 0:
            self._run += len(data)
            self._check(self._run)
            return
        first = min(i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0)
        self._check(self._run + first)
        if len(data) > self.limit:  # a line wholly inside one big chunk
            for k, line in enumerate(data[first:last].splitlines()):
                self._check(len(line), self.lines + 1 + k)
        if not self._newline:
            self._newline = b"\n" if b"\n" in data else b"\r"
        self.lines += data.count(self._newline)
        self._run = len(data) - last - 1

    def _check(self, length: int, line: int | None = None) -> None:
        if length > self.limit:
            megabytes = self.limit / (1 << 20)
            raise CsvFormatError(
                f"line {line or self.lines + 1}: a line longer than {megabytes:g} MB "
                "(is this a CSV file?); nothing was imported"
            )


class _CountingStream(io.RawIOBase):
    """Replays the already-read head, then the rest; counts bytes handed to the decoder
    and passes them by the line guard."""

    def __init__(self, head: bytes, rest: BinaryIO, guard: _LineGuard | None = None):
        self._head = memoryview(head)
        self._rest = rest
        self._guard = guard or _LineGuard()
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")  # any writable buffer, as bytes
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
        else:
            data = self._rest.read(len(view)) or b""
            n = len(data)
            view[:n] = data
        if n:
            self._guard.feed(bytes(view[:n]))
        self.consumed += n
        return n


def detect_encoding(head: bytes, given: str | None) -> str:
    """BOMs win (UTF-8/UTF-16); otherwise the given encoding, else UTF-8."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if not given:
        return "utf-8"
    try:
        name = codecs.lookup(given).name
    except LookupError:
        raise CsvFormatError(f"unknown encoding {given!r} (try utf-8, cp1252, latin-1)") from None
    return "utf-8-sig" if name == "utf-8" else name


def detect_delimiter(head_text: str, given: str | None) -> str:
    """The given delimiter, else whichever of , ; TAB | splits the header line most."""
    if given:
        named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
        delimiter = named.get(given.lower(), given)
        if len(delimiter) != 1 or delimiter in '\r\n"':
            raise CsvFormatError(f"delimiter must be one character (got {given!r})")
        return delimiter
    header = next((line for line in head_text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class CsvSource:
    """A decoded CSV stream ready to iterate: header row, delimiter and encoding chosen."""

    name: str
    encoding: str
    delimiter: str
    header: list[str]
    header_line: int
    rows: Iterator[list[str]]
    reader: object  # the csv reader (for line_num)
    total_bytes: int | None
    _counter: _CountingStream

    @property
    def bytes_read(self) -> int:
        return self._counter.consumed


def open_source(
    stream: BinaryIO,
    name: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    total_bytes: int | None = None,
) -> CsvSource:
    """Decode ``stream`` and read the header row (the first non-blank line)."""
    head = stream.read(HEAD_BYTES) or b""
    chosen = detect_encoding(head, encoding)
    head_text = head.decode(chosen, errors="replace")
    sep = detect_delimiter(head_text, delimiter)
    counter = _CountingStream(head, stream)
    text = io.TextIOWrapper(
        io.BufferedReader(counter, 256 * 1024),
        encoding=chosen,
        errors="surrogateescape",
        newline="",
    )
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    reader = csv.reader(text, delimiter=sep)
    header: list[str] | None = None
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                header = row
                break
    except csv.Error as exc:
        raise CsvFormatError(
            f"line {reader.line_num}: cannot read the header row ({exc})"
        ) from None
    except UnicodeError as exc:
        raise CsvFormatError(f"cannot decode the file as {chosen}: {exc}") from None
    if header is None:
        raise CsvFormatError("the file is empty: expected a header row (date, kind, amount, ...)")
    if any("\x00" in cell for cell in header):
        raise CsvFormatError(
            f"line {reader.line_num}: the header row contains NUL bytes: this looks like a "
            "binary file (a spreadsheet?), not CSV text; nothing was imported"
        )
    return CsvSource(
        name=name,
        encoding=chosen,
        delimiter=sep,
        header=[cell.strip() for cell in header],
        header_line=reader.line_num,
        rows=reader,
        reader=reader,
        total_bytes=total_bytes,
        _counter=counter,
    )


def display(text: str, limit: int = 40) -> str:
    """A header or value as it may be shown safely in a message (escaped, shortened)."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(shown)
