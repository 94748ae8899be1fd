"""Phone numbers: whatever the caller pasted becomes E.164, or a clear refusal."""

from __future__ import annotations

import functools

import phonenumbers


class InvalidPhone(ValueError):
    """The text is not a valid phone number."""


def normalize_phone(raw: str, region: str = "RU") -> str:
    """``"8 (912) 345-67-89"``, ``"+7 912 3456789"``, ``"9123456789"`` → ``"+79123456789"``."""
    return _normalized(raw, region)


# Every order and caller lookup normalises a phone; parsing one costs ~0.1 ms and the same callers
# come back. Only valid numbers are kept (a refusal is an exception, never cached).
@functools.lru_cache(maxsize=8192)
def _normalized(raw: str, region: str) -> str:
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("The phone number is empty.")
    if len(text) > 40:
        raise InvalidPhone("The phone number is too long.")
    digits = "".join(ch for ch in text if ch.isdigit())
    # Russian habit: a leading 8 means the trunk prefix (+7) on an 11-digit number.
    if region == "RU" and not text.startswith("+") and len(digits) == 11 and digits[0] in "78":
        text = "+7" + digits[1:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{raw!r} is not a phone number: {exc}.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{raw!r} is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """E.164 to the international display form (``+7 912 345-67-89``)."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164
