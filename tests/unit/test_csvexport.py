"""The kernel's CSV writer: Excel-friendly encoding and separator, no formulas smuggled in cells."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from frontoffice.csvexport import BOM, csv_text, delimiter_for, neutralise


def test_formula_like_text_is_neutralised_but_numbers_stay_numbers():
    for cell in ('=HYPERLINK("x")', "+7 cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(cell) == "'" + cell
    for cell in ("-12", "-12.50", "+7", "-0,5", "Alla", "", "1=1"):
        assert neutralise(cell) == cell
    assert neutralise(-3) == -3 and neutralise(Decimal("-1.20")) == Decimal("-1.20")
    assert neutralise(None) == ""


def test_the_separator_follows_the_locale():
    assert delimiter_for("ru") == ";" and delimiter_for("ru_RU") == ";"
    assert delimiter_for("en") == "," and delimiter_for(None) == ","


def test_text_starts_with_a_bom_and_round_trips_cyrillic():
    text = csv_text(["имя", "сумма"], [["Алла; Петровна", "-5"]], delimiter=";")
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.encode("utf-8").decode("utf-8-sig")), delimiter=";"))
    assert rows == [["имя", "сумма"], ["Алла; Петровна", "-5"]]
