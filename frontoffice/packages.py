"""What a domain package hands the composition root: its name, how to wire it, its demo data and
its commands. Each package's ``wiring.py`` defines one ``PACKAGE = DomainPackage(...)``;
``frontoffice.app.PACKAGES`` lists them in import order (right to left in DESIGN.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask
    from sqlalchemy.orm import Session

    from frontoffice.kernel import Kernel


@dataclass(frozen=True)
class DomainPackage:
    """One domain package as the composition root sees it."""

    #: The top-level Python package (also its Alembic branch label and its models module's parent).
    name: str
    #: Registers blueprints, namespaces, subscribers and extension points on the app.
    register: Callable[[Flask, Kernel], None]
    #: Loads this package's demo data (idempotent) in a unit of work; None when it has none.
    demo: Callable[[Session, Kernel], None] | None = None
    #: ``frontoffice`` sub-commands this package adds (e.g. the monitor's ``simulate``).
    commands: tuple[click.Command, ...] = ()

    def import_models(self) -> None:
        """Import this package's ``models`` module so SQLAlchemy's metadata knows its tables."""
        import importlib

        importlib.import_module(f"{self.name}.models")

    def __repr__(self) -> str:
        return f"DomainPackage({self.name!r})"
