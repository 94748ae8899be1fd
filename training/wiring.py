"""Registers training mode: the API, the trainer's page, the mistakes' labels, and the trainee's
call endpoints offered to the operator workspace."""

from __future__ import annotations

from flask import Flask

from callcentre.ports import WORKSPACE_ENDPOINTS
from frontoffice.kernel import Kernel
from frontoffice.packages import DomainPackage
from training import labels
from training.api import TRAINERS
from training.api import bp as api_bp
from training.views import bp as pages_bp


def register(app: Flask, kernel: Kernel) -> None:
    """Wire training mode into the app."""
    kernel.labels.declare(*labels.VOCABULARIES)
    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    kernel.extensions.add(WORKSPACE_ENDPOINTS, "training_calls", "training_api.record_call", order=30)
    kernel.extensions.add(
        WORKSPACE_ENDPOINTS, "training_assignment", "training_api.next_assignment", order=31
    )
    # The title stays English here; the top bar translates it when it renders.
    kernel.add_nav("Training", "training.trainer", TRAINERS, order=24)


PACKAGE = DomainPackage("training", register)
