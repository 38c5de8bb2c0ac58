"""Participant codes: format, entropy, normalisation, and what `codes issue` prints."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalsvc.domain.codes import (
    ALPHABET,
    CODE_BITS,
    CODE_LENGTH,
    _fold_code,
    code_hash,
    keyed_hash,
    new_code,
    normalize_code,
    self_generated_code,
)
from tests.conftest import TEST_SECRET

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_codes_carry_at_least_40_bits_in_an_unambiguous_alphabet() -> None:
    assert len(set(ALPHABET)) == 32 and not set("ILOU") & set(ALPHABET)
    assert CODE_BITS == 8 * math.log2(len(ALPHABET)) >= 40
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(CODE.match(code) for code in codes)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("K7QX-94MD", "K7QX94MD"),
        (" k7qx 94md ", "K7QX94MD"),
        ("K7QX94MD", "K7QX94MD"),
        ("OIL0-1111", "01101111"),  # O, I and L read as 0, 1, 1
        ("К7QХ-94МD", "K7QX94MD"),  # Cyrillic К, Х and М from a Russian keyboard
        ("K7QX-94M", None),
        ("K7QX-94MDD", None),
        ("K7QX-94MU", None),  # U is not in the alphabet
        ("", None),
        ("ЖЖЖЖ-ЖЖЖЖ", None),
        # what copy-paste and phone keyboards add
        ("K7QX\u00a094MD", "K7QX94MD"),  # no-break space
        ("K7QX\u200b-94MD", "K7QX94MD"),  # zero-width space
        ("\ufeffK7QX-94MD", "K7QX94MD"),  # byte-order mark
        ("K7QX-94MD\n", "K7QX94MD"),  # trailing newline
        ("K7QX-94MD\r\n", "K7QX94MD"),
        ("Ｋ７ＱＸ－９４ＭＤ", "K7QX94MD"),  # full-width letters, digits and hyphen
        ("K7QX\u201194MD", "K7QX94MD"),  # non-breaking hyphen
        ("K7QX\u2013\u202f94MD", "K7QX94MD"),  # en dash, narrow no-break space
        ("K7QX\u3000ｋ７ｑｘ", "K7QXK7QX"),  # ideographic space, full-width small letters
        ("K7QX-94M\u200d", None),  # still seven characters
    ],
)
def test_normalize_code(typed: str, expected: str | None) -> None:
    assert normalize_code(typed) == expected


INVISIBLE = list(
    "\u00a0\u200b\u200c\u200d\u2060\ufeff\u202f\u3000\t\n\r -\u2010\u2011\u2013\u2212\uff0d"
)


def full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@given(
    code=st.text(alphabet=ALPHABET, min_size=8, max_size=8),
    noise=st.lists(st.tuples(st.integers(0, 8), st.sampled_from(INVISIBLE)), max_size=8),
    wide=st.booleans(),
    lower=st.booleans(),
)
def test_a_code_survives_any_invisible_space_or_width(code, noise, wide, lower) -> None:
    typed = code.lower() if lower else code
    typed = full_width(typed) if wide else typed
    for position, extra in sorted(noise, reverse=True):
        typed = typed[:position] + extra + typed[position:]
    assert normalize_code(typed) == code


@given(
    st.one_of(
        st.text(max_size=12),
        st.text(
            alphabet=ALPHABET + ALPHABET.lower() + "OIL -\u00a0",
            min_size=CODE_LENGTH,
            max_size=CODE_LENGTH,
        ),
        st.text(alphabet=ALPHABET, min_size=CODE_LENGTH - 1, max_size=CODE_LENGTH + 1),
    )
)
def test_the_shortcut_for_canonical_codes_never_changes_the_result(typed: str) -> None:
    assert normalize_code(typed) == _fold_code(typed)


def test_keyed_hash_is_hmac_sha256_of_purpose_and_parts() -> None:
    expected = hmac.new(TEST_SECRET, b"code\x1ftiny\x1fK7QX94MD", hashlib.sha256)
    assert keyed_hash(TEST_SECRET, "code", "tiny", "K7QX94MD") == expected.digest()
    assert code_hash(TEST_SECRET, "tiny", "K7QX94MD") == expected.digest()


def test_code_hash_is_keyed_and_bound_to_the_course() -> None:
    one = code_hash(TEST_SECRET, "tiny", "K7QX94MD")
    assert one == code_hash(TEST_SECRET, "tiny", "K7QX94MD")
    assert one != code_hash(TEST_SECRET, "other", "K7QX94MD")
    assert one != code_hash(b"another-secret-0123456789abcdef0123", "tiny", "K7QX94MD")
    assert b"K7QX94MD" not in one


def test_self_generated_code_folds_case_spaces_and_leading_zeros() -> None:
    questions = ["mother", "birthday"]
    first = self_generated_code({"mother": "М", "birthday": "07"}, questions)
    assert first == self_generated_code({"mother": " м ", "birthday": "7"}, questions)
    assert first != self_generated_code({"mother": "M", "birthday": "7"}, questions)  # Latin M
    assert self_generated_code({"mother": "м"}, questions) is None


@pytest.mark.parametrize(
    "odd",
    ["\U00010a40", "9" * 5000, "٣", "²", "x" * 1000],
    ids=["kharoshthi-digit", "huge", "arabic-digit", "superscript", "long"],
)
def test_self_generated_code_never_raises(odd: str) -> None:
    code = self_generated_code({"mother": odd, "birthday": odd}, ["mother", "birthday"])
    assert code is None or isinstance(code, str)


def run_cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "EVALSVC_DB": str(settings.db_path),
        "EVALSVC_SURVEYS": str(settings.surveys_path),
        "EVALSVC_SECRET": TEST_SECRET.decode(),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-m", "evalsvc.cli", *args], env=env, capture_output=True, text=True
    )


def test_codes_issue_prints_only_codes_and_writes_cards(settings, tmp_path) -> None:
    cards = tmp_path / "cards.html"
    result = run_cli(
        settings,
        "codes",
        "issue",
        "tiny",
        "--count",
        "12",
        "--agency",
        "customs",
        "--out",
        str(cards),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 12 and all(CODE.match(line) for line in lines)
    html = cards.read_text(encoding="utf-8")
    assert all(code in html for code in lines)
    assert "Tiny course" in html and "http://127.0.0.1:8000/c/tiny<" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("codes", "issue", "nope", "--count", "1"), "no course 'nope'"),
        (("codes", "issue", "tiny", "--count", "1", "--agency", "navy"), "unknown agency 'navy'"),
        (("codes", "issue", "tiny-selfgen", "--count", "1"), "self-generated"),
        (("codes", "issue", "tiny", "--count", "0"), "--count must be between"),
    ],
)
def test_codes_issue_refuses_clearly(settings, args, message) -> None:
    result = run_cli(settings, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
