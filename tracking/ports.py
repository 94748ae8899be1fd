"""The tracking package's shared objects, as declared slots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontoffice.extensions import Slot

if TYPE_CHECKING:
    from tracking.eta import TravelTime
    from tracking.sockets import TrackingFeed

TRAVEL_TIME: Slot[TravelTime] = Slot(
    "tracking.travel_time",
    "How long a courier's legs take, for the tracking page's ETA (tracking.eta.TravelTime): the "
    "straight line × FRONTOFFICE_ROUTE_DETOUR_FACTOR, or an OSRM table service when "
    "FRONTOFFICE_TRAVEL_TIME=osrm (the straight line whenever it fails).",
)
TRACKING_FEED: Slot[TrackingFeed] = Slot(
    "tracking.feed",
    "Sends an order's tracking view to the pages open on it (the /track namespace) when its status "
    "changes or its courier moves.",
)
