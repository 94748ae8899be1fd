"""Registers the orders package with the app."""

from __future__ import annotations

from flask import Flask

from frontoffice.kernel import Kernel
from frontoffice.packages import DomainPackage
from nomenclature.ports import DISTRIBUTION_BACKTEST, ORGANIZATION_REVENUE
from orders import demo, labels
from orders.api import backtest_bp, backtest_for_page, bp, receipts_bp
from orders.ports import PLACEMENT_POLICIES, PolicyOrder
from orders.services import DefaultOrganization, revenue_this_year


def register(app: Flask, kernel: Kernel) -> None:
    """The order, receipts and backtest APIs; the default-organization placement policy; the
    revenue lookup (explain) and the backtest (its admin page) the nomenclature pages call."""
    kernel.labels.declare(*labels.VOCABULARIES)
    app.register_blueprint(bp)
    app.register_blueprint(receipts_bp)
    app.register_blueprint(backtest_bp)
    kernel.extensions.add(
        PLACEMENT_POLICIES,
        "default_organization",
        DefaultOrganization(kernel.settings.default_organization_id),
        order=PolicyOrder.DEFAULTS,
    )
    kernel.extensions.provide(ORGANIZATION_REVENUE, revenue_this_year)
    kernel.extensions.provide(DISTRIBUTION_BACKTEST, backtest_for_page)


PACKAGE = DomainPackage("orders", register, demo=demo.load)
