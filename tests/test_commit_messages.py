"""The commit-message rule the hook and CI apply."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parent.parent / ".ci" / "commit_messages.py"
_SPEC = importlib.util.spec_from_file_location("commit_messages", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
commit_messages = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(commit_messages)


def test_a_short_subject_with_a_body_passes() -> None:
    assert commit_messages.problems("Cap the lock at 15 min\n\nBecause doubling grew.\n") == []


def test_a_subject_of_exactly_72_characters_passes() -> None:
    assert commit_messages.problems("x" * 72) == []


def test_a_long_subject_is_named_with_its_length() -> None:
    assert commit_messages.problems("y" * 73 + "\n\nbody") == [
        "the subject has 73 characters (at most 72)"
    ]


def test_the_body_must_be_separated_by_a_blank_line() -> None:
    assert commit_messages.problems("Subject\nbody right below") == [
        "the second line must be blank (the body starts on the third)"
    ]


def test_git_comment_lines_are_ignored() -> None:
    assert commit_messages.problems("# Please enter\nFix it\n\nwhy\n# comment") == []


def test_an_empty_message_is_refused() -> None:
    assert commit_messages.problems("\n\n") == ["the subject line is empty"]


def test_the_hook_file_returns_non_zero_for_a_bad_message(tmp_path: Path) -> None:
    message = tmp_path / "MSG"
    message.write_text("z" * 80, encoding="utf-8")
    assert commit_messages.main([str(message)]) == 1
    message.write_text("Short subject\n\nbody", encoding="utf-8")
    assert commit_messages.main([str(message)]) == 0
