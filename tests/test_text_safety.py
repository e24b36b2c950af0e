"""Control, C1 and bidi characters: refused by every text field, shown as stand-ins.

One rule (``text_problem``) for notes, category names, usernames, emails and the CSV
columns; one display form (``visible``) for screens and one (``printable``) for the CLI.
"""

from __future__ import annotations

import sys
import unicodedata
from datetime import date
from io import StringIO

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance_tui.domain.csv_options import ImportOptions, ImportRejected
from finance_tui.domain.values import text_problem
from finance_tui.errors import ValidationError
from finance_tui.models import Category, Record, User
from finance_tui.services.users import insert_user
from finance_tui.textsafety import UNSAFE_LINE, UNSAFE_MULTILINE, printable, visible

TODAY = date(2026, 11, 25)
C0 = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
BIDI = [*"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]
EVERY_UNSAFE = [*C0, "\x7f", *C1, *BIDI]


def _record(**changes) -> dict:
    return {
        "kind": "expense",
        "amount": "1.00",
        "category": "food",
        "date": "2026-11-20",
        "notes": "",
    } | changes


def _refused(call, field: str) -> str:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value.fields[field]


# ---- the rule -----------------------------------------------------------------------
@pytest.mark.parametrize("char", EVERY_UNSAFE, ids=lambda c: f"U+{ord(c):04X}")
def test_rule_names_every_refused_character_and_its_position(char):
    code = f"U+{ord(char):04X}"
    for multiline in (False, True):
        message = text_problem(f"ab{char}c", multiline=multiline)
        assert message is not None and message.startswith("contains a")
        assert f"({code}) at position 3" in message
    kind = "bidirectional control" if char in BIDI else ("NUL" if char == "\x00" else "control")
    assert kind in text_problem(char)


def test_every_refused_character_is_non_printable():
    """CSV import skips the rule for notes that are all printable: that must lose nothing."""
    assert not any(c.isprintable() for c in [*EVERY_UNSAFE, "\r", "\t", "\n"])
    odd = [chr(c) for c in range(0x110000) if UNSAFE_MULTILINE.match(chr(c) + "x")]
    assert not any(c.isprintable() for c in odd)


def test_rule_layout_characters_only_in_notes():
    for text in ("tab\there", "line\nbreak", "windows\r\nbreak"):
        assert text_problem(text, multiline=True) is None
        assert "control character" in text_problem(text)
    assert text_problem("lone\rreturn", multiline=True) == (
        "contains a control character (U+000D) at position 5"
    )
    assert text_problem("café — 日本 🙂 \u200d ok") is None  # ordinary text and ZWJ pass


def test_rule_bad_bytes_keep_their_own_message():
    assert "not valid text" in text_problem("bad \udcff byte")
    assert text_problem("bad \udcff", encoding="latin-1") == (
        "is not valid latin-1 text (use --encoding)"
    )
    assert "U+001B" in text_problem("\udcff\x1b")  # a control is reported first


# ---- every field --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("notes", "message"),
    [
        ("\x1b]0;PWNED\x07", "a control character (U+001B) at position 1"),
        ("wipe \x1b[2J", "a control character (U+001B) at position 6"),
        ("bell\x07", "a control character (U+0007) at position 5"),
        ("del\x7f", "a control character (U+007F) at position 4"),
        ("csi\x9b2J", "a control character (U+009B) at position 4"),
        ("x\u202eevil", "a bidirectional control character (U+202E) at position 2"),
        ("x\u2067y", "a bidirectional control character (U+2067) at position 2"),
        ("sep\x1f", "a control character (U+001F) at position 4"),  # strip() would eat it
        ("cr\rhere", "a control character (U+000D) at position 3"),
    ],
)
def test_record_notes_refused_on_create_and_update(admin, counts, notes, message):
    ok = admin.records.create(_record(notes="fine"), today=TODAY)
    before = counts()
    assert message in _refused(lambda: admin.records.create(_record(notes=notes)), "notes")
    update = lambda: admin.records.update(ok.id, ok.version, {"notes": notes}, today=TODAY)  # noqa: E731
    assert message in _refused(update, "notes")
    assert counts() == before and Record.get_by_id(ok.id).notes == "fine"


def test_record_notes_keep_tabs_and_line_breaks(admin):
    notes = "first\tline\nsecond\r\nthird"
    assert admin.records.get(admin.records.create(_record(notes=notes)).id).notes == notes


@pytest.mark.parametrize("char", ["\x1b", "\x9b", "\u202e", "\x0b"])
def test_category_create_and_rename_refused(admin, char):
    code = f"U+{ord(char):04X}"
    assert code in _refused(lambda: admin.categories.create(f"Fun{char}d", "both"), "name")
    food = Category.get(Category.name_lower == "food")
    assert code in _refused(lambda: admin.categories.rename(food.id, f"F{char}"), "name")
    assert Category.get_by_id(food.id).name == "food"


@pytest.mark.parametrize(
    ("username", "email", "field", "message"),
    [
        ("mal\x1blory", "m@example.com", "username", "(U+001B) at position 4"),
        ("mallory", "m\x1b]0;x\x07@example.com", "email", "(U+001B) at position 2"),
        ("mallory", "m\u202e@example.com", "email", "bidirectional control character (U+202E)"),
        ("mallory", "m\x85@example.com", "email", "(U+0085) at position 2"),
    ],
)
def test_users_refused(admin, counts, username, email, field, message):
    before = counts()
    call = lambda: admin.users.create(username, email, "correct-horse-1", "viewer")  # noqa: E731
    assert message in _refused(call, field)
    assert counts() == before


def _import(admin, tmp_path, text: str, **options):
    path = tmp_path / "bank.csv"
    path.write_text(text, encoding="utf-8")
    return admin.csv.import_file(path, ImportOptions(**options))


def test_csv_import_reports_the_character_by_line_and_field(admin, tmp_path):
    text = (
        "date,kind,amount,category,notes\n"
        "2026-11-01,expense,1.00,food,fine\n"
        "2026-11-02,expense,1.00,food,\x1b]0;PWNED\x07\n"
        "2026-11-03,expense,1.00,F\u202eood,x\n"
        '2026-11-04,expense,1.00,food,"two\nlines\tand a tab"\n'
    )
    with pytest.raises(ImportRejected) as info:
        _import(admin, tmp_path, text)
    lines = info.value.report.lines()
    assert "line 3: notes: contains a control character (U+001B) at position 1" in lines
    assert (
        "line 4: category: contains a bidirectional control character (U+202E) at position 2"
        in lines
    )
    assert len(info.value.report.errors) == 2 and Record.select().count() == 0
    report = _import(admin, tmp_path, text, skip_invalid=True, create_categories=True)
    assert report.imported == 2
    assert sorted(r.notes for r in Record.select()) == ["fine", "two\nlines\tand a tab"]
    assert not Category.select().where(Category.name.contains("\u202e")).exists()


# ---- display forms ------------------------------------------------------------------
def test_visible_uses_one_stand_in_per_character():
    assert visible("\x1b]0;T\x07\x1b[2J") == "␛]0;T␇␛[2J"
    assert visible("a\x00b\x7fc") == "a␀b␡c"
    assert visible("x\x9b1m\u202ey\u2069") == "x<U+009B>1m<U+202E>y<U+2069>"
    assert visible("one\ntwo\r\nthree\tfour") == "one two three four"
    assert visible("one\ntwo\r\nthree\tx\ry", single_line=False) == "one\ntwo\nthree    x␍y"
    assert visible("[bold]x[/] [link=http://x]y") == "[bold]x[/] [link=http://x]y"
    assert visible(None) == "" and visible(12) == "12"


def test_printable_escapes_for_the_command_line():
    assert printable("m\x1b[2J\u202e@x\x9b\udcff") == "m\\x1b[2J\\u202e@x\\x9b\\udcff"
    assert printable("café 日本") == "café 日本"


def _unsafe_for_terminal(text: str) -> bool:
    return bool(UNSAFE_LINE.search(text)) or any(0xD800 <= ord(c) <= 0xDFFF for c in text)


ANY_TEXT = st.text(st.characters(codec=None), max_size=40)


@given(ANY_TEXT)
def test_visible_never_leaves_a_control_character(text):
    one_line = visible(text)
    assert not _unsafe_for_terminal(one_line)
    lines = visible(text, single_line=False)
    assert not _unsafe_for_terminal(lines.replace("\n", ""))
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in printable(text))


@given(ANY_TEXT)
def test_visible_changes_text_exactly_when_something_was_hidden(text):
    assert (visible(text) == text) == (not _unsafe_for_terminal(text))
    layout_free = not any(c in text for c in "\t\r")
    if layout_free:
        assert (visible(text, single_line=False) == text) == (
            not _unsafe_for_terminal(text.replace("\n", ""))
        )


STAND_IN_FREE = st.text(
    st.characters(codec=None).filter(
        lambda c: c not in "\t\n\r<" and not 0x2400 <= ord(c) <= 0x2421
    ),
    max_size=12,
)


@given(STAND_IN_FREE, STAND_IN_FREE)
def test_visible_is_honest_two_texts_never_look_alike(a, b):
    """Without stand-in look-alikes typed in, different texts never show the same."""
    if a != b:
        assert visible(a) != visible(b)


@given(ANY_TEXT, st.booleans())
def test_rule_and_display_agree(text, multiline):
    """Whatever the rule accepts is shown unchanged (no stand-in in accepted text)."""
    pattern = UNSAFE_MULTILINE if multiline else UNSAFE_LINE
    if text_problem(text, multiline=multiline) is None:
        assert not pattern.search(text)
        if not multiline:
            assert visible(text) == text


# ---- the command line ---------------------------------------------------------------
def test_cli_refuses_a_hostile_email_in_one_escaped_line(run_cli, db_url, admin):
    before = User.select().count()
    code, out, err = run_cli(
        ["user", "add", "mallory", "m\x1b]0;PWNED\x07@x.org", "--db", db_url, "--user", "root"],
        "correct-horse-1\ncorrect-horse-2\n",
    )
    assert code == 1 and out == ""
    assert err == "error: email: contains a control character (U+001B) at position 2\n"
    assert User.select().count() == before


def test_cli_prints_stored_usernames_escaped(run_cli, db_url, admin):
    with User._meta.database.atomic():
        user = insert_user("mallory", "m@example.com", "correct-horse-1", "viewer")
        User.update(username="mal\x1b]0;PWNED\x07", username_lower="mal\x1b]0;pwned\x07").where(
            User.id == user.id
        ).execute()
    code, out, _ = run_cli(
        ["user", "set-role", str(user.id), "analyst", "--db", db_url, "--user", "root"],
        "correct-horse-1\n",
    )
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert out == "mal\\x1b]0;PWNED\\x07 is now analyst (was viewer)\n"


class _Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def _export_to_stdout(run_cli, db_url, monkeypatch, stdout) -> str:
    monkeypatch.setattr(sys, "stdout", stdout)
    code, _, _ = run_cli(["export", "-", "--db", db_url, "--user", "root"], "correct-horse-1\n")
    assert code == 0
    return stdout.getvalue()


def test_export_to_a_terminal_escapes_stored_controls(run_cli, db_url, admin, monkeypatch):
    rec = admin.records.create(_record(notes="fine"), today=TODAY)
    Record.update(notes="a\x1b]0;PWNED\x07\u202eb\tc").where(Record.id == rec.id).execute()
    shown = _export_to_stdout(run_cli, db_url, monkeypatch, _Terminal())
    assert "\x1b" not in shown and "\u202e" not in shown
    assert "a\\x1b]0;PWNED\\x07\\u202eb\tc" in shown
    piped = _export_to_stdout(run_cli, db_url, monkeypatch, StringIO())
    assert "a\x1b]0;PWNED\x07\u202eb\tc" in piped  # a pipe or file gets the data as stored
