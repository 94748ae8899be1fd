"""The baseline of ``bench/orders_intake.py``: a bare Flask app doing one single-row INSERT.

It is not part of the product. It runs on the same stack as ``frontoffice run`` — the same
gunicorn settings and worker class (``frontoffice.cli`` serves it), the same engine and SQLite pragmas
(``frontoffice.db.make_engine``), the same ``BEGIN IMMEDIATE`` write transaction — and its one
endpoint, ``POST /bare``, reads the JSON body and inserts one row into a scratch table.

    python bench/baseline_app.py --database-url sqlite:///path/db.sqlite3 --port 8001 [--worker gevent]
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from bench_support import patch_if_serving_on_gevent

    patch_if_serving_on_gevent(sys.argv)

import argparse

from flask import Flask, jsonify, request
from sqlalchemy import Column, Integer, MetaData, String, Table

from frontoffice.db import make_engine, utcnow

metadata = MetaData()
scratch = Table(
    "bench_scratch",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("client_phone", String(40), nullable=False),
    Column("created_at", String(40), nullable=False),
)


def create_baseline_app(database_url: str) -> Flask:
    """A Flask app whose ``POST /bare`` inserts one row in one write transaction."""
    engine = make_engine(database_url)
    metadata.create_all(engine)
    writer = engine.execution_options(sqlite_immediate=True)
    app = Flask("bench_baseline")

    @app.post("/bare")
    def bare():
        """Parse the JSON body, insert one row, answer its id."""
        body = request.get_json()
        phone = str(((body or {}).get("client") or {}).get("phone", ""))[:40]
        with writer.begin() as conn:
            row_id = conn.execute(
                scratch.insert().values(client_phone=phone, created_at=utcnow().isoformat())
            ).inserted_primary_key[0]
        return jsonify(id=row_id), 201

    @app.get("/healthz")
    def healthz():
        """Ready check for the bench driver."""
        return jsonify(status="ok")

    return app


def main() -> None:
    """Serve the baseline exactly as ``frontoffice run`` serves the product."""
    from bench_support import WORKERS

    from frontoffice.cli import _serve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=200)
    parser.add_argument("--worker", choices=WORKERS, default="gthread")
    args = parser.parse_args()
    _serve(create_baseline_app(args.database_url), args.host, args.port, args.threads, args.worker)


if __name__ == "__main__":
    main()
