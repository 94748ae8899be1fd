"""The one address folding: street-type words, the house marker, ё/е and the script do not matter."""

from __future__ import annotations

import pytest

from backoffice import antifraud
from callcentre.addressing import (
    address_key,
    house_key,
    house_order,
    parse_query,
    rank_streets,
    similarity,
    street_key,
    trigrams,
)
from callcentre.matching import address_key as matching_key


@pytest.mark.parametrize(
    "spelling",
    ["Кремлёвская улица", "ул. Кремлевская", "улица Кремлёвская", "Kremlyovskaya ul.", "KREMLEVSKAYA street"],
)
def test_every_spelling_of_a_street_has_one_key(spelling):
    assert street_key(spelling) == "kremlevskaya"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("пр-т Победы", "проспект Победы"),
        ("Pobedy prospekt", "просп. Победы"),
        ("пер. Зелёный", "Zelenyy pereulok"),
        ("Щорса", "Shchorsa"),
        ("Юлиуса Фучика", "Yuliusa Fuchika"),
    ],
)
def test_street_types_and_transliterations_fold_together(a, b):
    assert street_key(a) == street_key(b)


def test_the_house_marker_and_letters_fold_in_house_numbers():
    assert house_key("д. 21") == house_key("21") == "21"
    assert house_key("21А") == house_key("21 a") == "21a"
    assert house_key("21 корп. 2") == house_key("21к2") == "21k2"


@pytest.mark.parametrize(
    ("typed", "street", "house"),
    [
        ("кремлевская 21", "kremlevskaya", "21"),
        ("Kremlyovskaya 21", "kremlevskaya", "21"),
        ("ул Кремлёвская д.21", "kremlevskaya", "21"),
        ("ул. 8 Марта, д. 5", "8 marta", "5"),
        ("Баумана", "baumana", ""),
    ],
)
def test_a_typed_address_splits_into_street_and_house(typed, street, house):
    q = parse_query(typed)
    assert (q.street, q.house) == (street, house)


def test_a_partly_typed_word_matches_as_a_prefix_and_a_typo_still_ranks_first():
    assert similarity("kreml", "kremlevskaya") > 0.85 > similarity("kreml", "kremlyanka", prefix=False)
    assert "ml " not in trigrams("kreml", prefix=True)
    streets = [(1, "kremlevskaya"), (2, "baumana"), (3, "pushkina")]
    assert rank_streets("kremlevsakya", streets)[0][0] == 1
    assert [sid for sid, _ in rank_streets("bauman", streets)] == [2]
    assert rank_streets("baumana", streets, prefix=False) == [(2, pytest.approx(1.0))]
    assert rank_streets("zzz", streets) == []


def test_houses_sort_naturally():
    assert sorted(["10", "2", "21k2", "10a", "1"], key=house_order) == ["1", "2", "10", "10a", "21k2"]


def test_antifraud_and_client_addresses_share_the_directorys_folding():
    assert antifraud.normalize_address("Казань, ул. Кремлёвская, д. 21") == address_key(
        "Kazan Kremlyovskaya 21"
    )
    assert matching_key("ул. Баумана, д. 5") == matching_key("Baumana st 5") == "baumana 5"
