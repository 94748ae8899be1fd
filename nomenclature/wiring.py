"""Registers the nomenclature package with the app."""

from __future__ import annotations

from typing import Any

from flask import Flask

from nomenclature import views
from nomenclature.api import bp


def register(app: Flask, kernel: Any) -> None:
    """The nomenclature API and the admin pages."""
    app.register_blueprint(bp)
    app.register_blueprint(views.bp)
    kernel.add_nav("Nomenclature", "nomenclature_pages.organizations", views.VIEW_ROLES, order=80)
