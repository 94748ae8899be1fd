"""The rules of an ``Idempotency-Key``: what a call finds under its key decides what it does.

A call claims its key before it runs (an attempt: a number and a start time), and its answer is
recorded in the same transaction as what the call wrote, so a crash or a lost database leaves
either both or neither. What a later call with the same key finds then tells it what to do:

* the answer — replay it, whatever the first call's outcome was;
* another request under the same key — refuse it (422);
* an attempt still within the takeover timeout — the first call may still be running: 409, retry;
* an attempt older than that — it died with its process or its connection, and nothing it wrote
  was kept: take the key over and run the call again.

Pure: plain values in, a verdict out; no Flask, no session (the endpoint decorator in
:mod:`frontoffice.api` does the reading and writing).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from dataclasses import dataclass

#: The longest key accepted (the column's width).
MAX_KEY_LENGTH = 200


class Verdict(enum.Enum):
    """What a call does with the record it found under its key."""

    REPLAY = "replay"
    MISMATCH = "mismatch"
    IN_FLIGHT = "in_flight"
    TAKE_OVER = "take_over"


@dataclass(frozen=True)
class Found:
    """The parts of an existing record that decide a verdict."""

    fingerprint: str
    answered: bool
    #: When its current attempt started.
    started_at: dt.datetime


def judge(found: Found, fingerprint: str, now: dt.datetime, takeover_after: dt.timedelta) -> Verdict:
    """The verdict on a call with ``fingerprint`` that finds ``found`` under its key at ``now``."""
    if found.fingerprint != fingerprint:
        return Verdict.MISMATCH
    if found.answered:
        return Verdict.REPLAY
    if now - found.started_at >= takeover_after:
        return Verdict.TAKE_OVER
    return Verdict.IN_FLIGHT


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two calls "the same request": method, path and body (SHA-256, hex)."""
    h = hashlib.sha256()
    for part in (method.encode(), path.encode()):
        h.update(part)
        h.update(b"\0")
    h.update(body)
    return h.hexdigest()


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be used as an ``Idempotency-Key``, or None when it can."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return f"The Idempotency-Key header must have 1 to {MAX_KEY_LENGTH} characters."
    return None
