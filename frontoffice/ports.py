"""Extension points the kernel itself offers to domain packages."""

from __future__ import annotations

from collections.abc import Callable

from frontoffice.extensions import Slot

#: ``play(url, rate)``: start a simulated day against a running instance in a daemon thread.
LivePlayer = Callable[[str, str], None]

LIVE_DAY: Slot[LivePlayer] = Slot(
    "frontoffice.live_day",
    "What ``frontoffice demo --simulate`` starts: plays a live day (orders, kitchen, couriers) against "
    "the instance at ``url`` once it answers; provided by the monitor's simulator.",
)
