"""The ``frontoffice`` command patches for gevent exactly when it is about to serve on gevent."""

from __future__ import annotations

import pytest

from frontoffice.launch import chosen_worker, serves_on_gevent


@pytest.mark.parametrize(
    "argv",
    [["run"], ["run", "--port", "9000"], ["demo"], ["demo", "--simulate"], ["run", "--worker", "gevent"]],
)
def test_serving_commands_serve_on_gevent_by_default(argv):
    assert serves_on_gevent(argv, {})


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["db", "upgrade"],
        ["demo", "--no-serve"],
        ["run", "--help"],
        ["run", "--worker", "gthread"],
        ["run", "--worker=gthread"],
        ["simulate"],
    ],
)
def test_other_commands_and_the_gthread_worker_are_not_patched(argv):
    assert not serves_on_gevent(argv, {})


def test_the_environment_chooses_the_worker_unless_the_option_does():
    assert chosen_worker([], {"FRONTOFFICE_WORKER": "gthread"}) == "gthread"
    assert chosen_worker(["--worker", "gevent"], {"FRONTOFFICE_WORKER": "gthread"}) == "gevent"
    assert not serves_on_gevent(["run"], {"FRONTOFFICE_WORKER": "gthread"})
