"""Registers the orders package with the app."""

from __future__ import annotations

from flask import Flask

from frontoffice.kernel import Kernel
from frontoffice.packages import DomainPackage
from frontoffice.ports import BRANCH_DIRECTORY
from nomenclature.ports import DISTRIBUTION_BACKTEST, ORGANIZATION_REVENUE
from nomenclature.services import branch_names
from orders import branch_api, demo, labels, order_page, views
from orders.api import backtest_bp, backtest_for_page, bp, receipts_bp
from orders.ports import PLACEMENT_POLICIES, PolicyOrder
from orders.services import DefaultOrganization, revenue_this_year


def register(app: Flask, kernel: Kernel) -> None:
    """The order, receipts, backtest and branch APIs and the branch pages; the default-organization
    placement policy; the revenue lookup (explain) and the backtest (its admin page) the
    nomenclature pages call; the branches staff may work for (the kernel's staff admin)."""
    kernel.labels.declare(*labels.VOCABULARIES)
    app.register_blueprint(bp)
    app.register_blueprint(receipts_bp)
    app.register_blueprint(backtest_bp)
    app.register_blueprint(branch_api.bp)
    views.register_pages(app, kernel)
    app.register_blueprint(order_page.bp)
    kernel.extensions.provide(BRANCH_DIRECTORY, branch_names)
    kernel.extensions.add(
        PLACEMENT_POLICIES,
        "default_organization",
        DefaultOrganization(kernel.settings.default_organization_id),
        order=PolicyOrder.DEFAULTS,
    )
    kernel.extensions.provide(ORGANIZATION_REVENUE, revenue_this_year)
    kernel.extensions.provide(DISTRIBUTION_BACKTEST, backtest_for_page)


PACKAGE = DomainPackage("orders", register, demo=demo.load)
