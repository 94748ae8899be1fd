"""The couriers package's shared objects, as declared slots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontoffice.extensions import Slot

if TYPE_CHECKING:
    from couriers.services.tracking import CourierDirectory
    from couriers.wiring import AutoDispatcher

COURIER_DIRECTORY: Slot[CourierDirectory] = Slot(
    "couriers.directory",
    "The process's cache of registered OsmAnd/Traccar device ids → couriers (read on every ping).",
)
AUTO_DISPATCHER: Slot[AutoDispatcher] = Slot(
    "couriers.auto_dispatcher",
    "The auto-dispatch round (a periodic job of the deployment); each round follows the stored rule "
    "(the dispatch screen's switch), COURIER_AUTO_DISPATCH_MINUTES being the rule until a manager sets one.",
)
