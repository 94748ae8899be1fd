"""The offline address directory: OSM XML and CSV imports, refusals that import nothing, search as the
operator types, and the geocoding chain directory → geopy → none."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from callcentre import services
from callcentre.address_sources import AddressFileError, file_kind, read_csv, read_file, read_osm
from callcentre.models import AddressHouse, AddressStreet
from tests.conftest import make_users
from tests.helpers import AuthActions
from tests.integration import test_callcentre_geocoding as geocoding_tests

_app = geocoding_tests._app
nominatim = geocoding_tests.nominatim  # the fake Nominatim fixture, shared

#: A small extract: Кремлёвская 21 is a building outline (its centroid is the house), Баумана 5 a node.
EXTRACT = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <node id="1" version="1" lat="55.7962" lon="49.1086"/>
  <node id="2" version="1" lat="55.7964" lon="49.1086"/>
  <node id="3" version="1" lat="55.7964" lon="49.1090"/>
  <node id="4" version="1" lat="55.7962" lon="49.1090"/>
  <node id="5" version="1" lat="55.7870" lon="49.1220">
    <tag k="addr:street" v="улица Баумана"/>
    <tag k="addr:housenumber" v="5"/>
  </node>
  <node id="6" version="1" lat="55.7950" lon="49.1095">
    <tag k="addr:street" v="Кремлёвская улица"/>
    <tag k="addr:housenumber" v="2"/>
  </node>
  <node id="7" version="1" lat="55.7940" lon="49.1099">
    <tag k="addr:street" v="Кремлёвская улица"/>
    <tag k="addr:housenumber" v="21к2"/>
  </node>
  <node id="8" version="1" lat="55.7800" lon="49.1300">
    <tag k="amenity" v="bench"/>
  </node>
  <way id="10" version="1">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="building" v="yes"/>
    <tag k="addr:street" v="Кремлёвская улица"/>
    <tag k="addr:housenumber" v="21"/>
  </way>
</osm>
"""


@pytest.fixture
def extract(tmp_path):
    path = tmp_path / "kazan.osm"
    path.write_text(EXTRACT, encoding="utf-8")
    return path


def _import(app, rows) -> services.DirectoryImport:
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        return services.import_directory(s, rows)


def _counts(app) -> tuple[int, int]:
    with app.extensions["frontoffice"].db.reading() as s:
        return (
            s.scalar(select(func.count()).select_from(AddressStreet)),
            s.scalar(select(func.count()).select_from(AddressHouse)),
        )


def test_an_imported_osm_extract_answers_every_spelling_with_the_same_house(app, extract):
    done = _import(app, read_osm(extract))
    assert (done.rows, done.streets_added, done.houses_added) == (4, 2, 4)
    with app.extensions["frontoffice"].db.reading() as s:
        answers = {
            q: services.search_directory(s, q)
            for q in ("кремлевская 21", "Kremlyovskaya 21", "ул Кремлёвская д.21")
        }
    firsts = {q: (a[0].street, a[0].house, a[0].lat, a[0].lon) for q, a in answers.items()}
    assert len(set(firsts.values())) == 1, firsts
    street, house, lat, lon = firsts["кремлевская 21"]
    assert (street, house) == ("Кремлёвская улица", "21")
    # The building's centroid, not one of its corners.
    assert lat == pytest.approx(55.7963, abs=1e-6) and lon == pytest.approx(49.1088, abs=1e-6)
    assert answers["кремлевская 21"][0].score == 1.0


def test_an_osm_pbf_extract_is_read_like_its_xml(tmp_path, extract):
    import osmium

    pbf = tmp_path / "kazan.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))
    for obj in osmium.FileProcessor(str(extract)):
        writer.add(obj)
    writer.close()
    sniffed = tmp_path / "upload.bin"
    sniffed.write_bytes(pbf.read_bytes())
    assert read_file(pbf) == read_osm(extract)
    assert file_kind("upload.bin", sniffed.read_bytes()[:256]) == "pbf"


def test_the_directory_answers_prefixes_and_typos_as_the_operator_types(app, extract):
    _import(app, read_osm(extract))
    with app.extensions["frontoffice"].db.reading() as s:
        assert {h.street for h in services.search_directory(s, "кремл")} == {"Кремлёвская улица"}
        assert [h.house for h in services.search_directory(s, "Кремлёвская 2")][:2] == ["2", "21"]
        assert services.search_directory(s, "Kremlevskya 21k2")[0].house == "21к2"
        assert services.search_directory(s, "Баумана 5")[0].street == "улица Баумана"
        assert services.search_directory(s, "Bauman")[0].house == "5"
        assert services.search_directory(s, "Пушкина 5") == []


def test_importing_the_same_extract_again_updates_instead_of_duplicating(app, extract):
    _import(app, read_osm(extract))
    again = _import(app, read_osm(extract))
    assert (again.streets_added, again.houses_added, again.houses_updated) == (0, 0, 4)
    assert _counts(app) == (2, 4)


def test_a_csv_directory_is_imported(app, tmp_path):
    rows = read_csv(
        "street;house;lat;lon;city\nул. Пушкина;10а;55,7905;49,1230;Казань\nPushkina;12;55.7900;49.1240;Казань\n".encode()
    )
    done = _import(app, rows)
    assert (done.streets_added, done.houses_added) == (1, 2)
    with app.extensions["frontoffice"].db.reading() as s:
        found = services.search_directory(s, "пушкина 10 а")
    assert (found[0].house, found[0].lat, found[0].lon, found[0].city) == ("10а", 55.7905, 49.123, "Казань")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "street,house,lat,lon\nБаумана,5,55.78,49.12\nБаумана,7,95,49.12\n,9,55.78,49.12\n",
            ["row 3", "lat", "row 4", "street"],
        ),
        ("street,house,latitude\nБаумана,5,55.78\n", ["missing: lat, lon"]),
        ("street,house,lat,lon\n", ["no address rows"]),
    ],
)
def test_bad_csv_rows_are_named_and_nothing_is_imported(text, says):
    with pytest.raises(AddressFileError) as refused:
        read_csv(text.encode())
    message = " ".join([refused.value.message, *refused.value.errors])
    for part in says:
        assert part in message


@pytest.mark.parametrize(
    "content", ["street,house,lat,lon\nБаумана,5,55.78,49.12\n", "<html>not a map</html>", ""]
)
def test_a_file_that_is_not_an_osm_extract_is_refused(tmp_path, content):
    path = tmp_path / "city.osm"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AddressFileError, match="OpenStreetMap"):
        read_osm(path)


def test_the_api_suggests_houses_and_imports_uploads_whole_or_not_at_all(app, users, extract):
    client = app.test_client()
    manager, operator = users["manager"].headers, users["operator"].headers
    bad = client.post(
        "/api/v1/callcentre/addresses/import?name=kazan.csv",
        data="street,house,lat,lon\nБаумана,5,55.78,49.12\nБаумана,7,55.78,500\n".encode(),
        headers=manager,
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.json["errors"][0]["field"] == "body" and "row 3" in bad.json["detail"]
    not_osm = client.post(
        "/api/v1/callcentre/addresses/import?name=kazan.osm", data=b"PK\x03\x04zip", headers=manager
    )
    assert not_osm.status_code == 422 and "OpenStreetMap" in not_osm.json["detail"]
    assert _counts(app) == (0, 0)

    ok = client.post(
        "/api/v1/callcentre/addresses/import?name=kazan.osm", data=extract.read_bytes(), headers=manager
    )
    assert ok.status_code == 200, ok.json
    assert ok.json | {} == {
        "rows": 4,
        "streets_added": 2,
        "houses_added": 4,
        "houses_updated": 0,
        "streets": 2,
        "houses": 4,
    }
    found = client.get(
        "/api/v1/callcentre/addresses/suggest", query_string={"q": "ул Кремлёвская д.21"}, headers=operator
    )
    assert found.status_code == 200
    first = found.json["candidates"][0]
    assert (first["street"], first["house"], first["text"]) == (
        "Кремлёвская улица",
        "21",
        "Кремлёвская улица, 21",
    )
    short = client.get("/api/v1/callcentre/addresses/suggest", query_string={"q": "к"}, headers=operator)
    assert short.status_code == 422 and short.json["errors"][0]["field"].endswith("q")


def test_the_new_routes_admit_exactly_their_roles(app, users):
    client = app.test_client()
    routes = {
        ("GET", "/api/v1/callcentre/addresses/suggest?q=Baumana"): {"admin", "manager", "operator"},
        ("POST", "/api/v1/callcentre/addresses/import?name=a.csv"): {"admin", "manager"},
    }
    for (method, url), allowed in routes.items():
        assert client.open(url, method=method, data=b"x").status_code == 401
        for role, actor in users.items():
            status = client.open(
                url, method=method, data=b"street,house,lat,lon\n", headers=actor.headers
            ).status_code
            assert (status not in (401, 403)) == (role in allowed), (method, url, role, status)
    for role, actor in users.items():
        if role == "courier":
            continue  # couriers have no browser pages: their login is refused
        browser = app.test_client()
        AuthActions(browser).login(actor)
        status = browser.get("/callcentre/addresses").status_code
        assert status == (200 if role in ("admin", "manager") else 403), (role, status)
    assert app.test_client().get("/callcentre/addresses").status_code == 302


def test_the_cli_imports_with_a_progress_bar_and_refuses_a_bad_file(
    database_url, tmp_path, extract, monkeypatch
):
    from callcentre.cli import addresses

    monkeypatch.setenv("FRONTOFFICE_DATABASE_URL", database_url)
    monkeypatch.setenv("FRONTOFFICE_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()
    bad = tmp_path / "broken.osm"
    bad.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    refused = runner.invoke(addresses, ["import", str(bad)])
    assert refused.exit_code == 1 and "OpenStreetMap" in refused.output
    done = runner.invoke(addresses, ["import", str(extract)])
    assert done.exit_code == 0, done.output
    assert "Importing houses" in done.output and "2 streets and 4 houses" in done.output


# --- the geocoding chain ------------------------------------------------------------------------


def test_the_directory_answers_first_then_the_geocoder_then_nothing(
    database_url,
    tmp_path,
    nominatim,
    extract,
):
    app = _app(
        database_url,
        tmp_path,
        geocoder="nominatim",
        geocoder_domain=nominatim.domain,
        geocoder_scheme="http",
        geocoder_timeout_s=0.5,
    )
    try:
        _import(app, read_osm(extract))
        client = app.test_client()
        op = make_users(app)["operator"].headers
        known = client.get("/api/v1/geocode", query_string={"q": "Kremlyovskaya 21"}, headers=op)
        assert known.status_code == 200 and known.json["provider"] == "directory"
        assert known.json["candidates"][0]["text"] == "Кремлёвская улица, 21"
        assert known.json["candidates"][0]["zone_id"] is not None
        assert nominatim.requests == []

        unknown = client.get("/api/v1/geocode", query_string={"q": "Kremlyovskaya 99"}, headers=op)
        assert unknown.status_code == 200 and unknown.json["provider"].startswith("nominatim:")
        assert len(nominatim.requests) == 1

        nominatim.mode = "error"
        down = client.get("/api/v1/geocode", query_string={"q": "Peterburgskaya 1"}, headers=op)
        assert down.status_code == 503 and down.mimetype == "application/problem+json"
    finally:
        app.extensions["frontoffice"].db.dispose()


def test_without_a_geocoder_the_directory_still_answers(database_url, tmp_path, extract):
    app = _app(database_url, tmp_path)
    try:
        _import(app, read_osm(extract))
        client = app.test_client()
        op = make_users(app)["operator"].headers
        assert (
            client.get("/api/v1/geocode", query_string={"q": "Баумана д. 5"}, headers=op).json["provider"]
            == "directory"
        )
        assert client.get("/api/v1/geocode", query_string={"q": "Баумана 6"}, headers=op).status_code == 503
    finally:
        app.extensions["frontoffice"].db.dispose()


def test_a_clients_address_spelled_another_way_is_the_saved_one(app):
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        client = services.create_client(s, "+79175550000", name="Dina")
        first = services.add_address(
            s, client.id, services.AddressData(text="ул. Кремлёвская, д. 21", apartment="5")
        )
        again = services.add_address(
            s, client.id, services.AddressData(text="Kremlyovskaya 21", apartment="5")
        )
        other = services.add_address(
            s, client.id, services.AddressData(text="Kremlyovskaya 23", apartment="5")
        )
        assert again.id == first.id != other.id
        assert len(services.addresses_of(s, client.id)) == 2
