"""docs/architecture.md shows the wiring of the real app: who provides each extension point and who
hears each event. Regenerate the section with ``frontoffice wiring`` when this fails."""

from __future__ import annotations

from pathlib import Path

from frontoffice.cli import wiring_tables
from frontoffice.kernel import kernel_of

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"
BEGIN, END = "<!-- wiring:begin -->\n", "<!-- wiring:end -->"


def documented_tables() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index(BEGIN) + len(BEGIN) : text.index(END)]


def test_the_architecture_page_shows_the_wiring_of_the_running_app(sqlite_app):
    assert documented_tables() == wiring_tables(kernel_of(sqlite_app)), (
        "docs/architecture.md is out of date: paste the output of `frontoffice wiring` between its markers"
    )


def test_every_placement_policy_and_dossier_section_has_a_named_place(sqlite_app):
    from callcentre.ports import DOSSIER_SECTIONS
    from orders.ports import PLACEMENT_POLICIES

    ext = kernel_of(sqlite_app).extensions
    assert [c.name for c in ext.contributions(PLACEMENT_POLICIES)] == [
        "default_organization",
        "delivery_zone",
        "antifraud",
    ]
    assert [c.name for c in ext.contributions(DOSSIER_SECTIONS)] == ["warnings", "tickets", "notifications"]
