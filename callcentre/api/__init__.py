"""The call-centre JSON API (one blueprint, ``callcentre_api``): the calls — caller lookup, clients and
addresses, geocoding, quotes, order entry — in :mod:`callcentre.api.calls`, the delivery zones and
their editor in :mod:`callcentre.api.zones`."""

from callcentre.api import calls, zones
from callcentre.api.common import bp

__all__ = ["bp", "calls", "zones"]
