"""The one table of what users read for a code: order statuses, kinds of payment, ticket states,
VAT rates, courier states …

Codes (``in_delivery``, ``card_on_delivery``, ``vat22``) are for programs; people read labels.
The package that owns a family of codes declares it once as a :class:`Vocabulary` — every code
it defines and a lazily translated label for each, written with ``lazy_pgettext(context, text)``
so that a word shared by two meanings ("free" courier, "free" delivery) is translated apart —
and hands it to ``kernel.labels.declare(...)`` in its wiring. Pages read the table, nothing else:

- templates: ``{{ order.status|label("order_status") }}`` and
  ``{% for code, text in label_choices("ticket_kind") %}``;
- scripts: the page's view puts ``labels.table("order_status", …)`` into its JSON config, and
  ``label(family, code)`` of ``frontoffice/shared.js`` reads it (scripts hold no text);
- the JSON API keeps codes, and where it names one in words it uses the English label
  (``text(family, code, locale="en")``).

``tests/integration/test_labels.py`` fails when a code the domain defines has no label, or a
label has no Russian translation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask_babel import force_locale
from jinja2 import pass_context
from jinja2.runtime import Context


@dataclass(frozen=True)
class Vocabulary:
    """A family of codes and their labels, declared by the package that owns the codes."""

    #: The family's name as pages ask for it: ``order_status``, ``vat_rate`` …
    family: str
    #: Every code of the family, in the order pages list them.
    codes: tuple[str, ...]
    #: The label of each code: a lazy (translated on use) string, or anything ``str()`` reads.
    labels: Mapping[str, Any]

    def __init__(self, family: str, codes: Iterable[str], labels: Mapping[str, Any]):
        object.__setattr__(self, "family", family)
        object.__setattr__(self, "codes", tuple(str(c) for c in codes))
        object.__setattr__(self, "labels", {str(code): text for code, text in labels.items()})
        strangers = sorted(set(self.labels) - set(self.codes))
        if strangers:
            raise ValueError(f"{family}: labels for codes it does not define: {', '.join(strangers)}")

    def unlabelled(self) -> list[str]:
        """The codes that have no label."""
        return [c for c in self.codes if c not in self.labels]


@dataclass
class Labels:
    """Every vocabulary the packages declared, by family."""

    _vocabularies: dict[str, Vocabulary] = field(default_factory=dict)

    def declare(self, *vocabularies: Vocabulary) -> None:
        """Add vocabularies; a family is declared once, by its owner."""
        for vocabulary in vocabularies:
            if vocabulary.family in self._vocabularies:
                raise ValueError(f"the label family {vocabulary.family!r} is declared twice")
            self._vocabularies[vocabulary.family] = vocabulary

    def families(self) -> list[str]:
        """The declared families, sorted."""
        return sorted(self._vocabularies)

    def vocabulary(self, family: str) -> Vocabulary:
        """The vocabulary of ``family``; ``KeyError`` naming the declared ones otherwise."""
        try:
            return self._vocabularies[family]
        except KeyError:
            raise KeyError(
                f"no label family {family!r}; declared: {', '.join(self.families()) or 'none'}"
            ) from None

    def text(self, family: str, code: object, locale: str | None = None) -> str:
        """The label of ``code`` in the current locale (or ``locale``); the code itself when it
        has none, and an empty string for no code (None or empty)."""
        if code is None or code == "":
            return ""
        label = self.vocabulary(family).labels.get(str(code))
        if label is None:
            return str(code)
        if locale is None:
            return str(label)
        with force_locale(locale):
            return str(label)

    def choices(self, family: str) -> list[tuple[str, str]]:
        """``(code, label)`` of every code of ``family`` in its order, for a select or checkboxes."""
        return [(code, self.text(family, code)) for code in self.vocabulary(family).codes]

    def table(self, *families: str) -> dict[str, dict[str, str]]:
        """The labels of ``families`` in the current locale, as JSON for a page's script."""
        return {f: dict(self.choices(f)) for f in families}


def install_label_filters(app: Flask, labels: Labels) -> None:
    """Give templates ``value|label(family)`` and ``label_choices(family)``."""

    # pass_context keeps Jinja from folding ``"free"|label(...)`` into the compiled template in the
    # locale of its first render: a label is looked up on every render, in that request's locale.
    @pass_context
    def label(_context: Context, code: object, family: str) -> str:
        return labels.text(family, code)

    app.add_template_filter(label, "label")
    app.add_template_global(labels.choices, "label_choices")
