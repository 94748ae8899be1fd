"""``frontoffice simulate``: a live delivery day played on a running instance through its real HTTP APIs.

Nothing here touches the database: the simulator is a client like any other.

* **Orders** arrive at ``rate`` (a Poisson process) through ``POST /api/v1/orders`` with an
  operator's token: a client from a pool where some clients order again and again, one to
  four dishes from ``GET /api/v1/menu``, an address near a branch, a promised time.
* **The kitchen** (a manager's token) confirms, starts cooking and marks orders ready through
  ``POST /api/v1/orders/{id}/status``; orders held by antifraud are mostly confirmed, a few
  rejected; now and then a client cancels (``/cancel``) and now and then the kitchen is slow.
* **Couriers with the app** (``--courier login:password``, by default the demo courier) work
  through the courier API: shift start, position batches, claim from the pool, pickup,
  deliver with the cash, or fail with a reason code.
* **Couriers with Traccar Client** (the other couriers on shift, with a device id) report
  positions to ``/api/osmand``; the dispatcher assigns them orders
  (``/api/v1/dispatch/orders/{id}/assign``) and marks their progress in the order API.

Simulated time runs ``time_scale`` times faster than the clock for everything but the arrival
rate: with the default 10, a 15-minute kitchen takes 90 seconds and a 60-minute promise six
minutes, so the monitor moves within minutes. The run stops after ``duration`` seconds.
"""

from monitor.simulator.config import SimConfig, config_from, parse_duration, parse_login, parse_rate
from monitor.simulator.player import Simulator
from monitor.simulator.world import SimCourier, SimOrder, SimReport, SimulatorError, distance_m, toward

__all__ = [
    "SimConfig",
    "SimCourier",
    "SimOrder",
    "SimReport",
    "Simulator",
    "SimulatorError",
    "config_from",
    "distance_m",
    "parse_duration",
    "parse_login",
    "parse_rate",
    "toward",
]
