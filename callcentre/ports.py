"""Extension points the call-centre package offers, and the call centre's own shared objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from frontoffice.extensions import Chain, Slot

if TYPE_CHECKING:
    from callcentre.geocoding import Geocoding
    from callcentre.services import ZoneCache

#: ``section(session, client_or_None, e164_phone) -> {"key": value, …}``, merged into the dossier.
DossierSection = Callable[[Any, Any, str], dict[str, Any]]

DOSSIER_SECTIONS: Chain[DossierSection] = Chain(
    "callcentre.dossier_sections",
    "Sections other packages add to a caller's dossier (antifraud warnings, tickets, …). Each returns "
    "a dict merged into the dossier's ``sections``; it must only read.",
)
WORKSPACE_ENDPOINTS: Chain[str] = Chain(
    "callcentre.workspace_endpoints",
    "JSON endpoints other packages offer the operator workspace's script (the operator's bonus, …): "
    "the contribution's name is the name the script asks for, its value a Flask endpoint without URL "
    "parameters (the page resolves it with ``url_for``).",
)
ZONES: Slot[ZoneCache] = Slot(
    "callcentre.zones",
    "The process's compiled delivery zones (rebuilt when the zones change); used by quotes, the zone "
    "placement policy and the zone pages.",
)
GEOCODING: Slot[Geocoding] = Slot(
    "callcentre.geocoding",
    "The configured geocoder behind a database cache (or none: the operator picks a pin).",
)
