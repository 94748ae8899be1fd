"""The call-centre JSON API of the calls: caller lookup, clients and addresses, geocoding, quotes, order entry."""

from __future__ import annotations

from typing import Any

from callcentre import services
from callcentre.api.common import READ, TAKE, bp, zone_index
from callcentre.geocoding import GeocoderUnavailable, Geocoding, cache_key
from callcentre.models import ClientStats
from callcentre.ports import DOSSIER_SECTIONS, GEOCODING
from callcentre.schemas import (
    AddressCreate,
    AddressOut,
    AddressPatch,
    CandidateOut,
    ClientCreate,
    ClientDetail,
    ClientOut,
    ClientPatch,
    DossierOut,
    GeocodeOut,
    GeocodeQuery,
    LookupQuery,
    MergeIn,
    QuoteIn,
    QuoteOut,
    RepeatCartOut,
    StatsOut,
    TakeOrderIn,
)
from frontoffice.api import endpoint
from frontoffice.auth import branch_scope
from frontoffice.errors import DomainError, InvalidInput
from frontoffice.kernel import current_kernel
from frontoffice.models import User
from frontoffice.money import to_minor
from orders.ports import PLACEMENT_POLICIES
from orders.schemas import OrderOut


class GeocoderDown(DomainError):
    """The geocoder is not configured or did not answer (503); the operator uses a known address or a pin."""

    status = 503
    title = "Geocoder unavailable"


def _client_out(session: Any, client: Any) -> ClientOut:
    return ClientOut.of(client, services.extra_phones(session, client.id))


def _detail(session: Any, client: Any) -> ClientDetail:
    base = _client_out(session, client)
    return ClientDetail(
        **base.model_dump(),
        addresses=[AddressOut.of(a) for a in services.addresses_of(session, client.id)],
        stats=StatsOut.of(session.get(ClientStats, client.id)),
    )


# --- the dossier ------------------------------------------------------------------------------


@endpoint(
    bp,
    "/callcentre/lookup",
    roles=READ,
    query=LookupQuery,
    response=DossierOut,
    summary="The caller's dossier by phone (any common format)",
    tags=["callcentre"],
    description="Client, phones, addresses (most recently used first), the last 20 orders with lines, "
    "statistics, and `sections` contributed by other parts (warnings, tickets, bonus). "
    "An unknown number answers with `client: null`. A text that is not a phone number answers 422.",
)
def lookup(query: LookupQuery) -> DossierOut:
    """Find the caller."""
    k = current_kernel()
    with k.db.reading() as s:
        found = services.dossier(
            s, query.phone, region=k.settings.phone_region, contributors=k.extensions.all(DOSSIER_SECTIONS)
        )
        return DossierOut.of(found)


# --- clients ----------------------------------------------------------------------------------


@endpoint(
    bp,
    "/clients",
    method="POST",
    roles=TAKE,
    body=ClientCreate,
    response=ClientOut,
    status=201,
    summary="Create a client",
    tags=["clients"],
    errors=(409,),
)
def create_client(body: ClientCreate) -> ClientOut:
    """A new client; 409 when the number is already someone's."""
    k = current_kernel()
    with k.db.unit_of_work() as s:
        client = services.create_client(
            s,
            body.phone,
            name=body.name,
            notes=body.notes,
            tags=body.tags,
            marketing_consent=body.marketing_consent,
            phones=[services.PhoneEntry(p.phone, p.label) for p in body.phones],
            region=k.settings.phone_region,
        )
        return _client_out(s, client)


@endpoint(
    bp,
    "/clients/<int:client_id>",
    roles=READ,
    response=ClientDetail,
    summary="One client with addresses and statistics",
    tags=["clients"],
    errors=(404,),
)
def get_client(client_id: int) -> ClientDetail:
    """Read a client."""
    with current_kernel().db.reading() as s:
        return _detail(s, services.get_client(s, client_id))


@endpoint(
    bp,
    "/clients/<int:client_id>",
    method="PATCH",
    roles=TAKE,
    body=ClientPatch,
    response=ClientOut,
    summary="Change a client",
    tags=["clients"],
    errors=(404, 409),
    description="Only the fields sent change. A new main `phone` keeps the old one as an extra phone; "
    "`phones` replaces the list of extra phones.",
)
def patch_client(client_id: int, body: ClientPatch) -> ClientOut:
    """Edit a client."""
    k = current_kernel()
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None:
            if name in ("phone", "tags", "phones", "marketing_consent"):
                raise InvalidInput(
                    f"{name} cannot be null.",
                    errors=[{"field": name, "message": "Cannot be null.", "type": "null"}],
                )
            value = ""
        if name == "phones":
            value = [services.PhoneEntry(p.phone, p.label) for p in body.phones or []]
        changes[name] = value
    with k.db.unit_of_work() as s:
        client = services.update_client(s, client_id, region=k.settings.phone_region, **changes)
        return _client_out(s, client)


@endpoint(
    bp,
    "/clients/<int:client_id>/addresses",
    method="POST",
    roles=TAKE,
    body=AddressCreate,
    response=AddressOut,
    status=201,
    summary="Save an address of a client",
    tags=["clients"],
    errors=(404,),
    description="The same text and apartment as a saved address updates that one instead of adding a twin.",
)
def add_address(client_id: int, body: AddressCreate) -> AddressOut:
    """Add an address."""
    with current_kernel().db.unit_of_work() as s:
        zone = (
            zone_index(s).locate(body.lat, body.lon)
            if body.lat is not None and body.lon is not None
            else None
        )
        data = services.AddressData(**body.model_dump())
        address = services.add_address(s, client_id, data, zone_id=zone.id if zone else None)
        return AddressOut.of(address)


@endpoint(
    bp,
    "/clients/<int:client_id>/addresses/<int:address_id>",
    method="PATCH",
    roles=TAKE,
    body=AddressPatch,
    response=AddressOut,
    summary="Change a saved address",
    tags=["clients"],
    errors=(404,),
)
def patch_address(client_id: int, address_id: int, body: AddressPatch) -> AddressOut:
    """Edit an address; new coordinates re-resolve its zone."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    with current_kernel().db.unit_of_work() as s:
        address = services.update_address(s, client_id, address_id, changes, zones=zone_index(s))
        return AddressOut.of(address)


@endpoint(
    bp,
    "/clients/merge",
    method="POST",
    roles=TAKE,
    body=MergeIn,
    response=ClientDetail,
    summary="Merge a duplicate client into another",
    tags=["clients"],
    errors=(404, 409),
    description="Phones, addresses, notes, tags, order history and statistics of `merge_id` move to "
    "`keep_id`; the duplicate is kept as a row marked `merged_into_id` and its number becomes an extra "
    "phone of the survivor.",
)
def merge(body: MergeIn) -> ClientDetail:
    """Merge two clients."""
    with current_kernel().db.unit_of_work() as s:
        kept = services.merge_clients(s, body.keep_id, body.merge_id)
        return _detail(s, kept)


# --- geocoding --------------------------------------------------------------------------------


def _candidate(zones: Any, text: str, lat: float, lon: float) -> CandidateOut:
    zone = zones.locate(lat, lon)
    return CandidateOut(text=text, lat=lat, lon=lon, zone_id=zone.id if zone else None)


@endpoint(
    bp,
    "/geocode",
    roles=TAKE,
    query=GeocodeQuery,
    response=GeocodeOut,
    summary="Address candidates: the address directory first, then the configured geocoder (cached)",
    tags=["geocoding"],
    errors=(503,),
    description="A typed house the offline address directory knows is answered from it (`provider`: "
    '"directory"); otherwise the configured geocoder is asked. '
    "Answers are cached in the database by the normalized query. Without a configured geocoder, "
    'or when it fails or times out, the answer is a 503 problem (`title`: "Geocoder unavailable") and the '
    "operator picks a saved address or drops a pin on the map instead. Each candidate carries the delivery "
    "zone its point falls in.",
)
def geocode(query: GeocodeQuery) -> GeocodeOut:
    """Look an address up."""
    k = current_kernel()
    geocoding: Geocoding = k.extensions.get(GEOCODING)
    key = cache_key(query.q)
    if len(key) < 2:
        raise InvalidInput(
            "Type more of the address.",
            errors=[{"field": "query.q", "message": "Too short.", "type": "too_short"}],
        )
    provider = geocoding.config.provider
    with k.db.reading() as s:
        zones = zone_index(s)
        # The chain: the offline address directory first, the configured geocoder second, the pin last.
        known = services.directory_geocode(s, query.q)
        found = services.cached_geocode(s, provider, key) if geocoding.available and not known else None
    if known:
        return GeocodeOut(
            query=query.q,
            candidates=[_candidate(zones, h.text, h.lat, h.lon) for h in known],
            cached=False,
            provider="directory",
        )
    cached = found is not None
    if found is None:
        try:
            found = geocoding.search(query.q, bounds=zones.bounds())
        except GeocoderUnavailable as exc:
            raise GeocoderDown(str(exc), reason=str(exc)) from None
        with k.db.unit_of_work() as s:
            services.store_geocode(s, provider, key, found)
    candidates = [_candidate(zones, c.text, c.lat, c.lon) for c in found]
    return GeocodeOut(query=query.q, candidates=candidates, cached=cached, provider=provider)


# --- order entry ------------------------------------------------------------------------------


@endpoint(
    bp,
    "/callcentre/quote",
    method="POST",
    roles=TAKE,
    body=QuoteIn,
    response=QuoteOut,
    summary="Zone, fee, minimum, promised time and problems of a cart (writes nothing)",
    tags=["callcentre"],
    idempotent=False,
    description="Delivery: the address's point picks the zone and so the branch, fee (free from the "
    "threshold), minimum order and delivery time. ASAP = the zone's minutes + the branch's load (see "
    "`callcentre.promising`); `slots` are pre-order times on a 15-minute grid within the opening hours "
    "until the end of tomorrow. Problems come with `field`, `code` and `params`; outside every zone "
    "`pickup_offer` names the nearest branch. For an operator linked to branches, an address whose zone "
    "belongs to another branch (or a chosen branch not theirs) is a 422 on `address` (`branch_id`) with "
    "type `branch_out_of_scope`.",
)
def quote(body: QuoteIn, actor: User) -> QuoteOut:
    """Quote a cart."""
    k = current_kernel()
    scope = branch_scope(actor)
    with k.db.reading() as s:
        q = services.quote(
            s,
            services.QuoteRequest(
                kind=body.kind,
                phone=body.phone,
                client_id=body.client_id,
                branch_id=body.branch_id,
                address=body.address.to_service() if body.address else None,
                lines=[ln.to_service() for ln in body.lines],
                promised_at=body.promised_at,
            ),
            zones=zone_index(s),
            region=k.settings.phone_region,
            currency=k.settings.currency,
            scope=scope,
        )
        return QuoteOut.of(q)


@endpoint(
    bp,
    "/callcentre/orders",
    method="POST",
    roles=TAKE,
    body=TakeOrderIn,
    response=OrderOut,
    status=201,
    summary="Take an order on the phone",
    tags=["callcentre"],
    description="Finds or creates the client, saves the address, resolves zone → branch, fee, minimum and "
    "promised time, then places the order. Any refusal (outside every zone, below the minimum, closed with "
    "no pre-order time, unknown items, a branch outside the operator's branches: `branch_out_of_scope`…) "
    "is a 422 with per-field `errors` and writes nothing.",
)
def take_order(body: TakeOrderIn, actor: User) -> OrderOut:
    """Take an order."""
    k = current_kernel()
    scope = branch_scope(actor)
    with k.db.unit_of_work() as s:
        order = services.take_order(
            s,
            services.TakeOrder(
                phone=body.phone,
                name=body.name,
                client_id=body.client_id,
                kind=body.kind,
                branch_id=body.branch_id,
                address=body.address.to_service() if body.address else None,
                lines=[ln.to_service() for ln in body.lines],
                payment_kind=body.payment.kind,
                change_from=to_minor(body.payment.change_from)
                if body.payment.change_from is not None
                else None,
                comment=body.comment,
                promised_at=body.promised_at,
            ),
            zones=zone_index(s),
            policies=k.extensions.all(PLACEMENT_POLICIES),
            actor_id=actor.id,
            region=k.settings.phone_region,
            currency=k.settings.currency,
            scope=scope,
            training=actor.trainee,
        )
        return OrderOut.of(order)


@endpoint(
    bp,
    "/callcentre/orders/<int:order_id>/repeat-cart",
    method="POST",
    roles=TAKE,
    response=RepeatCartOut,
    summary="A previous order's lines as a new cart",
    tags=["callcentre"],
    errors=(404,),
    idempotent=False,
    description="Lines at today's prices; items no longer on sale are left out and listed in `skipped`.",
)
def repeat_cart(order_id: int) -> RepeatCartOut:
    """Repeat an order."""
    with current_kernel().db.reading() as s:
        return RepeatCartOut.of(services.repeat_cart(s, order_id))
