"""Registers the nomenclature package with the app."""

from __future__ import annotations

from flask import Flask

from frontoffice.kernel import Kernel
from frontoffice.packages import DomainPackage
from nomenclature import demo, labels, views
from nomenclature.api import bp
from nomenclature.events import StopListChanged


def register(app: Flask, kernel: Kernel) -> None:
    """The nomenclature API and the admin pages."""
    kernel.labels.declare(*labels.VOCABULARIES)
    kernel.bus.declare(StopListChanged)  # nobody here hears it; webhooks may
    app.register_blueprint(bp)
    app.register_blueprint(views.bp)
    kernel.add_nav("Nomenclature", "nomenclature_pages.organizations", views.VIEW_ROLES, order=80)


PACKAGE = DomainPackage("nomenclature", register, demo=demo.load)
