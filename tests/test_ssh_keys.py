"""SSH public keys per user: parsing, permissions in the service, audit, CLI."""

from __future__ import annotations

import asyncssh
import pytest

from finance_tui.errors import NotFound, PermissionDenied, ValidationError
from finance_tui.migrations import latest_version, schema_version
from finance_tui.models import AuditEvent, SshKey
from finance_tui.services.ssh_keys import key_owner
from finance_tui.sshkeys import parse_public_key

PASSWORD = "correct-horse-1"


def new_key(comment: str = "me@laptop") -> tuple[str, str]:
    """(public line, private PEM text) of a fresh ed25519 key."""
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    public = key.export_public_key("openssh").decode()
    return public, key.export_private_key("openssh").decode()


def test_parse_gives_algorithm_fingerprint_and_comment():
    public, _ = new_key("alice@desk")
    parsed = parse_public_key(public)
    expected = asyncssh.import_public_key(public).get_fingerprint("sha256")
    assert parsed.algorithm == "ssh-ed25519"
    assert parsed.fingerprint == expected and parsed.fingerprint.startswith("SHA256:")
    assert parsed.comment == "alice@desk"
    assert parsed.key_data == " ".join(public.split()[:2])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is empty"),
        ("ssh-ed25519 AAAAnotbase64", "is not an OpenSSH public key"),
        ("hello world", "is not an OpenSSH public key"),
    ],
)
def test_parse_refuses_bad_input_clearly(text, words):
    with pytest.raises(ValidationError) as caught:
        parse_public_key(text)
    assert words in caught.value.fields["key"]


def test_private_key_is_refused_and_not_echoed():
    _, private = new_key()
    with pytest.raises(ValidationError) as caught:
        parse_public_key(private)
    message = caught.value.fields["key"]
    assert "PRIVATE key" in message
    assert private.splitlines()[1] not in message


def test_two_keys_at_once_are_refused():
    one, _ = new_key()
    two, _ = new_key()
    with pytest.raises(ValidationError, match="2 lines"):
        parse_public_key(one + two)


def test_migration_reaches_latest(db):
    assert schema_version(db) == latest_version()
    assert db.table_exists("ssh_key")


def test_everyone_manages_own_keys_with_audit(sessions):
    viewer = sessions["viewer"]
    public, _ = new_key()
    row = viewer.ssh_keys.add(public)
    assert row.username == viewer.principal.username
    assert [r.fingerprint for r in viewer.ssh_keys.list()] == [row.fingerprint]
    assert key_owner(viewer.principal.username, row.fingerprint).id == viewer.principal.user_id
    assert key_owner(viewer.principal.email, row.fingerprint) is not None
    assert key_owner("root", row.fingerprint) is None  # the key is the viewer's only
    event = AuditEvent.get(AuditEvent.action == "ssh_key_add")
    assert row.fingerprint in event.after and event.actor_name == viewer.principal.username
    viewer.ssh_keys.remove(row.fingerprint)
    assert viewer.ssh_keys.list() == []
    assert AuditEvent.select().where(AuditEvent.action == "ssh_key_remove").count() == 1


def test_duplicate_key_is_refused(sessions):
    viewer = sessions["viewer"]
    public, _ = new_key()
    viewer.ssh_keys.add(public)
    with pytest.raises(ValidationError, match="already registered"):
        viewer.ssh_keys.add(public)
    assert SshKey.select().count() == 1
    sessions["analyst"].ssh_keys.add(public)  # unique per user, not across users
    assert SshKey.select().count() == 2


def test_only_admin_manages_others_keys(sessions):
    viewer, analyst, admin = sessions["viewer"], sessions["analyst"], sessions["admin"]
    public, _ = new_key()
    with pytest.raises(PermissionDenied):
        viewer.ssh_keys.add(public, analyst.principal.username)
    with pytest.raises(PermissionDenied):
        viewer.ssh_keys.list(analyst.principal.username)
    assert SshKey.select().count() == 0
    row = admin.ssh_keys.add(public, analyst.principal.username)
    assert row.username == analyst.principal.username
    assert [r.fingerprint for r in analyst.ssh_keys.list()] == [row.fingerprint]
    with pytest.raises(PermissionDenied):
        viewer.ssh_keys.remove(row.fingerprint, analyst.principal.username)
    with pytest.raises(NotFound):
        admin.ssh_keys.add(public, "nobody-here")
    admin.ssh_keys.remove(row.fingerprint, analyst.principal.email)
    assert SshKey.select().count() == 0


def test_deactivated_user_keys_match_nobody(sessions):
    viewer, admin = sessions["viewer"], sessions["admin"]
    public, _ = new_key()
    row = viewer.ssh_keys.add(public)
    admin.users.set_active(viewer.principal.user_id, False)
    assert key_owner(viewer.principal.username, row.fingerprint) is None


def test_cli_key_add_list_remove(run_cli, db_url, admin, make_user, tmp_path):
    make_user("viewer", name="vera")
    public, private = new_key("vera@box")
    path = tmp_path / "id.pub"
    path.write_text(public)
    code, out, err = run_cli(
        ["key", "add", str(path), "--user", "vera", "--db", db_url], PASSWORD + "\n"
    )
    assert (code, err) == (0, "")
    fingerprint = parse_public_key(public).fingerprint
    assert f"Added for vera: {fingerprint} ssh-ed25519 vera@box" in out
    code, out, _ = run_cli(["key", "list", "--user", "vera", "--db", db_url], PASSWORD + "\n")
    assert code == 0 and fingerprint in out
    code, out, err = run_cli(
        ["key", "add", "-", "--user", "vera", "--db", db_url], PASSWORD + "\n" + private
    )
    assert code == 1 and "PRIVATE key" in err and out == ""
    code, _, err = run_cli(
        ["key", "list", "--for", "root", "--user", "vera", "--db", db_url], PASSWORD + "\n"
    )
    assert code == 1 and "Permission denied" in err
    code, out, _ = run_cli(
        ["key", "remove", "--for", "vera", fingerprint, "--user", "root", "--db", db_url],
        PASSWORD + "\n",
    )
    assert code == 0 and f"Removed from vera: {fingerprint}" in out
    assert SshKey.select().count() == 0
    code, _, err = run_cli(
        ["key", "add", str(tmp_path / "nope.pub"), "--user", "vera", "--db", db_url],
        PASSWORD + "\n",
    )
    assert code == 1 and "cannot read" in err


def test_open_for_opens_an_audited_session_and_refuses_inactive(sessions):
    from finance_tui.errors import AuthError
    from finance_tui.session import SessionController

    viewer, admin = sessions["viewer"], sessions["admin"]
    user_id = viewer.principal.user_id
    opened = SessionController.open_for(
        user_id, via="ssh-key", fingerprint="SHA256:abc", address="10.0.0.7"
    )
    assert opened.verify().username == viewer.principal.username
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert last.action == "login" and "SHA256:abc" in last.after and "10.0.0.7" in last.after
    admin.users.set_active(user_id, False)
    with pytest.raises(AuthError, match="deactivated"):
        SessionController.open_for(user_id, via="ssh-key", fingerprint="SHA256:abc")
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert last.action == "login_failed" and "inactive" in last.after
