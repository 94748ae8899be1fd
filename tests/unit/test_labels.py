"""The label table: one vocabulary per family, a label per code, the code itself when one is missing."""

from __future__ import annotations

import pytest

from frontoffice.labels import Labels, Vocabulary

FRUIT = Vocabulary("fruit", ("apple", "pear", "plum"), {"apple": "Apple", "pear": "Pear"})


def test_a_family_is_declared_once():
    labels = Labels()
    labels.declare(FRUIT)
    with pytest.raises(ValueError, match="declared twice"):
        labels.declare(Vocabulary("fruit", ("apple",), {"apple": "Apple"}))


def test_a_vocabulary_refuses_labels_for_codes_it_does_not_define():
    with pytest.raises(ValueError, match="kiwi"):
        Vocabulary("fruit", ("apple",), {"apple": "Apple", "kiwi": "Kiwi"})


def test_a_vocabulary_knows_which_codes_lack_a_label():
    assert FRUIT.unlabelled() == ["plum"]


def test_a_code_reads_as_its_label_and_an_unlabelled_one_as_itself():
    labels = Labels()
    labels.declare(FRUIT)
    assert [labels.text("fruit", c) for c in ("apple", "plum", None, "")] == ["Apple", "plum", "", ""]


def test_an_undeclared_family_is_an_error_naming_the_declared_ones():
    labels = Labels()
    labels.declare(FRUIT)
    with pytest.raises(KeyError, match="declared: fruit"):
        labels.text("colour", "red")


def test_scripts_get_the_table_of_the_families_they_show_in_the_codes_order():
    labels = Labels()
    labels.declare(FRUIT)
    assert labels.choices("fruit") == [("apple", "Apple"), ("pear", "Pear"), ("plum", "plum")]
    assert labels.table("fruit") == {"fruit": {"apple": "Apple", "pear": "Pear", "plum": "plum"}}
