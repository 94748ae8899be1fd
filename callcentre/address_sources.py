"""Reading an address directory from a file: an OpenStreetMap extract (``.osm`` XML or ``.osm.pbf``,
through pyosmium) or a CSV ``street,house,lat,lon[,city]``. Plain values only; nothing is written.

Every reader checks the whole file before it answers: a file that is not what it claims, or a bad
CSV row, raises :class:`AddressFileError` naming the problem (and the row), so an import either
takes the whole file or nothing.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MAX_ERRORS = 10
CSV_COLUMNS = ("street", "house", "lat", "lon", "city")


class AddressFileError(Exception):
    """The file cannot be imported; ``errors`` lists the problems (row by row for a CSV)."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


@dataclass(frozen=True)
class AddressRow:
    """One house of a source file: street name, house number, WGS84 coordinates, city (may be empty)."""

    street: str
    house: str
    lat: float
    lon: float
    city: str = ""


def _coordinate(text: str, low: float, high: float) -> float | None:
    try:
        value = float(str(text).strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) and low <= value <= high else None


def file_kind(name: str, head: bytes) -> str:
    """``osm`` (XML), ``pbf`` or ``csv``: by the file's name, else by its first bytes."""
    lower = name.lower()
    if lower.endswith(".osm.pbf") or lower.endswith(".pbf"):
        return "pbf"
    if lower.endswith(".osm") or lower.endswith(".osm.xml"):
        return "osm"
    if lower.endswith(".csv"):
        return "csv"
    stripped = head.lstrip()
    if stripped.startswith(b"<"):
        return "osm"
    if b"OSMHeader" in head[:64]:
        return "pbf"
    return "csv"


def read_csv(data: bytes) -> list[AddressRow]:
    """The rows of a CSV with a header ``street,house,lat,lon[,city]`` (comma or semicolon)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AddressFileError("The CSV file is not UTF-8 text.") from None
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS[:4] if c not in header]
    if missing:
        raise AddressFileError(
            f"The CSV header must name the columns street, house, lat, lon (and optionally city); "
            f"missing: {', '.join(missing)}."
        )
    reader.fieldnames = header
    rows: list[AddressRow] = []
    errors: list[str] = []
    for line, raw in enumerate(reader, start=2):
        street = (raw.get("street") or "").strip()
        house = (raw.get("house") or "").strip()
        lat = _coordinate(raw.get("lat") or "", -90, 90)
        lon = _coordinate(raw.get("lon") or "", -180, 180)
        problems = []
        if not street or len(street) > 200:
            problems.append("street is empty or longer than 200 characters")
        if not house or len(house) > 40:
            problems.append("house is empty or longer than 40 characters")
        if lat is None:
            problems.append("lat is not a latitude in [-90, 90]")
        if lon is None:
            problems.append("lon is not a longitude in [-180, 180]")
        if problems:
            errors.append(f"row {line}: {'; '.join(problems)}")
            continue
        rows.append(AddressRow(street, house, lat, lon, (raw.get("city") or "").strip()[:120]))  # type: ignore[arg-type]
    if errors:
        shown = errors[:MAX_ERRORS]
        more = len(errors) - len(shown)
        raise AddressFileError(
            f"{len(errors)} row(s) of the CSV are not valid; nothing was imported.",
            shown + ([f"… and {more} more"] if more else []),
        )
    if not rows:
        raise AddressFileError("The CSV file has no address rows.")
    return rows


def read_osm(path: str | Path, progress: Callable[[int], None] | None = None) -> list[AddressRow]:
    """Houses of an OSM extract: nodes and ways tagged ``addr:street`` + ``addr:housenumber``
    (a way stands at the centroid of its outline)."""
    import osmium
    from shapely.geometry import Polygon

    rows: list[AddressRow] = []
    seen = 0

    def tick() -> None:
        nonlocal seen
        seen += 1
        if progress is not None and seen % 5000 == 0:
            progress(seen)

    def add(tags: osmium.osm.TagList, lat: float, lon: float) -> None:
        street, house = tags.get("addr:street"), tags.get("addr:housenumber")
        if street and house and math.isfinite(lat) and math.isfinite(lon):
            rows.append(AddressRow(street[:200], house[:40], lat, lon, (tags.get("addr:city") or "")[:120]))

    class Houses(osmium.SimpleHandler):
        def node(self, n: osmium.osm.Node) -> None:
            tick()
            if "addr:housenumber" in n.tags and n.location.valid():
                add(n.tags, n.location.lat, n.location.lon)

        def way(self, w: osmium.osm.Way) -> None:
            tick()
            if "addr:housenumber" not in w.tags:
                return
            points = [(nd.lon, nd.lat) for nd in w.nodes if nd.location.valid()]
            if not points:
                return
            if len(points) >= 4 and points[0] == points[-1]:
                c = Polygon(points).centroid
                add(w.tags, c.y, c.x)
            else:
                add(w.tags, sum(p[1] for p in points) / len(points), sum(p[0] for p in points) / len(points))

    path = Path(path)
    with path.open("rb") as f:
        head = f.read(256)
    if not head:
        raise AddressFileError("The file is empty: it is not an OpenStreetMap extract.")
    if path.suffix.lower() != ".pbf" and b"<osm" not in head:
        raise AddressFileError("The file is not an OpenStreetMap extract (no <osm> element).")
    try:
        Houses().apply_file(str(path), locations=True)
    except (RuntimeError, ValueError, OSError) as exc:
        raise AddressFileError(f"The file is not a readable OpenStreetMap extract: {exc}") from None
    if not rows:
        raise AddressFileError(
            "The OpenStreetMap extract has no houses with addr:street and addr:housenumber."
        )
    return rows


def read_file(
    path: str | Path, name: str | None = None, progress: Callable[[int], None] | None = None
) -> list[AddressRow]:
    """The houses of a file, read as its name (or first bytes) say: OSM XML, OSM PBF or CSV."""
    path = Path(path)
    with path.open("rb") as f:
        head = f.read(256)
    kind = file_kind(name or path.name, head)
    if kind == "csv":
        return read_csv(path.read_bytes())
    return read_osm(path, progress)
