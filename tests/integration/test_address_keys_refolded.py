"""Migration 8c3d1f2e5a70: stored antifraud address keys are recomputed with the directory's folding."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from sqlalchemy import text

from backoffice import antifraud

MIGRATION = Path(__file__).parents[2] / "callcentre" / "migrations" / "8c3d1f2e5a70_address_keys_refolded.py"


def _migration():
    spec = importlib.util.spec_from_file_location("refolded", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_old_blacklist_values_and_order_address_keys_are_refolded(app, catalogue, orders):
    order = orders.place(policies=False, address_text="Казань, ул. Кремлёвская, д. 21")
    old_digest = hashlib.sha1("казань кремлевская 21".encode()).hexdigest()
    engine = app.extensions["frontoffice"].db.engine
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO order_address_keys (order_id, address_key, created_at) VALUES (:o, :k, :t)"),
            {"o": order.id, "k": old_digest, "t": order.created_at},
        )
        for value, display in (
            ("казань некрасова 10 13", "Казань, ул. Некрасова, 10, кв. 13"),
            ("kazan nekrasova st 10 apt 13", "Kazan, Nekrasova St, 10, apt 13"),
            ("баумана 5", "ул. Баумана, д. 5"),
        ):
            conn.execute(
                text(
                    "INSERT INTO antifraud_blacklist (kind, value, display, reason, created_at) "
                    "VALUES ('address', :v, :d, 'prank', :t)"
                ),
                {"v": value, "d": display, "t": order.created_at},
            )
        _migration().refold_address_keys(conn)
        values = conn.execute(text("SELECT value FROM antifraud_blacklist ORDER BY id")).scalars().all()
        digest = conn.execute(text("SELECT address_key FROM order_address_keys")).scalar_one()
    # The two spellings of one flat fold into one entry, the older kept.
    assert values == ["kazan nekrasova 10 13", "baumana 5"]
    assert values[0] == antifraud.normalize_address("Kazan, Nekrasova street 10, flat 13")
    assert digest == antifraud.address_digest("Kazan Kremlyovskaya 21") != old_digest
