"""The staff admin of the kernel: users with their roles and the branches they work for, switching
them off and on, password resets, their tokens and devices (pages under ``/admin/staff``, the API
under ``/api/v1/staff``), and one's own password (``/account/password``, ``/api/v1/account``).

Branches and devices belong to domain packages; the kernel reaches them through its own
extension points (``frontoffice.ports``: ``BRANCH_DIRECTORY``, ``USER_DEVICES``).
"""

from __future__ import annotations

from flask import Flask

from frontoffice.kernel import Kernel


def register(app: Flask, kernel: Kernel) -> None:
    """Serve the staff pages and API, keep users with a reset password on the password page, and
    show the staff page to admins."""
    from frontoffice.staff import api, views

    app.register_blueprint(api.bp)
    app.register_blueprint(api.account_bp)
    app.register_blueprint(views.bp)
    app.before_request(views.password_change_first)
    # The title stays English here; the top bar translates it when it renders.
    kernel.add_nav("Staff", "staff_pages.users", views.ADMIN, order=92)
