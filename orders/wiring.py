"""Registers the orders package with the app."""

from __future__ import annotations

from typing import Any

from flask import Flask

from orders.api import backtest_bp, backtest_for_page, bp, receipts_bp
from orders.services import DefaultOrganization, revenue_this_year


def register(app: Flask, kernel: Any) -> None:
    """The order, receipts and backtest APIs; the default-organization placement policy; the
    revenue lookup (explain) and the backtest (its admin page) the nomenclature pages call."""
    app.register_blueprint(bp)
    app.register_blueprint(receipts_bp)
    app.register_blueprint(backtest_bp)
    kernel.placement_policies.append(DefaultOrganization(kernel.settings.default_organization_id))
    kernel.services["organization_revenue"] = revenue_this_year
    kernel.services["distribution_backtest"] = backtest_for_page
