"""How a simulated day goes: the configuration and the readers of the CLI's text options."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any


def parse_rate(text: str) -> float:
    """Orders per second from ``2/min``, ``30/h``, ``0.5/s`` or a bare number (per minute)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(?:/\s*(s|sec|m|min|h|hour))?\s*", text)
    if not match:
        raise ValueError(f"cannot read the rate {text!r}: write it like 2/min, 30/h or 0.5/s")
    value = float(match.group(1))
    unit = (match.group(2) or "min")[0]
    per_second = value / {"s": 1, "m": 60, "h": 3600}[unit]
    if per_second <= 0:
        raise ValueError("the rate must be above zero")
    return per_second


def parse_duration(text: str) -> float:
    """Seconds from ``90s``, ``10m``, ``2h`` or a bare number of seconds."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(s|m|h)?\s*", text)
    if not match:
        raise ValueError(f"cannot read the duration {text!r}: write it like 90s, 10m or 2h")
    seconds = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]
    if seconds <= 0:
        raise ValueError("the duration must be above zero")
    return seconds


def parse_login(text: str) -> tuple[str, str]:
    """``login:password``."""
    login, sep, password = text.partition(":")
    if not sep or not login or not password:
        raise ValueError(f"write credentials as login:password, not {text!r}")
    return login, password


@dataclass(frozen=True)
class SimConfig:
    """How the simulated day goes."""

    url: str
    rate_per_s: float = 2 / 60
    duration_s: float = 600.0
    time_scale: float = 10.0
    seed: int | None = None
    manager: tuple[str, str] = ("manager", "manager")
    operator: tuple[str, str] = ("operator", "operator")
    couriers: tuple[tuple[str, str], ...] = (("courier", "courier"),)
    cancel_share: float = 0.04
    slow_kitchen_share: float = 0.08
    slow_road_share: float = 0.05
    fail_share: float = 0.03
    tick_s: float = 2.0
    clients: int = 60
    verbose: bool = True


def config_from(**options: Any) -> SimConfig:
    """A configuration from the CLI's options (``rate``/``duration`` as text, credentials as login:password)."""
    fields = {f.name for f in dataclasses.fields(SimConfig)}
    values = {k: v for k, v in options.items() if k in fields and v is not None}
    if "rate" in options:
        values["rate_per_s"] = parse_rate(options["rate"])
    if "duration" in options:
        values["duration_s"] = parse_duration(options["duration"])
    for key in ("manager", "operator"):
        if isinstance(values.get(key), str):
            values[key] = parse_login(values[key])
    if "couriers" in values:
        values["couriers"] = tuple(parse_login(c) if isinstance(c, str) else c for c in values["couriers"])
    return SimConfig(**values)
