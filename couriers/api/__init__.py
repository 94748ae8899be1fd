"""JSON APIs: the courier mobile API (``/api/courier/v1``, :mod:`.courier_app`), the courier
register (``/api/v1/couriers``, :mod:`.register`) and dispatch (``/api/v1/dispatch``,
:mod:`.dispatch`)."""

from __future__ import annotations

from couriers.api.courier_app import courier_bp
from couriers.api.dispatch import dispatch_bp
from couriers.api.register import couriers_bp

__all__ = ["courier_bp", "couriers_bp", "dispatch_bp"]
