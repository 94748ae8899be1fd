"""Registers the nomenclature package with the app."""

from __future__ import annotations

from typing import Any

from flask import Flask


def register(app: Flask, kernel: Any) -> None:
    """Nothing to wire yet beyond the catalogue tables used by orders."""
