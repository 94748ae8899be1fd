"""The monitor's shared objects, as declared slots (the monitor is a leaf: nobody else reads them,
but tests and the Prometheus collector do)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontoffice.extensions import Slot

if TYPE_CHECKING:
    from monitor.services import Monitor
    from monitor.sockets import MonitorHub

MONITOR: Slot[Monitor] = Slot("monitor.monitor", "The live delivery metrics of this process.")
MONITOR_HUB: Slot[MonitorHub] = Slot(
    "monitor.hub", "The coalescing sender of monitor snapshots and deltas to the /monitor namespace."
)
