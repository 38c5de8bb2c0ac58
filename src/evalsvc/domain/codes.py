"""Participant codes and keyed hashes: how pre and post pair without identity.

Codes use Crockford's base32 (no I, L, O or U; typed O, I and L are read as
0, 1 and 1, and Cyrillic look-alikes as their Latin twins), eight characters
grouped 4-4, so each code carries 40 random bits.
Only HMACs of codes and tokens are ever stored; the key is the service secret,
and the course id is part of the hashed message, so a code of one course is
simply unknown in another and both cases take the same path.
"""

from __future__ import annotations

import hmac
import secrets
import unicodedata
from collections.abc import Mapping

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
CODE_BITS = CODE_LENGTH * 5
_READ_AS = str.maketrans(
    {
        "O": "0",
        "I": "1",
        "L": "1",
        # Cyrillic letters that look like the Latin ones on a card: participants in
        # Kazakhstan often type with a Russian or Kazakh keyboard layout
        "А": "A",
        "В": "B",
        "С": "C",
        "Е": "E",
        "Н": "H",
        "К": "K",
        "М": "M",
        "О": "0",
        "Р": "P",
        "Т": "T",
        "Х": "X",
        "У": "Y",
        "З": "3",
        "Ѕ": "S",
    }
)


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


_SEPARATOR_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Pd"})
"""Spaces of every width, line breaks, control and zero-width characters, dashes:
what copy-paste and phone keyboards put around or inside a code."""


_CANONICAL = frozenset(ALPHABET)


def normalize_code(typed: str) -> str | None:
    """The canonical 8 characters of a typed code, or None if it cannot be one.

    A code typed exactly as issued (the common case, and every API client's) is
    already canonical: it is returned as it is, as the full folding would return it.
    Otherwise NFKC first turns full-width letters and digits (ＡＢ１２) into plain ones; then
    every space-like, invisible or dash character goes, whatever its width.
    """
    if len(typed) == CODE_LENGTH and _CANONICAL.issuperset(typed):
        return typed
    return _fold_code(typed)


def _fold_code(typed: str) -> str | None:
    """normalize_code's full folding, for any typed text."""
    folded = unicodedata.normalize("NFKC", typed[:256])
    kept = (
        ch
        for ch in folded
        if unicodedata.category(ch) not in _SEPARATOR_CATEGORIES and ch != "\u2212"  # minus
    )
    cleaned = "".join(kept).upper().translate(_READ_AS)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def keyed_hash(secret: bytes, purpose: str, *parts: str) -> bytes:
    """HMAC-SHA256 over purpose and parts; unit separators keep parts unambiguous."""
    message = "\x1f".join((purpose, *parts)).encode()
    return hmac.digest(secret, message, "sha256")  # one call into OpenSSL, as hmac.new


def code_hash(secret: bytes, course_id: str, normalized_code: str) -> bytes:
    return keyed_hash(secret, "code", course_id, normalized_code)


def self_generated_code(answers: Mapping[str, str], question_ids: list[str]) -> str | None:
    """The code a participant derives from stable personal answers, normalised.

    Case, accents, spaces and leading zeros are folded so that "м", "М" and " M "
    (Cyrillic and Latin look-alikes stay distinct) give the same code each time.
    """
    parts = []
    for question_id in question_ids:
        value = answers.get(question_id, "")
        folded = unicodedata.normalize("NFKD", value.strip().casefold())
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch) and not ch.isspace())
        if folded.isascii() and folded.isdecimal() and len(folded) <= 10:
            folded = str(int(folded))
        if len(folded) > 40:
            return None
        if not folded:
            return None
        parts.append(folded)
    return "|".join(parts)


def new_token() -> str:
    return "evs_" + secrets.token_urlsafe(32)


def token_hash(secret: bytes, token: str) -> bytes:
    return keyed_hash(secret, "token", token)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def session_hash(secret: bytes, session_id: str) -> bytes:
    return keyed_hash(secret, "session", session_id)


def key_fingerprint(secret: bytes) -> bytes:
    """A keyed hash of a constant: tells whether two keys are the same, reveals neither."""
    return keyed_hash(secret, "key-fingerprint", "evalsvc")
