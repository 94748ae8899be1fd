"""The span of days the front office accepts from a client.

Python's dates end at the years 1 and 9999. A day or an instant at either edge cannot be moved to
another time zone, to the next day or to the start of its week without ``OverflowError``, so a
service that does so (every report does) would fail with a 500 instead of answering. No delivery
business speaks of such days: every day a request names lies between :data:`FIRST_DAY` and
:data:`LAST_DAY` (``frontoffice.schemas.Day``, a 422 beyond them), and so does every time a
courier's phone reports (``couriers.tracking.point_problems``).
"""

from __future__ import annotations

import datetime as dt

FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def within_calendar(value: dt.date | dt.datetime) -> bool:
    """True when ``value`` (a day, or an instant's day at its own offset) lies in FIRST_DAY..LAST_DAY."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return FIRST_DAY <= day <= LAST_DAY
