"""The quick-add line: the pure parser (no database), then the session's save and the
``finance-tui add`` command on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import PASSWORD
from hypothesis import given
from hypothesis import strategies as st

from finance_tui.domain.dto import CategoryRow
from finance_tui.domain.quick_add import QuickAdd, QuickAddError, parse_quick_add
from finance_tui.errors import PermissionDenied, ValidationError
from finance_tui.models import AuditEvent, Record

TODAY = date(2026, 11, 25)
SEEDED = [("salary", "income"), ("food", "expense"), ("rent", "expense")]
SEEDED += [("investment", "both"), ("other", "both")]
CATEGORIES = [CategoryRow(i, name, kind, False) for i, (name, kind) in enumerate(SEEDED, 1)]
MORE = CATEGORIES + [
    CategoryRow(10, "fuel", "expense", False),
    CategoryRow(11, "eating out", "expense", False),
    CategoryRow(12, "Food delivery", "expense", False),
]


def parse(line: str, categories=CATEGORIES) -> QuickAdd:
    return parse_quick_add(line, categories, TODAY)


def error(line: str, categories=CATEGORIES) -> tuple[str, str]:
    with pytest.raises(QuickAddError) as caught:
        parse(line, categories)
    return caught.value.field, caught.value.message


# ---- what a line means ------------------------------------------------------------
def test_the_typical_expense():
    assert parse("12.50 fo lunch") == QuickAdd("expense", Decimal("12.50"), "food", TODAY, "lunch")


def test_thousand_separators_notes_and_a_trailing_days_ago():
    entry = parse("1,234.50 rent december rent -3")
    assert entry == QuickAdd(
        "expense", Decimal("1234.50"), "rent", TODAY - timedelta(days=3), "december rent", "-3"
    )
    assert entry.fields() == {
        "kind": "expense",
        "amount": "1234.50",
        "category": "rent",
        "date": "2026-11-22",
        "notes": "december rent",
    }


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("today", TODAY),
        ("TODAY", TODAY),
        ("yesterday", date(2026, 11, 24)),
        ("Yesterday", date(2026, 11, 24)),
        ("-0", TODAY),
        ("-1", date(2026, 11, 24)),
        ("-30", date(2026, 10, 26)),
        ("2026-01-31", date(2026, 1, 31)),
        ("1999-12-31", date(1999, 12, 31)),
    ],
)
def test_date_words(word, expected):
    entry = parse(f"9 fo bread {word}")
    assert (entry.date, entry.notes, entry.date_word) == (expected, "bread", word)


def test_a_date_word_right_after_the_category_leaves_no_notes():
    assert parse("9 fo yesterday") == QuickAdd(
        "expense", Decimal("9.00"), "food", date(2026, 11, 24), "", "yesterday"
    )


def test_without_a_date_word_the_date_is_today_and_the_numbers_stay_notes():
    entry = parse("45 rent room 3 of 12")
    assert (entry.date, entry.notes, entry.date_word) == (TODAY, "room 3 of 12", "")


def test_only_the_last_word_is_a_date_so_a_note_may_end_in_a_date_word():
    """A trailing -N is always a date; a date after it keeps it in the notes."""
    assert parse("5 fo room -3").notes == "room"
    entry = parse("5 fo room -3 today")
    assert (entry.notes, entry.date) == ("room -3", TODAY)
    entry = parse("5 fo paid yesterday 2026-11-01")
    assert (entry.notes, entry.date) == ("paid yesterday", date(2026, 11, 1))


def test_words_that_only_look_like_dates_stay_in_the_notes():
    for line, notes in [
        ("5 fo tomorrow", "tomorrow"),
        ("5 fo +2", "+2"),
        ("5 fo y", "y"),
        ("5 fo 2026-11", "2026-11"),
        ("5 fo 25/11/2026", "25/11/2026"),
    ]:
        entry = parse(line)
        assert (entry.notes, entry.date) == (notes, TODAY), line


def test_notes_keep_their_inner_spacing_and_lose_the_outer():
    assert parse("  5   fo   two  spaces\tand tab   ").notes == "two  spaces\tand tab"


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1", "1.00"),
        ("0.01", "0.01"),
        (".5", "0.50"),
        ("12.5", "12.50"),
        ("1,234", "1234.00"),
        ("1,234,567.89", "1234567.89"),
        ("99,999,999.99", "99999999.99"),
    ],
)
def test_amounts_are_exact_decimals(typed, amount):
    got = parse(f"{typed} fo").amount
    assert isinstance(got, Decimal)
    assert got == Decimal(amount)
    assert str(got) == amount


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-12", "'-12' must be positive (the category says income or expense)"),
        ("0", "'0' must be greater than zero"),
        ("0.00", "'0.00' must be greater than zero"),
        ("12.345", "'12.345' has more than 2 decimal places"),
        ("1,23.00", "'1,23.00' is not a number: start with the amount, e.g. 12.50 food lunch"),
        ("12,50", "'12,50' is not a number: start with the amount, e.g. 12.50 food lunch"),
        ("1e3", "'1e3' is not a number: start with the amount, e.g. 12.50 food lunch"),
        ("NaN", "'NaN' is not a number: start with the amount, e.g. 12.50 food lunch"),
        ("١٢", "'١٢' is not a number: start with the amount, e.g. 12.50 food lunch"),
        ("100,000,000", "'100,000,000' must be at most 99,999,999.99"),
    ],
)
def test_bad_amounts_are_refused_with_a_message(typed, message):
    assert error(f"{typed} fo lunch") == ("amount", message)


def test_the_category_first_is_told_to_start_with_the_amount():
    assert error("fo 12.50 lunch") == (
        "amount",
        "'fo' is not a number: start with the amount, e.g. 12.50 food lunch",
    )


def test_an_empty_line_and_an_amount_alone():
    assert error("") == ("line", "type an amount, a category and notes, e.g. 12.50 food lunch")
    assert error("   \t ") == error("")
    assert error("12.50") == ("category", "type a category after the amount, e.g. 12.50 food lunch")


# ---- categories -------------------------------------------------------------------
def test_category_prefix_is_case_insensitive_and_decides_the_kind():
    assert parse("3000 SAL november").kind == "income"
    assert parse("3000 Salary").category == "salary"
    assert parse("12 F lunch", CATEGORIES).category == "food"


def test_an_ambiguous_prefix_names_every_candidate():
    assert error("12 f lunch", MORE) == (
        "category",
        "'f' could be food, Food delivery or fuel: type more of the name",
    )
    assert error("12 foo lunch", MORE) == (
        "category",
        "'foo' could be food or Food delivery: type more of the name",
    )


def test_an_exact_name_wins_over_longer_names_it_starts():
    assert parse("12 food lunch", MORE).category == "food"
    assert parse("12 FOOD lunch", MORE).category == "food"
    assert parse("12 food d lunch", MORE).notes == "d lunch"


def test_a_name_with_spaces_typed_in_full_or_by_a_prefix():
    entry = parse("30 Eating Out pizza", MORE)
    assert (entry.category, entry.notes) == ("eating out", "pizza")
    entry = parse("30 eat out pizza", MORE)
    assert (entry.category, entry.notes) == ("eating out", "out pizza")
    entry = parse("30 food delivery sushi", MORE)
    assert (entry.category, entry.notes) == ("Food delivery", "sushi")


def test_an_unknown_category_names_the_close_ones():
    assert error("12 ent x") == (
        "category",
        "no category starts with 'ent' (close: investment, rent)",
    )
    assert error("12 fod x") == ("category", "no category starts with 'fod' (close: food)")
    assert error("12 salray x") == ("category", "no category starts with 'salray' (close: salary)")


def test_an_unknown_category_with_nothing_close_says_so():
    assert error("12 zz x") == ("category", "no category starts with 'zz', and none is close")
    assert error("12 fo x", []) == ("category", "no category starts with 'fo', and none is close")


def test_only_the_categories_given_count():
    """The caller passes the active ones: an archived category is simply not there."""
    active = [c for c in CATEGORIES if c.name != "food"]
    assert error("12 fo x", active)[0] == "category"


def test_many_candidates_are_cut_with_a_count():
    many = [CategoryRow(i, f"travel {i}", "expense", False) for i in range(9)]
    assert error("5 tr x", many)[1] == (
        "'tr' could be travel 0, travel 1, travel 2, travel 3, travel 4 or 4 more: "
        "type more of the name"
    )


def test_a_category_of_both_kinds_is_an_expense_unless_plus():
    assert parse("100 inv fund").kind == "expense"
    assert parse("+100 inv dividend").kind == "income"
    assert parse("+100 inv dividend").amount == Decimal("100.00")
    assert parse("+3000 sal").kind == "income"


def test_plus_on_an_expense_category_is_refused():
    assert error("+12 fo lunch") == ("amount", "'+' marks income, but food is an expense category")


# ---- dates that cannot be ---------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("2026-02-30", "'2026-02-30' is not a date (use YYYY-MM-DD, today, yesterday or -3)"),
        ("2026-13-01", "'2026-13-01' is not a date (use YYYY-MM-DD, today, yesterday or -3)"),
        ("-123456", "'-123456' is not a date (use YYYY-MM-DD, today, yesterday or -3)"),
        ("-99999", "'-99999' must be between 1900-01-01 and 2999-12-31"),
        ("1899-12-31", "'1899-12-31' must be between 1900-01-01 and 2999-12-31"),
    ],
)
def test_impossible_dates_are_refused(word, message):
    assert error(f"5 fo x {word}") == ("date", message)


# ---- hostile text -------------------------------------------------------------------
def test_markup_and_escape_sequences_typed_as_text_stay_literal():
    notes = r"[bold red]x[/] \x1b[2J %s {0} <script> ' OR 1=1 --"
    assert parse(f"5 fo {notes}").notes == notes


@pytest.mark.parametrize(
    ("char", "position"),
    [("\x1b", "U+001B"), ("\x07", "U+0007"), ("\x9b", "U+009B"), ("\x00", "U+0000")],
)
def test_control_characters_in_the_notes_are_refused_with_their_position(char, position):
    field, message = error(f"5 fo ab{char}[2J")
    assert field == "notes"
    assert f"({position}) at position 3" in message


def test_bidi_override_in_the_notes_is_refused():
    assert error("5 fo pay\u202eusd")[1] == (
        "contains a bidirectional control character (U+202E) at position 4"
    )


def test_control_characters_outside_spaces_never_split_words():
    """Only spaces and tabs part words: a separator control (U+001F) is not dropped."""
    assert error("5 fo a\x1fb")[0] == "notes"
    assert error("5 fo \x1f")[0] == "notes"


def test_a_hostile_typed_word_is_shown_safely_in_the_message():
    field, message = error("5 \x1b[31mfo x")
    assert field == "category"
    assert "\x1b" not in message
    assert message == "no category starts with '␛[31mfo', and none is close"


def test_a_long_typed_word_is_cut_in_the_message():
    _, message = error(f"5 {'z' * 200} x")
    assert message == f"no category starts with '{'z' * 39}…', and none is close"


def test_the_error_is_a_validation_error_naming_its_field():
    with pytest.raises(ValidationError) as caught:
        parse("5 zz")
    assert str(caught.value) == "category: no category starts with 'zz', and none is close"


@given(st.text(max_size=60))
def test_any_text_is_a_record_or_a_quick_add_error(line):
    try:
        entry = parse(line)
    except QuickAddError as exc:
        assert exc.field in ("line", "amount", "category", "date", "notes")
        assert "\n" not in exc.message or "\n" in line
        return
    assert entry.amount > 0
    assert entry.kind in ("income", "expense")
    assert entry.notes in line


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2),
    st.sampled_from([c.name for c in CATEGORIES]),
    st.integers(min_value=0, max_value=3000),
)
def test_round_trip_of_formatted_lines(amount, category, days):
    entry = parse(f"{amount:,.2f} {category[:3]} note -{days}")
    assert (entry.amount, entry.category, entry.date) == (
        amount,
        category,
        TODAY - timedelta(days=days),
    )


# ---- the session: one parser, the form's validation, the role matrix ---------------
def test_session_saves_the_line_with_an_audit_event(admin):
    row = admin.quick_add("1,234.50 rent december rent -3", today=TODAY)
    assert (row.kind, row.amount, row.category, row.date, row.notes) == (
        "expense",
        Decimal("1234.50"),
        "rent",
        date(2026, 11, 22),
        "december rent",
    )
    rec = Record.get_by_id(row.id)
    assert (rec.amount, rec.created_by.username) == (123450, "root")
    event = AuditEvent.get(AuditEvent.action == "record_create")
    assert event.entity_id == str(row.id)


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_only_admins_may_quick_add(sessions, counts, role):
    before = counts()
    with pytest.raises(PermissionDenied):
        sessions[role].quick_add("12.50 fo lunch", today=TODAY)
    after = counts()
    assert after["record"] == before["record"] == 0
    assert after["audit_event"] == before["audit_event"] + 1  # the refusal is audited


def test_session_refuses_an_archived_category_and_changes_nothing(admin, counts):
    food = next(c for c in admin.categories.list() if c.name == "food")
    admin.categories.archive(food.id)
    before = counts()
    with pytest.raises(QuickAddError) as caught:
        admin.quick_add("12.50 fo lunch", today=TODAY)
    assert caught.value.message == "no category starts with 'fo', and none is close"
    assert counts() == before


def test_the_record_parser_still_has_the_last_word(admin, counts):
    """Limits only the record parser knows (notes length) apply to a quick add too."""
    before = counts()
    with pytest.raises(ValidationError) as caught:
        admin.quick_add("5 fo " + "x" * 1001, today=TODAY)
    assert set(caught.value.fields) == {"notes"}
    assert counts() == before


# ---- the command line -------------------------------------------------------------
def _add(run_cli, db_url, *words: str, user: str = "root") -> tuple[int, str, str]:
    return run_cli(["add", *words, "--user", user, "--db", db_url], PASSWORD + "\n")


def test_cli_add_saves_one_quoted_line(admin, run_cli, db_url):
    code, out, err = _add(run_cli, db_url, "12.50 fo lunch")
    assert (code, err) == (0, "")
    (rec,) = Record.select()
    assert out == f"Added {date.today()} expense 12.50 food  lunch (id {rec.id})\n"
    assert (rec.kind, rec.amount, rec.category.name, rec.date, rec.notes) == (
        "expense",
        1250,
        "food",
        date.today(),
        "lunch",
    )


def test_cli_add_takes_separate_words_and_a_date_word(admin, run_cli, db_url):
    code, out, _ = _add(run_cli, db_url, "1,234.50", "rent", "december", "rent", "-3")
    assert code == 0
    (rec,) = Record.select()
    assert (rec.amount, rec.notes, rec.date) == (
        123450,
        "december rent",
        date.today() - timedelta(3),
    )
    assert "expense 1,234.50 rent  december rent" in out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("12 f lunch", "error: category: 'f' could be food or fuel: type more of the name"),
        ("12 zz lunch", "error: category: no category starts with 'zz', and none is close"),
        ("-12 fo", "error: amount: '-12' must be positive (the category says income or expense)"),
        ("12 fo a\x1bb", "error: notes: contains a control character (U+001B) at position 2"),
    ],
)
def test_cli_add_errors_are_one_line_and_change_nothing(
    admin, run_cli, db_url, counts, line, message
):
    admin.categories.create("fuel", "expense")
    before = counts()
    code, out, err = _add(run_cli, db_url, line)
    assert (code, out) == (1, "")
    assert err.splitlines()[0].startswith(message)
    assert len(err.splitlines()) == 1
    assert "\x1b" not in err
    assert counts()["record"] == before["record"] == 0


def test_cli_add_is_refused_to_a_viewer(admin, make_user, run_cli, db_url, counts):
    make_user("viewer", "vic")
    code, out, err = _add(run_cli, db_url, "12.50 fo lunch", user="vic")
    assert (code, out) == (1, "")
    assert (
        err
        == "error: Permission denied: role 'viewer' may not create, edit, delete or restore records\n"
    )
    assert counts()["record"] == 0
