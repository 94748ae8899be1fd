"""The :class:`Simulator`: plays a delivery day on a running instance through its HTTP APIs."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import math
import random
import time
from collections.abc import Callable
from typing import Any

import requests

from monitor.simulator.config import SimConfig
from monitor.simulator.world import (
    FALLBACK_SKUS,
    FIRST_NAMES,
    LAST_NAMES,
    SPEED_MPS,
    STREETS,
    SimCourier,
    SimOrder,
    SimReport,
    SimulatorError,
    distance_m,
    toward,
)

log = logging.getLogger(__name__)


class Simulator:
    """Plays a delivery day on a running instance (see :mod:`monitor.simulator`)."""

    def __init__(
        self, config: SimConfig, http: requests.Session | None = None, out: Callable[[str], None] = print
    ):
        self.config = config
        self.url = config.url.rstrip("/")
        self.http = http or requests.Session()
        self.out = out
        self.rnd = random.Random(config.seed)
        self.report = SimReport(started=time.monotonic())
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.orders: dict[int, SimOrder] = {}
        self.couriers: list[SimCourier] = []
        self.branches: dict[int, tuple[float, float]] = {}
        self.skus: list[str] = []
        self.clients: list[tuple[str, str]] = []
        self.manager_token = ""
        self.operator_token = ""
        self._stop_at = 0.0

    # --- HTTP ---------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        what: str = "",
        expected: tuple[int, ...] = (),
    ) -> Any:
        """One API call; the JSON answer, or None when it failed (counted as an error by status,
        unless the status is one of ``expected`` refusals)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            resp = self.http.request(
                method, self.url + path, json=json, params=params, headers=headers, timeout=15
            )
        except requests.RequestException as exc:
            self.report.errors[f"{what or path}: {exc.__class__.__name__}"] += 1
            return None
        if resp.status_code in expected:
            return None
        if resp.status_code >= 400:
            self.report.errors[f"{what or method + ' ' + path}: {resp.status_code}"] += 1
            if resp.status_code >= 500:
                log.warning("simulate: %s %s answered %s", method, path, resp.status_code)
            return None
        if resp.status_code == 204 or not resp.content:
            return {}
        try:
            return resp.json()
        except ValueError:
            return {}

    def say(self, text: str) -> None:
        """Print a line of the day's story (unless quiet)."""
        if self.config.verbose:
            self.out(f"{dt.datetime.now().strftime('%H:%M:%S')}  {text}")

    # --- scheduling ---------------------------------------------------------------------------

    def after(self, sim_seconds: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` after ``sim_seconds`` of simulated time."""
        self.at(time.monotonic() + sim_seconds / self.config.time_scale, fn)

    def at(self, when: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` at the monotonic clock time ``when``."""
        heapq.heappush(self._queue, (when, next(self._seq), fn))

    def sim_minutes(self, low: float, high: float) -> float:
        """A random simulated duration between ``low`` and ``high`` minutes, in seconds."""
        return self.rnd.uniform(low, high) * 60

    # --- setup --------------------------------------------------------------------------------

    def login_staff(self, credentials: tuple[str, str]) -> str:
        """A bearer token for a staff user."""
        username, password = credentials
        found = self.call(
            "POST", "/api/v1/tokens", json={"username": username, "password": password, "name": "simulator"}
        )
        if not found:
            raise SimulatorError(
                f"{self.url} refused the login of {username!r} (is it running, is the user there?)"
            )
        return found["token"]

    def setup(self) -> None:
        """Log in, learn the branches, the menu and the couriers, open the app couriers' shifts."""
        self.manager_token = self.login_staff(self.config.manager)
        self.operator_token = self.login_staff(self.config.operator)
        snapshot = self.call("GET", "/api/v1/monitor/snapshot", self.manager_token) or {}
        self.branches = {b["id"]: (b["lat"], b["lon"]) for b in snapshot.get("branches", [])}
        if not self.branches:
            raise SimulatorError("the instance has no active branch to order from (load the demo data)")
        menu = self.call("GET", "/api/v1/menu", self.operator_token) or {}
        self.skus = [
            item["sku"]
            for item in menu.get("items", [])
            if not item.get("stopped") and all(g.get("min", 0) == 0 for g in item.get("modifier_groups", []))
        ] or list(FALLBACK_SKUS)
        self.clients = [
            (
                f"+7917{self.rnd.randrange(1_000_000, 9_999_999)}",
                f"{self.rnd.choice(FIRST_NAMES)} {self.rnd.choice(LAST_NAMES)}",
            )
            for _ in range(self.config.clients)
        ]
        self._setup_app_couriers()
        self._setup_device_couriers()
        self.say(
            f"simulating on {self.url}: {len(self.branches)} branches, {len(self.skus)} dishes, "
            f"{sum(1 for c in self.couriers if c.token)} app and "
            f"{sum(1 for c in self.couriers if c.device_id)} Traccar couriers"
        )

    def _setup_app_couriers(self) -> None:
        for login, password in self.config.couriers:
            session = self.call(
                "POST",
                "/api/courier/v1/session",
                json={"login": login, "password": password, "device_name": "simulator"},
                what="courier login",
            )
            if not session:
                self.say(f"courier {login!r} could not log in; going on without them")
                continue
            token, profile = session["token"], session["courier"]
            self.call(
                "POST", "/api/courier/v1/shift/start", token, json={"opening_cash": "2000.00"}, what="shift"
            )
            me = self.call("GET", "/api/courier/v1/me", token) or {}
            branch = next((self.branches[b] for b in profile["branch_ids"] if b in self.branches), None)
            where = me.get("position") or {}
            start = (where["lat"], where["lon"]) if where else branch or next(iter(self.branches.values()))
            self.couriers.append(
                SimCourier(
                    id=profile["id"],
                    name=profile["name"],
                    vehicle=profile.get("vehicle", "car"),
                    branch_ids=[b for b in profile["branch_ids"] if b in self.branches],
                    position=start,
                    token=token,
                    capacity=1,
                )
            )

    def _setup_device_couriers(self) -> None:
        app_ids = {c.id for c in self.couriers}
        listing = self.call("GET", "/api/v1/couriers", self.manager_token, what="courier list") or {}
        for item in listing.get("items", []):
            courier = item["courier"]
            if courier["id"] in app_ids or not courier.get("device_id") or item.get("state") == "offline":
                continue
            branches = [b for b in courier["branch_ids"] if b in self.branches]
            if not branches:
                continue
            where = item.get("position") or {}
            start = (where["lat"], where["lon"]) if where else self.branches[branches[0]]
            self.couriers.append(
                SimCourier(
                    id=courier["id"],
                    name=courier["name"],
                    vehicle=courier.get("vehicle", "car"),
                    branch_ids=branches,
                    position=start,
                    device_id=courier["device_id"],
                    battery=float(where.get("battery") or 80.0),
                )
            )

    # --- orders -------------------------------------------------------------------------------

    def _client(self) -> tuple[str, str]:
        # A Zipf-like pull: the first clients of the pool order far more often (loyal regulars).
        weights = [1 / (i + 1) ** 0.9 for i in range(len(self.clients))]
        return self.rnd.choices(self.clients, weights)[0]

    def _point_near(self, branch: tuple[float, float], radius_m: float) -> tuple[float, float]:
        r = radius_m * math.sqrt(self.rnd.random())
        angle = self.rnd.uniform(0, 2 * math.pi)
        dlat = r * math.cos(angle) / 111_320
        dlon = r * math.sin(angle) / (111_320 * math.cos(math.radians(branch[0])))
        return (round(branch[0] + dlat, 6), round(branch[1] + dlon, 6))

    def place_order(self) -> None:
        """A client calls: one order through the order API."""
        branch_id = self.rnd.choice(list(self.branches))
        phone, name = self._client()
        lines = [
            {"sku": sku, "quantity": self.rnd.choice((1, 1, 1, 2))}
            for sku in self.rnd.sample(self.skus, k=min(len(self.skus), self.rnd.choice((1, 2, 2, 3, 4))))
        ]
        payment = self.rnd.choices(("cash", "card_on_delivery", "prepaid"), (5, 3, 2))[0]
        promised = dt.datetime.now(dt.UTC) + dt.timedelta(
            seconds=self.sim_minutes(45, 75) / self.config.time_scale
        )
        created = None
        for radius in (2500, 1500, 700):
            point = self._point_near(self.branches[branch_id], radius)
            body = {
                "branch_id": branch_id,
                "kind": "delivery",
                "client": {"phone": phone, "name": name},
                "address": {
                    "text": f"Kazan, {self.rnd.choice(STREETS)}, {self.rnd.randrange(1, 120)}",
                    "lat": point[0],
                    "lon": point[1],
                },
                "payment": {"kind": payment},
                "promised_at": promised.isoformat(),
                "lines": lines,
            }
            created = self.call("POST", "/api/v1/orders", self.operator_token, json=body, what="place order")
            if created:
                break
        if not created:
            return
        order = SimOrder(
            id=created["id"],
            number=created["number"],
            branch_id=branch_id,
            total=created["total"],
            payment=payment,
            point=point,
            status=created["status"],
        )
        self.orders[order.id] = order
        self.report.counts["placed"] += 1
        self.say(
            f"{order.number} placed by {name}: {len(lines)} dishes, {order.total} ({payment}) → {order.status}"
        )
        if order.status == "on_hold":
            self.after(self.sim_minutes(2, 6), lambda: self.review_hold(order))
        elif self.rnd.random() < self.config.cancel_share:
            self.after(self.sim_minutes(1, 4), lambda: self.cancel(order))
        else:
            self.after(self.sim_minutes(0.5, 2), lambda: self.kitchen(order, "confirmed"))

    def move(self, order: SimOrder, status: str, reason: str | None = None) -> bool:
        """Move an order in the order API as the kitchen or the dispatcher does."""
        body = {"status": status} if reason is None else {"status": status, "reason": reason}
        moved = self.call(
            "POST", f"/api/v1/orders/{order.id}/status", self.manager_token, json=body, what=f"to {status}"
        )
        if moved:
            order.status = moved["status"]
            self.report.counts[status] += 1
        return bool(moved)

    def review_hold(self, order: SimOrder) -> None:
        """A manager looks at an order held by antifraud: mostly lets it go, sometimes rejects it."""
        if self.rnd.random() < 0.25:
            if self.move(order, "rejected", "Antifraud: the client could not be reached"):
                self.say(f"{order.number} rejected after the antifraud check")
            return
        if self.move(order, "confirmed"):
            self.say(f"{order.number} released from hold")
            self.after(self.sim_minutes(1, 2), lambda: self.kitchen(order, "cooking"))

    def cancel(self, order: SimOrder) -> None:
        """The client changed their mind."""
        done = self.call(
            "POST",
            f"/api/v1/orders/{order.id}/cancel",
            self.manager_token,
            json={"reason": "The client called to cancel"},
            what="cancel",
        )
        if done:
            order.status = "cancelled"
            self.report.counts["cancelled"] += 1
            self.say(f"{order.number} cancelled by the client")

    def kitchen(self, order: SimOrder, status: str) -> None:
        """The kitchen's steps: confirmed → cooking → ready (sometimes slowly)."""
        if not self.move(order, status):
            return
        if status == "confirmed":
            self.after(self.sim_minutes(1, 3), lambda: self.kitchen(order, "cooking"))
        elif status == "cooking":
            cook = self.sim_minutes(10, 22)
            if self.rnd.random() < self.config.slow_kitchen_share:
                cook += self.sim_minutes(25, 45)
                self.say(f"{order.number}: the kitchen is slow with this one")
            self.after(cook, lambda: self.kitchen(order, "ready"))
        elif status == "ready":
            self.say(f"{order.number} ready at branch {order.branch_id}")
            self.dispatch(order)

    # --- couriers -----------------------------------------------------------------------------

    def dispatch(self, order: SimOrder) -> None:
        """Find a courier for a ready order: an app courier claims it, a Traccar courier is assigned."""
        if order.status != "ready":
            return
        free = [c for c in self.couriers if c.free and order.branch_id in c.branch_ids]
        free.sort(key=lambda c: distance_m(c.position, self.branches[order.branch_id]))
        for courier in free:
            if courier.token:
                taken = self.call(
                    "POST", f"/api/courier/v1/orders/{order.id}/claim", courier.token, json={}, what="claim"
                )
            else:
                taken = self.call(
                    "POST",
                    f"/api/v1/dispatch/orders/{order.id}/assign",
                    self.manager_token,
                    json={"courier_id": courier.id},
                    what="assign",
                )
            if taken:
                self.report.counts["claimed" if courier.token else "assigned"] += 1
                order.courier = courier
                courier.orders.append(order.id)
                self.say(f"{order.number} {'claimed by' if courier.token else 'assigned to'} {courier.name}")
                self.go(courier, self.branches[order.branch_id], lambda c=courier: self.pickup(c, order))
                return
        self.after(60, lambda: self.dispatch(order))

    def go(self, courier: SimCourier, target: tuple[float, float], then: Callable[[], None] | None) -> None:
        """Send a courier somewhere; ``then`` runs on arrival."""
        courier.target = target
        courier.on_arrival = then

    def pickup(self, courier: SimCourier, order: SimOrder) -> None:
        """At the branch: leave with the order (ready → in_delivery)."""
        if courier.token:
            done = self.call(
                "POST", f"/api/courier/v1/orders/{order.id}/pickup", courier.token, json={}, what="pickup"
            )
            if done:
                order.status = done["status"]
                self.report.counts["in_delivery"] += 1
        else:
            done = self.move(order, "in_delivery")
        if not done:
            courier.orders.remove(order.id)
            self.go(courier, self.branches[order.branch_id], None)
            return
        self.say(f"{order.number} on the way with {courier.name}")
        if self.rnd.random() < self.config.slow_road_share:
            self.say(f"{order.number}: {courier.name} is stuck in traffic")
            courier.target = None
            self.after(
                self.sim_minutes(20, 40),
                lambda: self.go(courier, order.point, lambda: self.hand_over(courier, order)),
            )
            courier.on_arrival = lambda: None
            return
        self.go(courier, order.point, lambda: self.hand_over(courier, order))

    def hand_over(self, courier: SimCourier, order: SimOrder) -> None:
        """At the door: deliver (with the cash), or fail now and then."""
        failed = self.rnd.random() < self.config.fail_share
        if courier.token:
            if failed:
                done = self.call(
                    "POST",
                    f"/api/courier/v1/orders/{order.id}/fail",
                    courier.token,
                    json={"reason_code": "client_absent", "lat": order.point[0], "lon": order.point[1]},
                    what="fail",
                )
            else:
                body: dict[str, Any] = {"lat": order.point[0], "lon": order.point[1]}
                if order.payment == "cash":
                    body["cash_collected"] = order.total
                done = self.call(
                    "POST",
                    f"/api/courier/v1/orders/{order.id}/deliver",
                    courier.token,
                    json=body,
                    what="deliver",
                )
            if done:
                order.status = done["status"]
                self.report.counts[order.status] += 1
        else:
            done = (
                self.move(order, "failed", "Nobody at the door") if failed else self.move(order, "delivered")
            )
        if done:
            self.say(
                f"{order.number} {'NOT delivered: nobody at the door' if failed else 'delivered'} by {courier.name}"
            )
        if order.id in courier.orders:
            courier.orders.remove(order.id)
        home = min(courier.branch_ids, key=lambda b: distance_m(courier.position, self.branches[b]))
        self.go(courier, self.branches[home], None)

    def tick(self) -> None:
        """Move every courier toward its target and report the positions."""
        scaled = self.config.tick_s * self.config.time_scale
        now = dt.datetime.now(dt.UTC)
        for courier in self.couriers:
            if courier.target is not None:
                courier.position = toward(
                    courier.position, courier.target, SPEED_MPS.get(courier.vehicle, 6.0) * scaled
                )
                if courier.position == courier.target:
                    courier.target = None
                    arrive, courier.on_arrival = courier.on_arrival, None
                    if arrive is not None:
                        arrive()
            elif courier.free:
                # waiting at the branch: a few metres of GPS jitter
                courier.position = self._point_near(courier.position, 8)
            courier.battery = max(5.0, courier.battery - 0.01 * self.config.tick_s)
            self.report_position(courier, now)
        self.report.counts["position_ticks"] += 1

    def report_position(self, courier: SimCourier, now: dt.datetime) -> None:
        """One position: a batch of one through the courier API, or an OsmAnd report."""
        lat, lon = courier.position
        speed = SPEED_MPS.get(courier.vehicle, 6.0) if courier.target else 0.0
        if courier.token:
            self.call(
                "POST",
                "/api/courier/v1/locations",
                courier.token,
                json={
                    "points": [
                        {
                            "recorded_at": now.isoformat(),
                            "lat": lat,
                            "lon": lon,
                            "accuracy": 6.0,
                            "speed": speed,
                            "battery": round(courier.battery, 1),
                        }
                    ]
                },
                what="locations",
            )
        elif courier.device_id:
            self.call(
                "GET",
                "/api/osmand",
                params={
                    "id": courier.device_id,
                    "lat": f"{lat:.6f}",
                    "lon": f"{lon:.6f}",
                    "timestamp": int(now.timestamp()),
                    "speed": round(speed * 1.943844, 2),  # knots, as Traccar Client sends
                    "accuracy": 8,
                    "batt": round(courier.battery, 1),
                },
                what="osmand",
            )
        self.report.counts["positions"] += 1

    # --- the run ------------------------------------------------------------------------------

    def _arrivals(self) -> None:
        if time.monotonic() >= self._stop_at:
            return
        self.place_order()
        self.at(time.monotonic() + self.rnd.expovariate(self.config.rate_per_s), self._arrivals)

    def _ticks(self) -> None:
        self.tick()
        self.at(time.monotonic() + self.config.tick_s, self._ticks)

    def run(self) -> SimReport:
        """Set up, then play the day until ``duration`` has passed; returns what happened."""
        self.setup()
        start = time.monotonic()
        self._stop_at = start + self.config.duration_s
        self.at(start, self._arrivals)
        self.at(start, self._ticks)
        while self._queue:
            when, _, fn = self._queue[0]
            if when >= self._stop_at:
                break
            delay = when - time.monotonic()
            if delay > 0:
                time.sleep(min(delay, self._stop_at - time.monotonic(), 1.0))
                continue
            heapq.heappop(self._queue)
            try:
                fn()
            except Exception:  # one broken step must not end the day
                log.exception("simulate: a step failed")
                self.report.errors["step failed"] += 1
        self.report.finished = time.monotonic()
        self.say(f"done: {self.report.as_dict()}")
        return self.report
