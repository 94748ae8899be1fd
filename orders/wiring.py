"""Registers the orders package with the app."""

from __future__ import annotations

from typing import Any

from flask import Flask

from orders.api import bp


def register(app: Flask, kernel: Any) -> None:
    """The order API."""
    app.register_blueprint(bp)
