"""The call-centre JSON API (one blueprint, ``callcentre_api``): the calls — caller lookup, clients and
addresses, geocoding, quotes, order entry — in :mod:`callcentre.api.calls`, changing a taken order in
:mod:`callcentre.api.order_edits`, the delivery zones and
their editor in :mod:`callcentre.api.zones`."""

from callcentre.api import calls, order_edits, zones
from callcentre.api.common import bp

__all__ = ["bp", "calls", "order_edits", "zones"]
