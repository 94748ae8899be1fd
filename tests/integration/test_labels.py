"""Every code a user can see has a label in English and in Russian (frontoffice.labels)."""

from __future__ import annotations

import typing

import pytest
from flask_babel import force_locale

import nomenclature.distribution
from backoffice import antifraud, bonuses, sla
from couriers.models import DELIVERY_OUTCOMES, VEHICLES
from couriers.services.pool import FAIL_REASONS, PROOF_KINDS
from couriers.services.register import DeviceKind
from couriers.services.tracking import CourierState
from frontoffice import audit
from frontoffice.models import Role
from monitor.loyalty import SEGMENTS
from monitor.schemas import PerformanceQuery
from nomenclature.schemas.distribution import ConsideredOut
from nomenclature.taxes import TaxSystem, VatRate
from notifications import rules as notification_rules
from notifications.models import MessageStatus
from orders.services import ORDER_KINDS, PAYMENT_KINDS
from orders.states import OrderStatus
from telephony import calls


def literal_values(model, field: str) -> tuple[str, ...]:
    """The values a pydantic field's ``Literal[...]`` type allows."""
    return typing.get_args(model.model_fields[field].annotation)


#: Where the domain defines each family of codes users see: the label table must cover all of them.
DOMAIN_CODES: dict[str, set[str]] = {
    "user_role": set(Role),
    "audit_action": set(audit.Action),
    "audit_entity": set(audit.Entity),
    "order_status": set(OrderStatus),
    "order_kind": {*ORDER_KINDS, *nomenclature.distribution.ORDER_KINDS},
    "payment_kind": {*PAYMENT_KINDS, *nomenclature.distribution.PAYMENT_KINDS},
    "vat_rate": set(VatRate),
    "tax_system": set(TaxSystem),
    "distribution_verdict": set(literal_values(ConsideredOut, "verdict")),
    "ticket_kind": set(sla.TicketKind),
    "ticket_state": set(sla.TicketStatus),
    "antifraud_kind": set(antifraud.KINDS),
    "antifraud_action": set(antifraud.ACTIONS),
    "blacklist_kind": set(antifraud.BLACKLIST_KINDS),
    "bonus_operation": set(bonuses.Operation),
    "bonus_method": set(bonuses.METHODS),
    "courier_state": set(CourierState),
    "device_kind": set(DeviceKind),
    "vehicle": set(VEHICLES),
    "proof_kind": set(PROOF_KINDS),
    "delivery_outcome": set(DELIVERY_OUTCOMES),
    "fail_reason": set(FAIL_REASONS),
    "loyalty_segment": set(SEGMENTS),
    "report_group": set(literal_values(PerformanceQuery, "group")),
    "notification_event": set(notification_rules.NotificationEvent),
    "notification_status": set(MessageStatus.ALL),
    "notification_channel": {"sms", "telegram"},
    "notification_skip_reason": {"no_consent", "no_channel"},
    "call_status": set(calls.STATUSES),
    "call_direction": set(calls.DIRECTIONS),
}


@pytest.fixture
def labels(sqlite_app):
    with sqlite_app.test_request_context():
        yield sqlite_app.extensions["frontoffice"].labels


def test_every_family_of_codes_the_domain_defines_is_declared_and_nothing_else(labels):
    assert labels.families() == sorted(DOMAIN_CODES)


@pytest.mark.parametrize("family", sorted(DOMAIN_CODES))
def test_every_code_of_the_family_has_a_label(labels, family):
    vocabulary = labels.vocabulary(family)
    assert set(vocabulary.codes) == {str(c) for c in DOMAIN_CODES[family]}
    assert vocabulary.unlabelled() == []


@pytest.mark.parametrize("family", sorted(DOMAIN_CODES))
def test_every_label_reads_as_words_in_english_and_is_translated_into_russian(labels, family):
    for code in labels.vocabulary(family).codes:
        english = labels.text(family, code, locale="en")
        with force_locale("ru"):
            russian = labels.text(family, code)
        assert english and english != code, f"{family}.{code} shows the raw code in English"
        assert russian != english, f"{family}.{code} ({english!r}) has no Russian translation"


def test_a_word_with_two_meanings_is_translated_by_its_meaning(labels):
    with force_locale("ru"):
        assert labels.text("courier_state", "free") == "свободен"
        assert labels.text("ticket_state", "open") == "Открыто"
        assert labels.text("order_status", "in_delivery") == "В пути"
        assert labels.text("payment_kind", "card_on_delivery") == "Картой курьеру"
        assert labels.text("vat_rate", "vat22") == "НДС 22 %"
        assert labels.text("vat_rate", "none") == "Без НДС"


def test_every_choice_of_an_antifraud_parameter_is_named_by_a_declared_family(labels):
    for kind in antifraud.KINDS.values():
        for param in kind.params:
            if param.choices:
                family = labels.vocabulary(param.vocabulary)
                assert set(param.choices) <= set(family.codes), f"{kind.code}.{param.name}"


def test_a_label_written_as_a_constant_in_a_template_follows_each_render_s_language(sqlite_app):
    # Jinja folds a filter over constants into the compiled template unless the filter needs the
    # context: the first render's language would then stay for everyone after it.
    template = sqlite_app.jinja_env.from_string('{{ "free"|label("courier_state") }}')
    shown = {}
    for language in ("en", "ru", "en"):
        with sqlite_app.test_request_context(), force_locale(language):
            shown.setdefault(language, set()).add(template.render())
    assert shown == {"en": {"Free"}, "ru": {"свободен"}}
