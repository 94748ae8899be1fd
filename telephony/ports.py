"""Extension points the telephony package offers, and its own shared objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from frontoffice.extensions import Slot

if TYPE_CHECKING:
    from telephony.adapters import Pbx
    from telephony.adapters.mango import MangoConfig
    from telephony.live import LiveDesk


@dataclass
class Telephony:
    """The process's telephony: the PBX click-to-call goes through (None: none configured), the
    desk that records calls and rings workspaces, Mango's keys when Mango is the PBX."""

    pbx: Pbx | None
    desk: LiveDesk
    mango: MangoConfig | None


TELEPHONY: Slot[Telephony] = Slot(
    "telephony.telephony",
    "The configured PBX (FRONTOFFICE_TELEPHONY), the live desk that records what it reports and rings "
    "operators' workspaces, and Mango's signing keys; provided by telephony itself.",
)
