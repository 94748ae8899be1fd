"""Call-centre use cases, the package's public face: clients and their dossier, addresses, statistics,
merging, zones, the geocoder cache, order entry and repeating an order.

Every function takes a ``Session`` and plain arguments, raises domain errors and
never commits: the caller's unit of work does. Refusals are raised before the first
write, so a refused order leaves no client, address or order behind.
"""

from callcentre.services.addresses import (
    ADDRESS_FIELDS,
    DOSSIER_ADDRESSES,
    AddressData,
    add_address,
    addresses_of,
    get_address,
    update_address,
)
from callcentre.services.clients import (
    MAX_MERGE_DEPTH,
    PhoneEntry,
    create_client,
    ensure_client,
    extra_phones,
    find_client,
    get_client,
    update_client,
)
from callcentre.services.dossier import DOSSIER_ORDERS, Dossier, DossierOrder, dossier, recent_orders
from callcentre.services.geocoding import (
    GEOCODE_CACHE_DAYS,
    cached_geocode,
    purge_geocode_cache,
    store_geocode,
)
from callcentre.services.merging import merge_clients
from callcentre.services.order_entry import (
    AddressChoice,
    CartLine,
    Quote,
    QuoteRequest,
    TakeOrder,
    active_orders,
    branch_hours,
    quote,
    take_order,
)
from callcentre.services.repeat import RepeatCart, repeat_cart
from callcentre.services.stats import STATUS_FACTS, rebuild_stats, record_order_fact
from callcentre.services.zones import (
    DeliveryPlace,
    ZoneCache,
    ZoneImport,
    ZonePolicy,
    ZoneSpec,
    export_zones,
    import_zones,
    list_zones,
    locate_delivery,
    nearest_branch,
    record_zone,
    zone_feature,
    zone_rules,
)

__all__ = [
    "ADDRESS_FIELDS",
    "DOSSIER_ADDRESSES",
    "DOSSIER_ORDERS",
    "GEOCODE_CACHE_DAYS",
    "MAX_MERGE_DEPTH",
    "STATUS_FACTS",
    "AddressChoice",
    "AddressData",
    "CartLine",
    "DeliveryPlace",
    "Dossier",
    "DossierOrder",
    "PhoneEntry",
    "Quote",
    "QuoteRequest",
    "RepeatCart",
    "TakeOrder",
    "ZoneCache",
    "ZoneImport",
    "ZonePolicy",
    "ZoneSpec",
    "active_orders",
    "add_address",
    "addresses_of",
    "branch_hours",
    "cached_geocode",
    "purge_geocode_cache",
    "create_client",
    "dossier",
    "ensure_client",
    "export_zones",
    "extra_phones",
    "find_client",
    "get_address",
    "get_client",
    "import_zones",
    "list_zones",
    "locate_delivery",
    "merge_clients",
    "nearest_branch",
    "quote",
    "rebuild_stats",
    "recent_orders",
    "record_order_fact",
    "record_zone",
    "repeat_cart",
    "store_geocode",
    "take_order",
    "update_address",
    "update_client",
    "zone_feature",
    "zone_rules",
]
