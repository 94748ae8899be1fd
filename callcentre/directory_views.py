"""The address directory's admin page: its size, a file upload with a progress bar, a search to try."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from flask_babel import gettext as _

from callcentre import services
from frontoffice.auth import page
from frontoffice.kernel import Kernel, current_kernel
from frontoffice.models import Role

bp = Blueprint(
    "callcentre_directory", __name__, url_prefix="/callcentre/addresses", template_folder="templates"
)

#: Who keeps the directory.
DIRECTORY_ROLES = frozenset({Role.MANAGER})

API = {
    "import": "/api/v1/callcentre/addresses/import",
    "suggest": "/api/v1/callcentre/addresses/suggest",
}


def directory_strings() -> dict[str, str]:
    """Texts the page's script shows, translated for the current locale."""
    return {
        "uploading": _("Uploading… {percent}%"),
        "importing": _("Uploaded; importing…"),
        "imported": _(
            "Imported {rows} row(s): {streets_added} new street(s), {houses_added} new house(s), "
            "{houses_updated} updated."
        ),
        "choose_file": _("Choose a file first."),
        "failed": _("Nothing was imported: {detail}"),
        "network_error": _("The server did not answer. Check the connection and try again."),
        "no_match": _("No house of the directory matches."),
        "stats": _("{streets} streets, {houses} houses."),
    }


@bp.route("")
@page(DIRECTORY_ROLES)
def directory():
    """The directory's size, the import form and a search to try it."""
    with current_kernel().db.reading() as s:
        stats = services.directory_stats(s)
    config = {"api": API, "strings": directory_strings()}
    return render_template("callcentre/addresses.html", config=config, stats=stats)


def register_directory_pages(app: Flask, kernel: Kernel) -> None:
    """Serve the directory page and put it in the top bar."""
    app.register_blueprint(bp)
    kernel.add_nav("Address directory", "callcentre_directory.directory", DIRECTORY_ROLES, order=14)
