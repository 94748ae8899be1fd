"""Registers the couriers package with the app."""

from __future__ import annotations

from typing import Any

from flask import Flask


def register(app: Flask, kernel: Any) -> None:
    """Nothing yet: the courier API arrives with its own issue."""
