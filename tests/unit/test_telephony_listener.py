"""Who keeps the Asterisk AMI link: the web process without Redis, ``frontoffice telephony`` with it,
never both (no app, no database)."""

from __future__ import annotations

import pytest

from frontoffice.settings import Settings
from telephony.cli import refusal
from telephony.listener import listener_mode

REDIS = "redis://127.0.0.1:6379/0"


def settings(**values) -> Settings:
    return Settings(database_url="sqlite://", secret_key="x", ami_username="frontoffice", **values)


@pytest.mark.parametrize(
    ("values", "mode"),
    [
        ({}, "off"),  # no PBX: nothing to listen to
        ({"telephony": "mango", "telephony_listener": "thread"}, "off"),  # Mango posts to the web app
        ({"telephony": "asterisk"}, "thread"),  # embedded: the web process keeps it
        ({"telephony": "Asterisk", "redis_url": REDIS}, "process"),  # several processes: the command
        ({"telephony": "asterisk", "redis_url": REDIS, "telephony_listener": "thread"}, "thread"),
        ({"telephony": "asterisk", "telephony_listener": "process"}, "process"),
        ({"telephony": "asterisk", "telephony_listener": " OFF "}, "off"),
    ],
)
def test_who_keeps_the_ami_link(values, mode):
    assert listener_mode(settings(**values)) == mode


def test_an_unknown_listener_setting_is_refused_by_name():
    with pytest.raises(ValueError, match="FRONTOFFICE_TELEPHONY_LISTENER must be one of auto, thread"):
        listener_mode(settings(telephony="asterisk", telephony_listener="both"))


def test_the_telephony_command_runs_only_where_the_link_is_its_own():
    assert refusal(settings(telephony="asterisk", redis_url=REDIS)) is None
    assert refusal(settings(telephony="asterisk", redis_url=REDIS, telephony_listener="process")) is None
    assert "not asterisk" in refusal(settings(telephony="mango", redis_url=REDIS))
    assert "FRONTOFFICE_AMI_USERNAME" in refusal(
        Settings(database_url="sqlite://", secret_key="x", telephony="asterisk", redis_url=REDIS)
    )
    embedded = refusal(settings(telephony="asterisk"))
    assert "FRONTOFFICE_REDIS_URL" in embedded and "the web process keeps the AMI link itself" in embedded
    twice = refusal(settings(telephony="asterisk", redis_url=REDIS, telephony_listener="thread"))
    assert "record and ring every call twice" in twice
    assert "nobody" in refusal(settings(telephony="asterisk", redis_url=REDIS, telephony_listener="off"))
    assert "must be one of" in refusal(settings(telephony="asterisk", telephony_listener="both"))
