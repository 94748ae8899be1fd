"""Declared extension points: how one package plugs into another without a string-keyed locator.

The package that owns an extension declares it once, in its ``ports.py``, as a module-level
constant with a name, a type and a docstring that states the contract::

    DOSSIER_SECTIONS: Chain[DossierSection] = Chain(
        "callcentre.dossier_sections",
        "Sections added to a caller's dossier: ``section(session, client, phone) -> dict``.",
    )

The package that plugs in provides it from its ``wiring.register`` through the kernel::

    kernel.extensions.add(DOSSIER_SECTIONS, "warnings", warnings_section, order=10)

and the owner reads it anywhere it holds the kernel (``kernel.extensions.get(SLOT)`` /
``.all(CHAIN)``). Two kinds:

* :class:`Slot` — exactly one provider. Providing it twice is an error at start-up; reading it
  when nobody provided it raises, unless the declaration names a default.
* :class:`Chain` — an ordered list of named contributions. Each has a name (unique in the chain)
  and an explicit ``order``; readers get them sorted by ``(order, name)``, never in the order
  packages happened to be registered.

:meth:`Extensions.table` lists who provides what, for docs/architecture.md and ``frontoffice
extensions``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_MISSING: Any = object()


@dataclass(frozen=True, eq=False)
class Slot(Generic[T]):
    """An extension point with exactly one provider (e.g. the zone cache, the revenue lookup)."""

    name: str
    doc: str
    default: Callable[[], T] | None = None

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


@dataclass(frozen=True, eq=False)
class Chain(Generic[T]):
    """An extension point with any number of named, explicitly ordered contributions."""

    name: str
    doc: str

    def __repr__(self) -> str:
        return f"Chain({self.name!r})"


@dataclass(frozen=True)
class Contribution(Generic[T]):
    """One entry of a :class:`Chain`: who gave it, under which name and at which position."""

    name: str
    value: T
    order: int
    provider: str


class ExtensionError(RuntimeError):
    """An extension point was provided twice, or read before anyone provided it."""


class Extensions:
    """The provided values of one app's extension points, keyed by their declarations."""

    def __init__(self) -> None:
        self._slots: dict[Slot[Any], tuple[Any, str]] = {}
        self._chains: dict[Chain[Any], dict[str, Contribution[Any]]] = {}
        self._sorted: dict[Chain[Any], list[Any]] = {}
        self._declared: dict[str, Slot[Any] | Chain[Any]] = {}

    def _declare(self, point: Slot[Any] | Chain[Any]) -> None:
        known = self._declared.setdefault(point.name, point)
        if known is not point:
            raise ExtensionError(f"two extension points are declared with the name {point.name!r}")

    def provide(self, slot: Slot[T], value: T, *, provider: str = "") -> T:
        """Provide ``slot``; a second provider is a wiring error."""
        self._declare(slot)
        if slot in self._slots:
            raise ExtensionError(f"{slot.name} is already provided by {self._slots[slot][1] or 'someone'}")
        self._slots[slot] = (value, provider or _caller_package())
        return value

    def get(self, slot: Slot[T]) -> T:
        """The value provided for ``slot`` (or its declared default, made once)."""
        found = self._slots.get(slot, _MISSING)
        if found is not _MISSING:
            return found[0]
        if slot.default is None:
            raise ExtensionError(f"nobody provides {slot.name}: {slot.doc}")
        return self.provide(slot, slot.default(), provider="(default)")

    def find(self, slot: Slot[T]) -> T | None:
        """The value provided for ``slot``, or None when nobody provides it (an optional slot)."""
        found = self._slots.get(slot)
        return None if found is None else found[0]

    def provided(self, slot: Slot[Any]) -> bool:
        """True once somebody provided ``slot``."""
        return slot in self._slots

    def add(self, chain: Chain[T], name: str, value: T, *, order: int, provider: str = "") -> None:
        """Contribute ``value`` to ``chain`` under ``name`` at position ``order``."""
        self._declare(chain)
        entries = self._chains.setdefault(chain, {})
        if name in entries:
            raise ExtensionError(f"{chain.name} already has a contribution named {name!r}")
        entries[name] = Contribution(name, value, order, provider or _caller_package())
        self._sorted.pop(chain, None)

    def all(self, chain: Chain[T]) -> list[T]:
        """The values contributed to ``chain``, sorted by ``(order, name)``."""
        out = self._sorted.get(chain)
        if out is None:
            out = [c.value for c in self.contributions(chain)]
            self._sorted[chain] = out
        return out

    def contributions(self, chain: Chain[T]) -> list[Contribution[T]]:
        """The contributions of ``chain`` with their names, orders and providers, sorted."""
        return sorted(self._chains.get(chain, {}).values(), key=lambda c: (c.order, c.name))

    def table(self) -> list[tuple[str, str, str, str]]:
        """``(extension point, kind, provider package, what)`` rows, for docs and the CLI."""
        rows: list[tuple[str, str, str, str]] = []
        for slot, (value, provider) in self._slots.items():
            rows.append((slot.name, "slot", provider, _describe(value)))
        for chain in self._chains:
            for c in self.contributions(chain):
                rows.append((chain.name, f"chain #{c.order}", c.provider, f"{c.name}: {_describe(c.value)}"))
        return sorted(rows)


def _describe(value: Any) -> str:
    if isinstance(value, str | int | float):
        return repr(value)
    target = getattr(value, "__func__", value)
    name = getattr(target, "__qualname__", None) or type(value).__qualname__
    module = getattr(target, "__module__", None) or type(value).__module__
    return f"{module}.{name}".replace(".<locals>", "")


def _caller_package() -> str:
    import sys

    frame = sys._getframe(2)
    module = frame.f_globals.get("__name__", "")
    return module.split(".")[0]
