"""Declared extension points: one provider per slot, named and explicitly ordered chains."""

from __future__ import annotations

import pytest

from frontoffice.extensions import Chain, ExtensionError, Extensions, Slot

GREETER: Slot[str] = Slot("test.greeter", "Says hello.")
LIMITS: Slot[dict] = Slot("test.limits", "Optional limits.", default=dict)
STEPS: Chain[str] = Chain("test.steps", "Steps run in order.")


def test_a_provided_slot_reads_back_what_was_provided():
    ext = Extensions()
    ext.provide(GREETER, "hello")
    assert ext.get(GREETER) == "hello"
    assert ext.find(GREETER) == "hello"
    assert ext.provided(GREETER)


def test_a_slot_cannot_be_provided_twice():
    ext = Extensions()
    ext.provide(GREETER, "hello")
    with pytest.raises(ExtensionError, match="already provided"):
        ext.provide(GREETER, "bonjour")


def test_reading_an_unprovided_slot_names_it_and_its_contract():
    ext = Extensions()
    with pytest.raises(ExtensionError, match="test.greeter: Says hello."):
        ext.get(GREETER)
    assert ext.find(GREETER) is None


def test_a_slot_with_a_default_makes_it_once():
    ext = Extensions()
    first = ext.get(LIMITS)
    assert first == {} and ext.get(LIMITS) is first


def test_chain_contributions_come_back_by_order_then_name_not_by_registration():
    ext = Extensions()
    ext.add(STEPS, "screen", "antifraud", order=30)
    ext.add(STEPS, "locate", "zone", order=20)
    ext.add(STEPS, "defaults", "organization", order=10)
    ext.add(STEPS, "also_locate", "branch", order=20)
    assert ext.all(STEPS) == ["organization", "branch", "zone", "antifraud"]
    assert [c.name for c in ext.contributions(STEPS)] == ["defaults", "also_locate", "locate", "screen"]


def test_a_chain_refuses_two_contributions_with_one_name():
    ext = Extensions()
    ext.add(STEPS, "screen", "a", order=1)
    with pytest.raises(ExtensionError, match="already has a contribution named 'screen'"):
        ext.add(STEPS, "screen", "b", order=2)


def test_two_declarations_may_not_share_a_name():
    ext = Extensions()
    ext.provide(GREETER, "hello")
    with pytest.raises(ExtensionError, match="two extension points"):
        ext.provide(Slot("test.greeter", "another"), "hi")


def test_the_table_lists_who_provides_what():
    ext = Extensions()
    ext.provide(GREETER, "hello")
    ext.add(STEPS, "screen", str.upper, order=30)
    rows = ext.table()
    assert ("test.greeter", "slot", "tests", "'hello'") in rows
    assert ("test.steps", "chain #30", "tests", "screen: builtins.str.upper") in rows
