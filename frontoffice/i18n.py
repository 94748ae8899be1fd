"""Messages that reach pages without a literal ``_()`` call at their source.

Flashes, login errors and HTTP error titles are produced as plain English strings and
translated where a template renders them (``_(message)``). Listing them here with :func:`N_`
puts them into the message catalogue, which ``pybabel extract`` builds from ``_()``, ``N_()``
and ``add_nav()`` calls (see docs/translations.md). The kernel's own codes users read (role
names) are a vocabulary of the label table (:mod:`frontoffice.labels`).
"""

from __future__ import annotations

from flask_babel import lazy_pgettext

from frontoffice.labels import Vocabulary
from frontoffice.models import Role

#: The interface languages.
LANGUAGES = ("en", "ru")


def N_(message: str) -> str:
    """Mark ``message`` for extraction and return it untranslated."""
    return message


RUNTIME_MESSAGES = (
    # Flask-Login and the login page
    N_("Please log in to access this page."),
    N_("Unknown username or wrong password."),
    N_("Couriers sign in through the courier app, not here."),
    N_("You are logged out."),
    # titles of error pages (frontoffice.errors and werkzeug)
    N_("Bad request"),
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not found"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Conflict"),
    N_("Unprocessable content"),
    N_("Request Entity Too Large"),
    N_("Too Many Requests"),
    N_("Too many requests"),
    N_("Internal server error"),
    N_("Internal Server Error"),
    N_("Service unavailable"),
)

#: Role names, as the top bar shows who is logged in.
USER_ROLE = Vocabulary(
    "user_role",
    Role,
    {
        Role.ADMIN: lazy_pgettext("user role", "Administrator"),
        Role.MANAGER: lazy_pgettext("user role", "Manager"),
        Role.OPERATOR: lazy_pgettext("user role", "Operator"),
        Role.COURIER: lazy_pgettext("user role", "Courier"),
        Role.BACKOFFICE: lazy_pgettext("user role", "Back office"),
    },
)
