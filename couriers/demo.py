"""Demo couriers in Kazan: eight couriers on both branches, with positions.

The demo user ``courier`` (password ``courier``) is Kirill, on device ``demo-device-1``; his
shift is left closed, so that docs/courier-api.md can be followed from its first call. The
others are on shift for the monitor and report through Traccar Client with devices
``demo-device-2`` … ``demo-device-8``. Loading twice changes nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from couriers import services
from couriers.models import Courier, CourierDevice
from couriers.ports import COURIER_DIRECTORY
from couriers.tracking import TrackPoint
from frontoffice.db import utcnow
from frontoffice.kernel import Kernel
from frontoffice.models import User
from orders.models import Branch

#: name, phone, vehicle, max orders, branch codes, lat, lon, battery
COURIERS = (
    ("Kirill Courier", "+79172000101", "car", 3, ("KZ1", "KZ2"), 55.7905, 49.1150, 84.0),
    ("Aidar Khasanov", "+79172000102", "bike", 2, ("KZ1",), 55.7962, 49.1060, 67.0),
    ("Marat Galiev", "+79172000103", "car", 4, ("KZ1",), 55.7780, 49.1340, 91.0),
    ("Elena Sokolova", "+79172000104", "foot", 1, ("KZ1",), 55.7880, 49.1250, 55.0),
    ("Ruslan Zakirov", "+79172000105", "car", 3, ("KZ2",), 55.7600, 49.2010, 73.0),
    ("Dina Valieva", "+79172000106", "bike", 2, ("KZ2",), 55.7510, 49.2150, 48.0),
    ("Timur Nurullin", "+79172000107", "car", 3, ("KZ1", "KZ2"), 55.7720, 49.1650, 99.0),
    ("Alsu Minnikhanova", "+79172000108", "foot", 1, ("KZ2",), 55.7585, 49.2090, 62.0),
)


def load(session: Session, kernel: Kernel | None) -> None:
    """Create the demo couriers that do not exist yet and place them; open the shifts of all but the
    courier the ``courier`` login is linked to."""
    branches = {code: bid for code, bid in session.execute(select(Branch.code, Branch.id))}
    if not branches:
        return
    region = kernel.settings.phone_region if kernel is not None else "RU"
    now = utcnow()
    demo_user = session.scalar(select(User.id).where(User.username == "courier"))
    created = False
    for n, (name, phone, vehicle, max_orders, codes, lat, lon, battery) in enumerate(COURIERS, start=1):
        device = f"demo-device-{n}"
        if session.scalar(select(CourierDevice.id).where(CourierDevice.device_id == device)) is not None:
            continue
        linked = (
            n == 1
            and demo_user is not None
            and session.scalar(select(Courier.id).where(Courier.user_id == demo_user)) is None
        )
        courier = services.create_courier(
            session,
            services.CourierData(
                name=name,
                phone=phone,
                vehicle=vehicle,
                max_active_orders=max_orders,
                branch_ids=[branches[c] for c in codes if c in branches],
                user_id=demo_user if linked else None,
                device_id=device,
            ),
            region=region,
        )
        if not linked:
            services.start_shift(
                session, courier, opening_cash=200_000 if vehicle == "car" else 100_000, now=now
            )
        services.record_track(
            session,
            courier.id,
            [
                TrackPoint(
                    recorded_at=now - dt.timedelta(seconds=10 * n),
                    lat=lat,
                    lon=lon,
                    accuracy=8.0,
                    speed=0.0,
                    battery=battery,
                )
            ],
            now=now,
            source="demo",
            branch_ids=courier.branch_ids,
        )
        created = True
    if created and kernel is not None:
        directory = kernel.extensions.find(COURIER_DIRECTORY)
        if directory is not None:
            directory.invalidate()
