"""Benchmark: address search as the operator types, over a city-sized directory (SQLite or PostgreSQL).

Workload: a fresh database is migrated with the real schema (Alembic), then a city of 3,000 streets
(Russian-like names with a street type: "улица", "проспект", "переулок" …) and 100,000 houses
(numbers with letters and "к2" building parts) is imported through ``import_directory`` (one
transaction, timed). Queries, drawn from the houses: a quarter each as written ("улица Зелёная 12"),
in Latin transliteration ("Zelyonaya 12"), with a typo (two letters swapped) and as a prefix being
typed ("Зелё").

Ours: ``callcentre.services.search_directory`` — trigrams of the folded street key in an indexed
table, ranked in Python, the house by its key's prefix — timed per query.

Baseline, in the same run on the same database: the naive scan a first version would write, every
house's address text against the typed words with LIKE (``SELECT … FROM address_houses JOIN
address_streets WHERE name || ' ' || number LIKE '%word%word%' LIMIT 10``), timed per query. It finds
only what is typed as stored; the hit rates (the intended street among the answers) of both are
printed.

    .venv/bin/python bench/address_search.py [--streets 3000] [--houses 100000] [--samples 1000]

Prints a table, then one JSON line:
``{"bench": "address_search", "ours": <p95 ms>, "baseline": <p95 ms>, "unit": "ms", "ratio": <baseline/ours>}``.
Target: p95 ≤ 20 ms (a keystroke's budget).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from bench_support import percentile

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from callcentre.address_sources import AddressRow  # noqa: E402
from callcentre.services import import_directory, search_directory  # noqa: E402
from frontoffice.db import Database, make_engine  # noqa: E402
from frontoffice.migrate import upgrade  # noqa: E402

SYLLABLES = (
    "ба ве го да ле жи зо ки лу ми но пе ро са ту фе хо це чи шу щё ю я ря лё ны кой ской ев ов ин".split()
)
ENDINGS = ("ская", "ная", "ова", "ина", "ёвская", "цкого", "жная")
TYPES = ("улица", "проспект", "переулок", "бульвар", "ул.", "пр-т", "")
#: A transliteration other than ours (what a caller or a Latin keyboard writes).
LATIN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e yo zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya".split(),
        strict=True,
    )
)


KINDS = ("as written", "Latin", "a typo", "a prefix")


def latin(word: str) -> str:
    """A Latin spelling of a Cyrillic word."""
    return "".join(LATIN.get(ch, ch) for ch in word.lower()).replace("-", "").capitalize()


def make_city(
    rng: random.Random, streets: int, houses: int
) -> tuple[list[AddressRow], list[tuple[str, str]]]:
    """Rows of the directory and the (street name, base name) of each street."""
    names: dict[str, str] = {}
    while len(names) < streets:
        base = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))) + rng.choice(ENDINGS)
        base = base.capitalize()
        kind = rng.choice(TYPES)
        name = f"{kind} {base}".strip() if rng.random() < 0.5 else f"{base} {kind}".strip()
        names.setdefault(base, name)
    bases = list(names)
    rows = []
    per_street = houses // streets
    for i, base in enumerate(bases):
        lat0, lon0 = 55.70 + (i % 60) * 0.004, 49.00 + (i // 60) * 0.006
        for n in range(1, per_street + 1):
            number = str(n) + (rng.choice(["", "", "", "а", "б", "к2"]))
            rows.append(AddressRow(names[base], number, lat0 + n * 0.0001, lon0, "Казань"))
    return rows, [(names[b], b) for b in bases]


def make_queries(rng: random.Random, rows: list[AddressRow], streets: list[tuple[str, str]], n: int):
    """(typed text, intended street name) pairs: as written, Latin, a typo, a prefix."""
    base_of = dict(streets)
    out = []
    for i in range(n):
        row = rng.choice(rows)
        base = base_of[row.street]
        house = row.house.rstrip("абк2") or row.house
        kind = i % 4
        if kind == 0:
            typed = f"{row.street} {row.house}"
        elif kind == 1:
            typed = f"{latin(base)} {house}"
        elif kind == 2:
            j = rng.randrange(1, max(2, len(base) - 2))
            typo = base[:j] + base[j + 1] + base[j] + base[j + 2 :]
            typed = f"{typo} {house}"
        else:
            typed = base[: max(4, len(base) // 2)]
        out.append((typed, row.street))
    return out


def baseline(db: Database, typed: str) -> list[str]:
    """The naive scan: every house's address text against the typed words, in order, with LIKE."""
    pattern = "%" + "%".join(typed.split()) + "%"
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.name, h.number FROM address_houses h JOIN address_streets s ON s.id = h.street_id "
                "WHERE s.name || ' ' || h.number LIKE :pattern LIMIT 10"
            ),
            {"pattern": pattern},
        ).all()
    return [r.name for r in rows]


def main() -> None:
    """Build the city, time both ways, print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streets", type=int, default=3000)
    parser.add_argument("--houses", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file in a temp folder")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-addresses-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    print(f"address_search: {args.streets:,} streets, {args.houses:,} houses on {url.split(':')[0]}")
    upgrade(url)
    db = Database(make_engine(url))
    rng = random.Random(args.seed)
    rows, streets = make_city(rng, args.streets, args.houses)
    started = time.perf_counter()
    with db.unit_of_work() as s:
        done = import_directory(s, rows)
    load_s = time.perf_counter() - started
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    queries = make_queries(rng, rows, streets, args.samples)

    ours_ms, base_ms, ours_hits, base_hits = [], [], 0, 0
    by_kind = [[0, 0] for _ in KINDS]
    for i, (typed, street) in enumerate(queries):
        t0 = time.perf_counter()
        with db.reading() as s:
            found = search_directory(s, typed)
        ours_ms.append((time.perf_counter() - t0) * 1000)
        hit = any(h.street == street for h in found)
        ours_hits += hit
        by_kind[i % 4][0] += hit
        t0 = time.perf_counter()
        names = baseline(db, typed)
        base_ms.append((time.perf_counter() - t0) * 1000)
        base_hits += street in names
        by_kind[i % 4][1] += street in names

    n = len(queries)
    print(
        f"import: {done.rows:,} rows, {done.streets_added:,} streets in {load_s:.1f} s ({done.rows / load_s:,.0f} rows/s)"
    )
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print("| search per query | p50 | p95 | p99 | hits |")
    print("| --- | --- | --- | --- | --- |")
    for label, values, hits in (
        ("ours: trigram street key", ours_ms, ours_hits),
        ("naive LIKE scan", base_ms, base_hits),
    ):
        print(
            f"| {label} | {percentile(values, 50):.2f} ms | {percentile(values, 95):.2f} ms | "
            f"{percentile(values, 99):.2f} ms | {hits / n:.0%} |"
        )
    quarter = n / 4
    print(
        "hits by kind of query (ours / baseline): "
        + ", ".join(
            f"{kind} {a / quarter:.0%} / {b / quarter:.0%}"
            for kind, (a, b) in zip(KINDS, by_kind, strict=True)
        )
    )
    ours, base = percentile(ours_ms, 95), percentile(base_ms, 95)
    print(
        json.dumps(
            {
                "bench": "address_search",
                "ours": round(ours, 3),
                "baseline": round(base, 3),
                "unit": "ms",
                "ratio": round(base / ours, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
