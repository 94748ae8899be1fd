"""What the simulator plays with: the people, streets and dishes it invents, its couriers and
orders, the report of a run, and straight-line travel on the globe."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Dishes to order when the menu API cannot be read (the demo catalogue).
FALLBACK_SKUS = (
    "PZ-MARG",
    "PZ-PEPP",
    "PZ-4CH",
    "SU-PHIL",
    "SU-CAL",
    "WK-CHK",
    "SD-CAES",
    "DR-COLA05",
    "DS-CHEES",
)
FIRST_NAMES = (
    "Aigul",
    "Ruslan",
    "Elena",
    "Marat",
    "Dina",
    "Timur",
    "Alsu",
    "Ilnur",
    "Olga",
    "Artur",
    "Liliya",
)
LAST_NAMES = ("Khasanova", "Galiev", "Petrova", "Zakirov", "Valieva", "Nurullin", "Sokolova", "Sabirov")
STREETS = (
    "Baumana St",
    "Pushkina St",
    "Kremlyovskaya St",
    "Pobedy Ave",
    "Chistopolskaya St",
    "Ibragimova Ave",
)
SPEED_MPS = {"car": 8.0, "bike": 4.5, "foot": 1.4}
EARTH_M = 6_371_000.0


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres (haversine; plenty for a simulation)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(h))


def toward(a: tuple[float, float], b: tuple[float, float], metres: float) -> tuple[float, float]:
    """The point ``metres`` from ``a`` on the straight line to ``b`` (``b`` if it is closer)."""
    total = distance_m(a, b)
    if total <= metres or total == 0:
        return b
    f = metres / total
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)


@dataclass
class SimCourier:
    """A courier the simulator drives: through the app (token) or as a Traccar device."""

    id: int
    name: str
    vehicle: str
    branch_ids: list[int]
    position: tuple[float, float]
    token: str | None = None
    device_id: str | None = None
    capacity: int = 1
    orders: list[int] = field(default_factory=list)
    target: tuple[float, float] | None = None
    on_arrival: Callable[[], None] | None = None
    battery: float = 90.0

    @property
    def free(self) -> bool:
        """Idle, at (or going back to) its branch, able to take an order."""
        return not self.orders and self.on_arrival is None


@dataclass
class SimOrder:
    """An order the simulator placed."""

    id: int
    number: str
    branch_id: int
    total: str
    payment: str
    point: tuple[float, float]
    status: str
    courier: SimCourier | None = None


@dataclass
class SimReport:
    """What happened during a run."""

    started: float
    finished: float = 0.0
    counts: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """Counts of actions and errors, and the run's length."""
        return {
            "seconds": round(self.finished - self.started, 1),
            **dict(self.counts),
            "errors": dict(self.errors),
        }


class SimulatorError(RuntimeError):
    """The instance cannot be simulated on (unreachable, wrong credentials, no branches)."""
