"""The address directory's JSON API: suggestions as the operator types, and importing a file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, request

from callcentre import services
from callcentre.address_sources import AddressFileError, file_kind, read_file
from callcentre.ports import ZONES
from callcentre.schemas.directory import (
    AddressImportOut,
    AddressImportQuery,
    AddressSuggestion,
    AddressSuggestOut,
    AddressSuggestQuery,
)
from frontoffice.api import endpoint
from frontoffice.errors import InvalidInput
from frontoffice.kernel import current_kernel
from frontoffice.models import Role

bp = Blueprint("callcentre_addresses", __name__, url_prefix="/api/v1/callcentre/addresses")

SUGGEST = {Role.OPERATOR, Role.MANAGER}
IMPORT = {Role.MANAGER}


@endpoint(
    bp,
    "/suggest",
    roles=SUGGEST,
    query=AddressSuggestQuery,
    response=AddressSuggestOut,
    summary="Directory houses for what the operator has typed (offline, as they type)",
    tags=["geocoding"],
    description="Searches the offline address directory: the street by a prefix- and typo-tolerant match "
    "in Cyrillic or Latin (street-type words like `ул.`, `пр-т`, `ul.` and the house marker `д.` are "
    "ignored), the house by its number's prefix. No internet is needed; an empty list when nothing matches.",
)
def suggest(query: AddressSuggestQuery) -> AddressSuggestOut:
    """Suggest directory houses."""
    k = current_kernel()
    with k.db.reading() as s:
        zones = k.extensions.get(ZONES).index(s)
        found = services.search_directory(s, query.q, limit=query.limit)
    out = []
    for h in found:
        zone = zones.locate(h.lat, h.lon)
        out.append(
            AddressSuggestion(
                text=h.text,
                street=h.street,
                house=h.house,
                city=h.city,
                lat=h.lat,
                lon=h.lon,
                score=h.score,
                zone_id=zone.id if zone else None,
            )
        )
    return AddressSuggestOut(query=query.q, candidates=out)


def _refused(message: str, errors: list[str] | None = None) -> InvalidInput:
    detail = " ".join([message, *(errors or [])])
    return InvalidInput(detail, errors=[{"field": "body", "message": detail, "type": "address_file"}])


def import_upload(name: str, data: bytes) -> services.DirectoryImport:
    """Read an uploaded file and import it in one transaction (:class:`InvalidInput` names the problem)."""
    if not data:
        raise _refused("The file is empty.")
    kind = file_kind(name, data[:256])
    suffix = {"osm": ".osm", "pbf": ".osm.pbf", "csv": ".csv"}[kind]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            rows = read_file(path)
        except AddressFileError as exc:
            raise _refused(exc.message, exc.errors) from None
    with current_kernel().db.unit_of_work() as s:
        return services.import_directory(s, rows)


@endpoint(
    bp,
    "/import",
    method="POST",
    roles=IMPORT,
    query=AddressImportQuery,
    response=AddressImportOut,
    summary="Import streets and houses into the address directory from an uploaded file",
    tags=["geocoding"],
    idempotent=False,
    errors=(413,),
    description="The request body is the file itself (any content type): an OpenStreetMap extract "
    "(`.osm` XML or `.osm.pbf`; nodes and buildings tagged `addr:street` + `addr:housenumber`) or a CSV "
    "with the header `street,house,lat,lon[,city]`. The whole file is imported in one transaction: a file "
    "that is not what its name says, or any bad CSV row, is a 422 naming the problem and nothing is "
    "imported. Importing the same file again only updates coordinates. Larger files than the body limit: "
    "`frontoffice addresses import FILE`.",
)
def import_addresses(query: AddressImportQuery) -> AddressImportOut:
    """Import an uploaded directory file."""
    done = import_upload(query.name, request.get_data(cache=False))
    with current_kernel().db.reading() as s:
        stats = services.directory_stats(s)
    return AddressImportOut(
        rows=done.rows,
        streets_added=done.streets_added,
        houses_added=done.houses_added,
        houses_updated=done.houses_updated,
        streets=stats.streets,
        houses=stats.houses,
    )
