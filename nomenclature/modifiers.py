"""Modifiers of an order line: which options a client chose, checked against min/max (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class OptionView:
    """An option of a modifier group: ``35 cm`` (+150.00), ``extra cheese`` (+50.00)."""

    id: int
    name: str
    price_delta: int
    active: bool = True


@dataclass(frozen=True)
class ModifierGroupView:
    """A modifier group offered with an item, with how many options may be chosen."""

    id: int
    name: str
    min_choices: int
    max_choices: int
    options: tuple[OptionView, ...]


@dataclass(frozen=True)
class ChosenModifier:
    """An option chosen on a line, as stored on the line."""

    id: int
    name: str
    group_id: int
    group_name: str
    price_delta: int

    def as_dict(self) -> dict:
        """The JSON stored on the order line."""
        return {
            "id": self.id,
            "name": self.name,
            "group_id": self.group_id,
            "group": self.group_name,
            "price_delta": self.price_delta,
        }


def choose(
    item_name: str, groups: Sequence[ModifierGroupView], chosen_ids: Sequence[int]
) -> tuple[list[ChosenModifier], list[str]]:
    """The chosen options in the order given, and every problem with the choice."""
    offered: dict[int, tuple[ModifierGroupView, OptionView]] = {
        o.id: (g, o) for g in groups for o in g.options
    }
    problems: list[str] = []
    chosen: list[ChosenModifier] = []
    seen: set[int] = set()
    counts: dict[int, int] = {g.id: 0 for g in groups}
    for option_id in chosen_ids:
        if option_id in seen:
            problems.append(f"option {option_id} is chosen twice")
            continue
        seen.add(option_id)
        found = offered.get(option_id)
        if found is None:
            problems.append(f"option {option_id} is not offered with {item_name}")
            continue
        group, option = found
        if not option.active:
            problems.append(f"{option.name} ({group.name}) is not available now")
            continue
        counts[group.id] += 1
        chosen.append(ChosenModifier(option.id, option.name, group.id, group.name, option.price_delta))
    for g in groups:
        n = counts[g.id]
        if n < g.min_choices:
            problems.append(f"choose at least {g.min_choices} of {g.name} for {item_name}")
        elif n > g.max_choices:
            problems.append(f"choose at most {g.max_choices} of {g.name} for {item_name}")
    return chosen, problems


def line_label(item_name: str, chosen: Sequence[ChosenModifier]) -> str:
    """The name printed on the receipt: ``Pizza Margherita 30 cm (35 cm, extra cheese)``."""
    if not chosen:
        return item_name
    return f"{item_name} ({', '.join(c.name for c in chosen)})"
