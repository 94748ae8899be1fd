"""What users read for the monitor's codes: loyalty segments and the groupings of the performance
report (see frontoffice.labels; declared in wiring)."""

from __future__ import annotations

from flask_babel import lazy_pgettext

from frontoffice.labels import Vocabulary
from monitor.loyalty import SEGMENTS

LOYALTY_SEGMENT = Vocabulary(
    "loyalty_segment",
    SEGMENTS,
    {
        "champions": lazy_pgettext("loyalty segment", "Champions"),
        "loyal": lazy_pgettext("loyalty segment", "Loyal"),
        "new": lazy_pgettext("loyalty segment", "New"),
        "potential": lazy_pgettext("loyalty segment", "Potential"),
        "cannot_lose": lazy_pgettext("loyalty segment", "Cannot lose"),
        "at_risk": lazy_pgettext("loyalty segment", "At risk"),
        "hibernating": lazy_pgettext("loyalty segment", "Hibernating"),
        "lost": lazy_pgettext("loyalty segment", "Lost"),
    },
)

REPORT_GROUP = Vocabulary(
    "report_group",
    ("day", "branch", "courier", "zone"),  # the groupings PerformanceQuery allows, as the page lists them
    {
        "courier": lazy_pgettext("report grouping", "Courier"),
        "zone": lazy_pgettext("report grouping", "Zone"),
        "branch": lazy_pgettext("report grouping", "Branch"),
        "day": lazy_pgettext("report grouping", "Day"),
    },
)

VOCABULARIES = (LOYALTY_SEGMENT, REPORT_GROUP)
