"""`frontoffice create-user` makes the first admin of a fresh install, and like `set-password` it
holds the password rule (docs/deploy.md)."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from frontoffice.cli import main
from frontoffice.models import User


def cli_env(database_url, tmp_path) -> dict[str, str]:
    return {
        "FRONTOFFICE_DATABASE_URL": database_url,
        "FRONTOFFICE_INSTANCE_PATH": str(tmp_path / "cli"),
        "FRONTOFFICE_SECRET_KEY": "cli",
    }


def test_the_first_admin_is_made_on_the_command_line_with_a_strong_password(db, database_url, tmp_path):
    env = cli_env(database_url, tmp_path)
    weak = CliRunner().invoke(main, ["create-user", "anna", "--role", "admin", "--password", "anna"], env=env)
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output
    named = CliRunner().invoke(
        main, ["create-user", "anna", "--role", "admin", "--password", "anna-admin-1"], env=env
    )
    assert named.exit_code == 1 and "must not be, or contain, the username" in named.output
    with db.reading() as s:
        assert s.scalar(select(User).where(User.username == "anna")) is None
    made = CliRunner().invoke(
        main,
        ["create-user", "anna", "--role", "admin", "--name", "Anna Admin", "--password", "winter-harbour-7"],
        env=env,
    )
    assert made.exit_code == 0, made.output
    with db.reading() as s:
        assert s.scalar(select(User.role).where(User.username == "anna")) == "admin"


def test_set_password_refuses_a_weak_password(users, database_url, tmp_path):
    env = cli_env(database_url, tmp_path)
    result = CliRunner().invoke(main, ["set-password", "test-manager", "--password", "qwertyuiop"], env=env)
    assert result.exit_code == 1 and "common passwords" in result.output
