"""What the call-centre API's modules share: the blueprint, who may read and take, the zone index."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from callcentre.ports import ZONES
from frontoffice.kernel import current_kernel
from frontoffice.models import Role

bp = Blueprint("callcentre_api", __name__, url_prefix="/api/v1")

READ = {Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE}
TAKE = {Role.OPERATOR, Role.MANAGER}
#: Who may import zones from GeoJSON (admins may do everything).
ZONE_ADMIN = {Role.MANAGER}
#: Who may draw, change and delete zones one by one in the editor.
ZONE_EDIT = {Role.ADMIN}


def zone_index(session: Any) -> Any:
    """The compiled zone index as ``session`` sees the zones table."""
    return current_kernel().extensions.get(ZONES).index(session)
