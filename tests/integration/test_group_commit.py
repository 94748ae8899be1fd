"""Group commit (``frontoffice.db.grouped``, ``Database.grouped``): callers ready at the same moment
share one write transaction; each gets its own result or error, only after the commit that holds
its rows; an error of one never refuses another; a failed commit is never run again."""

from __future__ import annotations

import contextvars
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import requests
from sqlalchemy import MetaData, String, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from frontoffice.app import create_app
from frontoffice.db import Database, publish
from frontoffice.db.grouped import GroupCommit
from orders.models import Order
from tests.conftest import load_demo_catalogue, make_users
from tests.helpers import database_with
from tests.integration.test_idempotency_after_crash import _query, _serve, post_order
from tests.server_processes import clean_env


class _Base(DeclarativeBase):
    """Private tables of this module (kept out of the application's metadata)."""

    metadata = MetaData()


class Note(_Base):
    __tablename__ = "group_commit_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(40), unique=True)


@pytest.fixture
def db(database_url):
    with database_with(database_url, _Base.metadata) as database:
        yield database


def _gather_until(db: Database, callers: int, timeout_s: float = 10.0):
    """A leader's gathering that waits until ``callers`` callers (itself included) are in line."""

    def gather() -> None:
        deadline = time.monotonic() + timeout_s
        while db.group_commit.waiting < callers and time.monotonic() < deadline:
            time.sleep(0.001)

    return gather


def _together(db: Database, works: list, callers: int | None = None) -> list:
    """Run each work through ``db.grouped`` from its own thread, all at once; their outcomes (a
    result, or the exception raised) in the same order."""
    db.group_commit._gather = _gather_until(db, callers or len(works))
    outcomes: list = [None] * len(works)

    def call(i: int) -> None:
        try:
            outcomes[i] = db.grouped(works[i])
        except BaseException as exc:  # the outcome under test
            outcomes[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(works))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a caller never got its answer"
    return outcomes


def _adds(text: str, runs: list | None = None):
    def work(s):
        if runs is not None:
            runs.append(text)
        note = Note(text=text)
        s.add(note)
        s.flush()
        return note.id

    return work


def _texts(db: Database) -> list[str]:
    with db.reading() as r:
        return sorted(r.scalars(select(Note.text)))


def _count_commits(db: Database) -> list[int]:
    commits: list[int] = []
    event.listen(db.engine, "commit", lambda conn: commits.append(1))
    return commits


def test_callers_ready_together_share_one_commit_and_each_gets_its_own_result(db):
    commits = _count_commits(db)
    outcomes = _together(db, [_adds(f"n{i}") for i in range(4)])
    assert len(commits) == 1
    assert (db.group_commit.batches, db.group_commit.calls) == (1, 4)
    with db.reading() as r:
        ids = dict(r.execute(select(Note.text, Note.id)).all())
    assert outcomes == [ids[f"n{i}"] for i in range(4)]


def test_an_error_reaches_only_its_caller_and_the_others_commit_once(db):
    runs: list[str] = []

    def refuses(s):
        runs.append("bad")
        s.add(Note(text="bad"))
        s.flush()
        raise ValueError("this order cannot be taken")

    works = [_adds("a", runs), refuses, _adds("b", runs), _adds("c", runs)]
    outcomes = _together(db, works)
    assert isinstance(outcomes[1], ValueError)
    assert all(isinstance(o, int) for i, o in enumerate(outcomes) if i != 1)
    assert _texts(db) == ["a", "b", "c"]  # each once, the refused one not at all
    # The batch rolled back at the refusal; each work then ran alone (the refused one refused
    # again): those in line before it ran twice, those after it once.
    assert runs.count("bad") == 2
    assert all(runs.count(name) in (1, 2) for name in "abc")


def test_a_constraint_broken_by_one_callers_objects_is_that_callers_error(db):
    def adds_unflushed(text):
        def work(s):
            s.add(Note(text=text))  # flushed by the leader after this work, not at the commit
            return text

        return work

    outcomes = _together(db, [adds_unflushed("x"), adds_unflushed("x"), adds_unflushed("y")])
    assert sorted(o for o in outcomes if isinstance(o, str)) == ["x", "y"]
    assert sum(isinstance(o, IntegrityError) for o in outcomes) == 1
    assert _texts(db) == ["x", "y"]


def test_a_failed_commit_fails_every_caller_and_runs_nothing_again(db):
    runs: list[str] = []

    def refuse_commit(conn):
        raise RuntimeError("the disk is full")

    event.listen(db.engine, "commit", refuse_commit)
    outcomes = _together(db, [_adds(f"n{i}", runs) for i in range(3)])
    event.remove(db.engine, "commit", refuse_commit)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert sorted(runs) == ["n0", "n1", "n2"]  # once each: a failed commit may have happened
    assert _texts(db) == []


def test_more_callers_than_one_batch_take_turns_and_all_finish(db):
    db.group_commit.max_batch = 2
    outcomes = _together(db, [_adds(f"n{i}") for i in range(7)], callers=2)
    assert all(isinstance(o, int) for o in outcomes)
    assert len(set(outcomes)) == 7
    assert _texts(db) == sorted(f"n{i}" for i in range(7))
    assert db.group_commit.calls == 7
    assert db.group_commit.batches >= 4


_CALLER = contextvars.ContextVar("caller", default="nobody")


def test_each_work_runs_in_its_callers_context(db):
    db.group_commit._gather = _gather_until(db, 3)
    seen: dict[str, str] = {}

    def call(name: str) -> None:
        _CALLER.set(name)
        seen[name] = db.grouped(lambda s: _CALLER.get())

    threads = [threading.Thread(target=call, args=(f"caller-{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert seen == {f"caller-{i}": f"caller-{i}" for i in range(3)}
    assert db.group_commit.batches == 1


def test_events_of_a_shared_transaction_are_delivered_once_each_and_never_for_a_refusal(db):
    delivered: list[str] = []
    db.on_commit(lambda events: delivered.extend(events))

    def publishes(name, fail=False):
        def work(s):
            publish(s, name)
            if fail:
                raise ValueError(name)
            return name

        return work

    outcomes = _together(db, [publishes("e1"), publishes("e2", fail=True), publishes("e3")])
    assert isinstance(outcomes[1], ValueError)
    assert sorted(delivered) == ["e1", "e3"]


def test_inside_one_transaction_it_is_a_savepoint_of_it(db):
    with db.one_transaction():
        db.grouped(_adds("inner"))
        with pytest.raises(ValueError):
            db.grouped(
                lambda s: (s.add(Note(text="rolled back")), s.flush(), (_ for _ in ()).throw(ValueError()))[0]
            )
        assert db.group_commit.batches == 0
    assert _texts(db) == ["inner"]


class _Stop(BaseException):
    """Stands for a leader's greenlet being killed."""


def test_a_leader_stopped_mid_batch_answers_every_follower(db):
    def stops(s):
        raise _Stop()

    outcomes = _together(db, [_adds("a"), stops, _adds("b")])
    assert all(isinstance(o, _Stop) for o in outcomes)
    assert _texts(db) == []
    assert db.group_commit.waiting == 0
    # The group is free again for the next caller.
    db.group_commit._gather = lambda: None
    assert isinstance(db.grouped(_adds("after")), int)


def test_under_gevent_the_greenlets_ready_at_once_share_a_commit(tmp_path):
    """In a gunicorn gevent worker the leader's ``time.sleep(0)`` lets the greenlets that are ready
    reach the line before it takes it (run in a child process: it patches the standard library)."""
    script = textwrap.dedent(
        f"""
        from gevent import monkey
        monkey.patch_all()
        import gevent
        from sqlalchemy import text
        from frontoffice.db import Database, make_engine

        db = Database(make_engine("sqlite:///{tmp_path / "g.sqlite3"}"))
        with db.unit_of_work() as s:
            s.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
        def place(v):
            return db.grouped(lambda s: s.execute(text("INSERT INTO t (v) VALUES (:v)"), {{"v": v}}).lastrowid)
        jobs = [gevent.spawn(place, v) for v in range(6)]
        gevent.joinall(jobs, timeout=20)
        assert sorted(j.value for j in jobs) == [1, 2, 3, 4, 5, 6], [j.value for j in jobs]
        print(db.group_commit.batches, db.group_commit.calls)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "6"]


def test_under_gevent_a_caller_killed_in_line_or_as_leader_leaves_it_to_the_others(tmp_path):
    """A greenlet killed while it waits in line leaves it; one killed just after it was made the
    leader (before it took the line) hands the lead to the next; nobody is left waiting."""
    script = textwrap.dedent(
        f"""
        from gevent import monkey
        monkey.patch_all()
        import gevent
        from sqlalchemy import text
        from frontoffice.db import Database, make_engine

        db = Database(make_engine("sqlite:///{tmp_path / "k.sqlite3"}"))
        group = db.group_commit
        with db.unit_of_work() as s:
            s.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        def work(v, pause=0.0):
            def w(s):
                gevent.sleep(pause)
                return s.execute(text("INSERT INTO t (v) VALUES (:v)"), {{"v": v}}).lastrowid
            return w
        def settle():
            for _ in range(3000):
                if group.waiting == 0 and not group._leading:
                    return
                gevent.sleep(0.001)
            raise AssertionError("callers left waiting")

        # Killed while waiting: a leads (its work pauses), b and c wait; b is killed.
        a = gevent.spawn(db.grouped, work("a", 0.2)); gevent.sleep(0.01)
        b = gevent.spawn(db.grouped, work("b")); c = gevent.spawn(db.grouped, work("c")); gevent.sleep(0.01)
        b.kill()
        gevent.joinall([a, c], timeout=5)
        assert a.value and c.value, (a.value, c.value)
        settle()

        # Killed as the new leader, while it gathers: c takes the lead.
        group._gather = lambda: gevent.sleep(0.05)
        a = gevent.spawn(db.grouped, work("a2", 0.2)); gevent.sleep(0.06)
        b = gevent.spawn(db.grouped, work("b2")); gevent.sleep(0.01)
        c = gevent.spawn(db.grouped, work("c2")); gevent.sleep(0.01)
        while not a.dead:
            gevent.sleep(0.001)
        gevent.sleep(0.01)  # b, made the leader when a finished, is gathering
        assert group._waiting[0].wake.is_set() and not group._waiting[0].done
        b.kill()
        gevent.joinall([c], timeout=5)
        assert c.value, c.value
        settle()
        with db.reading() as r:
            print(" ".join(sorted(v for (v,) in r.execute(text("SELECT v FROM t")))))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["a", "a2", "c", "c2"]


def test_a_group_commit_refuses_an_empty_batch_size():
    with pytest.raises(ValueError):
        GroupCommit(lambda: None, max_batch=0)


def test_what_the_metrics_count_matches_the_writes(db):
    _together(db, [_adds(f"n{i}") for i in range(3)])
    db.group_commit._gather = lambda: None
    db.grouped(_adds("alone"))
    assert (db.group_commit.batches, db.group_commit.calls) == (2, 4)
    with db.reading() as r:
        assert r.scalar(select(func.count(Note.id))) == 4


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


@pytest.mark.slow
def test_a_real_server_answers_orders_sent_together_each_once_from_shared_commits(database_url, tmp_path):
    """``frontoffice run`` (gunicorn, gevent): 8 clients send 10 orders each at once, without keys.
    Every one is acknowledged with its own id and number, each stored once, and fewer commits than
    orders carried them."""
    setup = create_app({"database_url": database_url, "instance_path": tmp_path / "setup"})
    load_demo_catalogue(setup)
    operator = make_users(setup)["operator"]
    setup.extensions["frontoffice"].db.dispose()
    env = clean_env(database_url=database_url, secret_key="group-commit", instance_path=str(tmp_path / "i"))
    server = _serve(env, tmp_path, "grouped")
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def send(sender: int) -> None:
        http = requests.Session()
        for n in range(10):
            resp = post_order(http, server.url, operator.token, f"group-{sender}-{n}", keyed=False)
            with lock:
                answers.append(resp)

    try:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        metrics = requests.get(f"{server.url}/metrics", timeout=10).text
    finally:
        server.stop()
    assert [r.status_code for r in answers] == [201] * 80, [r.text for r in answers if r.status_code != 201][
        :1
    ]
    ids = [r.json()["id"] for r in answers]
    numbers = [r.json()["number"] for r in answers]
    assert len(set(ids)) == 80 and len(set(numbers)) == 80
    with_comments = _query(database_url, select(Order.id, Order.comment))
    assert sorted(i for i, _ in with_comments) == sorted(ids)
    assert len({c for _, c in with_comments}) == 80
    writes = _metric(metrics, "frontoffice_group_commit_writes_total")
    transactions = _metric(metrics, "frontoffice_group_commit_transactions_total")
    assert writes == 80
    assert transactions < writes, "no two orders shared a commit"
