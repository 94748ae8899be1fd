"""The rules every text of a request keeps (frontoffice.inputs): JSON depth and the NUL character."""

from __future__ import annotations

import json

import pytest

from frontoffice.inputs import MAX_JSON_DEPTH, JsonTooDeep, load_json, nests_deeper, nul_fields, nul_paths


def nested_list(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_every_string_and_key_holding_a_nul_is_named_by_its_dotted_path_in_document_order():
    doc = {"client": {"name": "Iv\x00an"}, "lines": [{"sku": "ok"}, {"s\x00ku": "PZ\x00"}], "comment": "\x00"}
    assert nul_paths(doc) == ["client.name", "lines.1.s\\0ku", "comment"]


def test_a_clean_document_has_no_nul_paths_whatever_it_holds():
    assert nul_paths({"a": [1, 2.5, None, True, {"b": "text"}], "c": "ünïcode"}) == []
    assert nul_paths("\x00") == [""]


def test_a_document_at_the_depth_limit_passes_and_one_level_deeper_does_not():
    assert nul_paths(nested_list(MAX_JSON_DEPTH)) == []
    with pytest.raises(JsonTooDeep, match=f"deeper than {MAX_JSON_DEPTH}"):
        nul_paths(nested_list(MAX_JSON_DEPTH + 1))


def test_the_depth_of_a_json_text_is_found_without_parsing_it_whatever_its_brackets_or_strings():
    assert not nests_deeper(json.dumps(nested_list(MAX_JSON_DEPTH)).encode())
    assert nests_deeper(json.dumps(nested_list(MAX_JSON_DEPTH + 1)).encode())
    mixed = {"a": [{"b": [{"c": "leaf"}]}]}  # objects and arrays alternate: 5 levels
    assert not nests_deeper(json.dumps(mixed).encode(), 5) and nests_deeper(json.dumps(mixed).encode(), 4)
    brackets_in_strings = json.dumps({"note": '[[[[{{{{ " ]]]]' * 50, "k[[[": "v"}).encode()
    assert not nests_deeper(brackets_in_strings, 1)
    assert not nests_deeper(json.dumps([[1, 2]] * 100_000).encode(), 2)  # wide, not deep


def test_json_in_utf_16_is_held_to_the_same_rules():
    assert load_json(json.dumps({"a": "b\x00"}).encode("utf-16")) == ({"a": "b\x00"}, ["a"])
    with pytest.raises(JsonTooDeep):
        load_json(json.dumps(nested_list(MAX_JSON_DEPTH + 1)).encode("utf-16"))


def test_loading_json_nested_far_past_the_interpreters_recursion_is_too_deep_not_a_crash():
    with pytest.raises(JsonTooDeep):
        load_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError):
        load_json(b"{not json")
    assert load_json(b'{"a": "b\\u0000"}') == ({"a": "b\x00"}, ["a"])


def test_form_fields_holding_a_nul_in_the_name_or_the_value_are_named_once_with_the_prefix():
    pairs = [("q", "Marg\x00"), ("q", "again\x00"), ("pa\x00ge", "1"), ("ok", "fine")]
    assert nul_fields(pairs, "query.") == ["query.q", "query.pa\\0ge"]
    assert nul_fields([("reason", "out of dough")]) == []
