"""Input checks that collect every problem before refusing, each with its field path."""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from domain.errors import DomainError, ErrorCode, Problem

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ().\-]{5,40}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Invisible characters that reorder or hide text (bidi controls, zero-width space, word
# joiners, BOM): they spoof what a reader sees. ZWNJ/ZWJ (U+200C/D) stay: scripts such as
# Persian and Devanagari, and emoji sequences, need them.
_INVISIBLE_FORMAT = re.compile(
    "[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# Allowed only where a value may span lines.
_LAYOUT = frozenset("\n\r\t")
# Control characters, lone surrogates, and the Unicode line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_MAX_AMOUNT = Decimal("999999999999.99")

Field = tuple[str, ...]


def field_path(name: str) -> Field:
    return ("input", name)


class Checks:
    """Accumulates problems; `raise_if_any` refuses the request with all of them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, field: Field, message: str) -> None:
        self.problems.append(Problem(ErrorCode.VALIDATION_FAILED, message, field))

    def raise_if_any(self) -> None:
        if self.problems:
            raise DomainError(self.problems)

    def text(
        self,
        value: str | None,
        field: Field,
        *,
        max_length: int,
        required: bool = False,
        multiline: bool = False,
    ) -> str | None:
        """Strip surrounding space; an empty optional value becomes None."""
        if value is None:
            if required:
                self.fail(field, "This field is required.")
            return None
        cleaned = value.strip()
        if not cleaned:
            if required:
                self.fail(field, "This field must not be empty.")
            return None
        if len(cleaned) > max_length:
            self.fail(field, f"At most {max_length} characters are allowed ({len(cleaned)} given).")
        elif problem := unwanted_character(cleaned, multiline=multiline):
            self.fail(field, problem)
        elif required and not has_visible_character(cleaned):
            self.fail(field, "This field must contain at least one visible character.")
        return cleaned

    def email(self, value: str | None, field: Field) -> str | None:
        failures = len(self.problems)
        cleaned = self.text(value, field, max_length=254)
        # A value already refused (too long, control characters) is not judged twice.
        if cleaned is not None and len(self.problems) == failures and not _EMAIL.match(cleaned):
            self.fail(field, "Enter a valid e-mail address, like name@example.com.")
        return cleaned.lower() if cleaned else cleaned

    def phone(self, value: str | None, field: Field) -> str | None:
        failures = len(self.problems)
        cleaned = self.text(value, field, max_length=40)
        if cleaned is not None and len(self.problems) == failures and not _PHONE.match(cleaned):
            self.fail(field, "Enter a phone number of digits, spaces, +, -, ( ) or dots.")
        return cleaned

    def currency(self, value: str | None, field: Field) -> str | None:
        failures = len(self.problems)
        cleaned = self.text(value, field, max_length=3)
        if (
            cleaned is not None
            and len(self.problems) == failures
            and not _CURRENCY.match(cleaned.upper())
        ):
            self.fail(field, "Use a three-letter ISO 4217 currency code, like EUR.")
        return cleaned.upper() if cleaned else cleaned

    def amount(self, value: Decimal | None, field: Field) -> Decimal | None:
        if value is None:
            return None
        try:
            quantized = value.quantize(Decimal("0.01"))
        except InvalidOperation:
            self.fail(field, "The amount must be a finite number.")
            return None
        if not value.is_finite() or quantized != value:
            self.fail(field, "The amount must be a finite number with at most 2 decimals.")
        elif value <= 0:
            self.fail(field, "The amount must be greater than 0.")
        elif value > _MAX_AMOUNT:
            self.fail(field, f"The amount must not exceed {_MAX_AMOUNT}.")
        return quantized


def unwanted_character(value: str, *, multiline: bool) -> str | None:
    """Why `value` cannot be stored as text, naming the first offending character; None if fine.

    Refused: control characters (tab and line breaks only where `multiline`), lone
    surrogates, line/paragraph separators, and invisible bidi or zero-width formatting.
    """
    for char in value:
        if char in _LAYOUT:
            refusal = None if multiline else "Line breaks and tabs are not allowed in this field"
        elif unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            refusal = "Control characters are not allowed"
        elif _INVISIBLE_FORMAT.match(char):
            refusal = "Invisible formatting characters are not allowed"
        else:
            continue
        if refusal:
            return f"{refusal} (found U+{ord(char):04X})."
    return None


def has_visible_character(value: str) -> bool:
    """True when some character would show: not a space, separator, control or format mark."""
    return any(unicodedata.category(char)[0] not in "ZC" for char in value)
