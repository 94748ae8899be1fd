"""The monitor's use cases: snapshots of the day, the loyalty projection and its top lists, reports.

Everything here reads; the only writes are the loyalty projection's (``record_delivery``,
``rebuild_loyalty``), which the order events keep current. This module is the package's
public face: callers write ``services.Monitor``, ``services.top_clients(...)``.

* :mod:`.monitor` — the :class:`Monitor` of one app (orchestration and per-process caches);
* :mod:`.day` — reads of the business day and of the other packages' tiles;
* :mod:`.projection` — the loyalty projection and its top lists;
* :mod:`.directory` — the call centre's dossiers of the loyal clients;
* :mod:`.zones` — delivery zones for the reports;
* :mod:`.reports` — deliveries by client, delivery performance.
"""

from __future__ import annotations

from monitor.services.directory import client_directory
from monitor.services.monitor import EDGES_TTL_S, LOYAL_TTL_S, SMALL_POPULATION, SNAPSHOT_TOP, Monitor
from monitor.services.projection import (
    all_time_of,
    iter_bucket,
    rebuild_loyalty,
    record_delivery,
    top_clients,
)
from monitor.services.reports import (
    DEFAULT_REPORT_DAYS,
    deliveries_by_client,
    delivery_performance,
    report_period,
)
from monitor.services.zones import ZoneShape, compile_zones, recorded_zones, zone_of
from monitor.tiles import DayData

__all__ = [
    "DEFAULT_REPORT_DAYS",
    "EDGES_TTL_S",
    "LOYAL_TTL_S",
    "SMALL_POPULATION",
    "SNAPSHOT_TOP",
    "DayData",
    "Monitor",
    "ZoneShape",
    "all_time_of",
    "client_directory",
    "compile_zones",
    "deliveries_by_client",
    "delivery_performance",
    "iter_bucket",
    "rebuild_loyalty",
    "record_delivery",
    "recorded_zones",
    "report_period",
    "top_clients",
    "zone_of",
]
