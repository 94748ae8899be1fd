"""What users read for the audit log's codes: its actions and the kinds of record (see
frontoffice.labels; declared by :func:`frontoffice.audit.register`)."""

from __future__ import annotations

from flask_babel import lazy_pgettext

from frontoffice.audit.services import Action, Entity
from frontoffice.labels import Vocabulary

AUDIT_ACTION = Vocabulary(
    "audit_action",
    Action,
    {
        Action.CREATE: lazy_pgettext("audit action", "Created"),
        Action.UPDATE: lazy_pgettext("audit action", "Changed"),
        Action.DELETE: lazy_pgettext("audit action", "Deleted"),
        Action.REVOKE: lazy_pgettext("audit action", "Revoked"),
        Action.RESET_PASSWORD: lazy_pgettext("audit action", "Password reset"),
        Action.IMPORT: lazy_pgettext("audit action", "Imported"),
    },
)

AUDIT_ENTITY = Vocabulary(
    "audit_entity",
    Entity,
    {
        Entity.ITEM: lazy_pgettext("audited record", "Item"),
        Entity.ORGANIZATION: lazy_pgettext("audited record", "Organization"),
        Entity.DISTRIBUTION_CONDITION: lazy_pgettext("audited record", "Distribution condition"),
        Entity.BRANCH: lazy_pgettext("audited record", "Branch"),
        Entity.ZONE: lazy_pgettext("audited record", "Delivery zone"),
        Entity.USER: lazy_pgettext("audited record", "User"),
        Entity.TOKEN: lazy_pgettext("audited record", "API token"),
        Entity.DEVICE: lazy_pgettext("audited record", "Device"),
        Entity.ANTIFRAUD_RULE: lazy_pgettext("audited record", "Antifraud rule"),
        Entity.BLACKLIST_ENTRY: lazy_pgettext("audited record", "Blacklist entry"),
        Entity.BONUS_RULE: lazy_pgettext("audited record", "Bonus rule"),
        Entity.NOTIFICATION_TEMPLATE: lazy_pgettext("audited record", "Message template"),
        Entity.OPERATOR_EXTENSION: lazy_pgettext("audited record", "Telephone extension"),
        Entity.PHONE_LINE: lazy_pgettext("audited record", "Telephone line"),
    },
)
