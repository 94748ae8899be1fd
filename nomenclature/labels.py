"""What users read for the nomenclature's codes: VAT rates, tax systems and the verdicts of the
distribution's explanation (see frontoffice.labels; declared in wiring)."""

from __future__ import annotations

import typing

from flask_babel import lazy_pgettext

from frontoffice.labels import Vocabulary
from nomenclature.schemas.distribution import ConsideredOut
from nomenclature.taxes import TaxSystem, VatRate

VAT_RATE = Vocabulary(
    "vat_rate",
    VatRate,
    {
        VatRate.VAT22: lazy_pgettext("VAT rate", "VAT 22 %"),
        VatRate.VAT20: lazy_pgettext("VAT rate", "VAT 20 %"),
        VatRate.VAT10: lazy_pgettext("VAT rate", "VAT 10 %"),
        VatRate.VAT7: lazy_pgettext("VAT rate", "VAT 7 %"),
        VatRate.VAT5: lazy_pgettext("VAT rate", "VAT 5 %"),
        VatRate.VAT0: lazy_pgettext("VAT rate", "VAT 0 %"),
        VatRate.NONE: lazy_pgettext("VAT rate", "No VAT"),
    },
)

TAX_SYSTEM = Vocabulary(
    "tax_system",
    TaxSystem,
    {
        TaxSystem.OSN: lazy_pgettext("tax system", "OSN (general)"),
        TaxSystem.USN_INCOME: lazy_pgettext("tax system", "USN income (simplified)"),
        TaxSystem.USN_INCOME_EXPENSE: lazy_pgettext("tax system", "USN income minus expenses (simplified)"),
        TaxSystem.ESHN: lazy_pgettext("tax system", "ESHN (agricultural)"),
        TaxSystem.PSN: lazy_pgettext("tax system", "PSN (patent)"),
    },
)

DISTRIBUTION_VERDICT = Vocabulary(
    "distribution_verdict",
    typing.get_args(ConsideredOut.model_fields["verdict"].annotation),
    {
        "won": lazy_pgettext("distribution verdict", "Won"),
        "lost": lazy_pgettext("distribution verdict", "Lost"),
        "not applicable": lazy_pgettext("distribution verdict", "Not applicable"),
    },
)

VOCABULARIES = (VAT_RATE, TAX_SYSTEM, DISTRIBUTION_VERDICT)
