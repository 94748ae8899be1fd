"""Travel times from an OSRM server's ``table`` service (docs/tracking.md).

``GET {base}/table/v1/{profile}/{lon},{lat};{lon},{lat}…`` answers
``{"code": "Ok", "durations": [[seconds, …], …]}``: ``durations[i][j]`` is the fastest time from
the i-th to the j-th point, ``null`` where no route joins them. Anything else — an HTTP error
(OSRM answers 400 with ``code`` ``InvalidQuery``, ``NoSegment``, ``TooBig`` …), ``NoTable``, a
malformed body, no answer within the timeout — and each leg it did not give is measured by the
fallback (the straight line), so the tracking page always has an estimate.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import requests

from tracking.eta import Point, TravelTime

log = logging.getLogger(__name__)


class OsrmTable:
    """A :class:`tracking.eta.TravelTime` asking an OSRM ``table`` service, with a fallback."""

    def __init__(
        self,
        base_url: str,
        fallback: TravelTime,
        *,
        profile: str = "driving",
        timeout_s: float = 2.0,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.fallback = fallback
        self.profile = profile
        self.timeout_s = timeout_s
        self.http = session or requests.Session()

    def table_url(self, points: Sequence[Point]) -> str:
        """The ``table`` request of ``points`` (OSRM wants longitude first)."""
        coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        return f"{self.base_url}/table/v1/{self.profile}/{coordinates}"

    def durations(self, points: Sequence[Point]) -> list[list[float | None]] | None:
        """OSRM's matrix of ``points`` in seconds, or None when it gave none."""
        try:
            resp = self.http.get(
                self.table_url(points), params={"annotations": "duration"}, timeout=self.timeout_s
            )
        except requests.RequestException as exc:
            log.warning("OSRM table did not answer: %s", exc)
            return None
        try:
            body: Any = resp.json()
        except ValueError:
            body = None
        code = body.get("code") if isinstance(body, dict) else None
        if resp.status_code != 200 or code != "Ok":
            message = body.get("message") if isinstance(body, dict) else None
            log.warning("OSRM table refused: HTTP %s, code %s, %s", resp.status_code, code, message)
            return None
        matrix = body.get("durations")
        if not _is_matrix(matrix, len(points)):
            log.warning("OSRM table answered no %s×%s durations matrix", len(points), len(points))
            return None
        return matrix

    def legs(self, points: Sequence[Point], speed_mps: float) -> list[float]:
        """See :meth:`tracking.eta.TravelTime.legs`; the fallback's legs where OSRM gave none."""
        if len(points) < 2:
            return []
        matrix = self.durations(points)
        out: list[float] = []
        for i in range(len(points) - 1):
            value = matrix[i][i + 1] if matrix is not None else None
            if value is None:
                value = self.fallback.legs([points[i], points[i + 1]], speed_mps)[0]
            out.append(float(value))
        return out


def _is_matrix(value: Any, n: int) -> bool:
    """True for an n×n list of non-negative finite numbers or nulls."""
    return (
        isinstance(value, list)
        and len(value) == n
        and all(
            isinstance(row, list)
            and len(row) == n
            and all(
                v is None
                or (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0)
                for v in row
            )
            for row in value
        )
    )
