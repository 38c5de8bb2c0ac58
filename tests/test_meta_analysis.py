"""The random-effects meta-analysis against R's metafor, and rules it keeps for any input."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalsvc.domain.meta_analysis import meta_analysis
from evalsvc.domain.stats import wilson_interval

CASES = json.loads(
    (Path(__file__).parent / "data" / "reference" / "meta_cases.json").read_text(encoding="utf-8")
)
TOLERANCE = 1e-6
"""meta_cases.json: "Tolerance: 1e-6 relative"."""
EXAMPLES = 2000 if os.environ.get("EVALSVC_SLOW") == "1" else 150
FIELD = {"I2": "i2", "H2": "h2", "Q": "q", "Q_df": "q_df", "Q_pvalue": "q_pvalue"}


def close(got: float | None, want: float) -> bool:
    assert got is not None
    if want == 0:
        return abs(got) <= 1e-9
    return abs(got - want) <= TOLERANCE * abs(want)


@pytest.mark.parametrize("case", CASES["meta_analysis"], ids=lambda c: c["name"])
@pytest.mark.parametrize("method", ["REML", "DL"])
def test_random_effects_match_metafor(case: dict, method: str) -> None:
    result = meta_analysis(case["yi"], case["vi"], method)  # type: ignore[arg-type]
    assert result.method == method and result.k == len(case["yi"])
    for name, want in case[method].items():
        got = getattr(result, FIELD.get(name, name))
        assert close(got, want), (name, got, want)


@pytest.mark.parametrize("case", CASES["meta_analysis"], ids=lambda c: c["name"])
def test_fixed_effect_matches_metafor(case: dict) -> None:
    result = meta_analysis(case["yi"], case["vi"])
    for name, want in case["FE"].items():
        assert close(getattr(result, f"fe_{name}"), want), name


@pytest.mark.parametrize("case", CASES["wilson"], ids=lambda c: f"{c['x']}of{c['n']}")
def test_wilson_interval_matches_prop_test(case: dict) -> None:
    low, high = wilson_interval(case["x"], case["n"]) or (None, None)
    assert close(low, case["low"]) and close(high, case["high"])


def test_one_course_has_no_heterogeneity_and_no_prediction_interval() -> None:
    result = meta_analysis([12.0], [4.0])
    assert result.estimate == 12.0 and result.se == 2.0
    assert result.tau2 is None and result.i2 is None and result.pi_low is None
    assert result.notes


def test_no_course_and_bad_variances() -> None:
    assert meta_analysis([], []).estimate is None
    with pytest.raises(ValueError):
        meta_analysis([1.0, 2.0], [1.0, 0.0])
    with pytest.raises(ValueError):
        meta_analysis([1.0, math.nan], [1.0, 1.0])


effects = st.lists(
    st.tuples(
        st.floats(-50, 50, allow_nan=False),
        st.floats(0.05, 40, allow_nan=False),
    ),
    min_size=2,
    max_size=12,
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(effects, st.sampled_from(["REML", "DL"]))
def test_rules_every_meta_analysis_keeps(pairs: list[tuple[float, float]], method: str) -> None:
    y = [a for a, _ in pairs]
    v = [b for _, b in pairs]
    result = meta_analysis(y, v, method)  # type: ignore[arg-type]
    assert result.estimate is not None and result.tau2 is not None
    assert result.ci_low is not None and result.ci_high is not None
    assert result.pi_low is not None and result.pi_high is not None
    assert result.i2 is not None and result.h2 is not None
    slack = 1e-9 * (1 + max(abs(x) for x in y))
    # a weighted mean of the effects, inside its intervals
    assert min(y) - slack <= result.estimate <= max(y) + slack
    assert result.ci_low <= result.estimate <= result.ci_high
    assert result.pi_low <= result.ci_low + slack and result.ci_high <= result.pi_high + slack
    assert result.tau2 >= 0 and 0 <= result.i2 <= 100 and result.h2 >= 1 - 1e-12
    assert math.isclose(sum(result.weights), 1.0, rel_tol=1e-9)
    # the order of the courses does not matter
    turned = meta_analysis(y[::-1], v[::-1], method)  # type: ignore[arg-type]
    assert turned.estimate is not None and turned.tau2 is not None
    assert math.isclose(turned.estimate, result.estimate, rel_tol=1e-7, abs_tol=1e-7)
    assert math.isclose(turned.tau2, result.tau2, rel_tol=1e-6, abs_tol=1e-7)
    # shifting every effect shifts the estimate and leaves tau² as it was
    shifted = meta_analysis([x + 7.5 for x in y], v, method)  # type: ignore[arg-type]
    assert shifted.estimate is not None and shifted.tau2 is not None
    assert math.isclose(shifted.estimate, result.estimate + 7.5, rel_tol=1e-7, abs_tol=1e-6)
    assert math.isclose(shifted.tau2, result.tau2, rel_tol=1e-5, abs_tol=1e-6)
    # Q does not depend on tau², and DL's tau² is zero exactly when Q <= k - 1
    assert result.q is not None and result.q_df == len(y) - 1
    if method == "DL":
        assert (result.tau2 == 0) == (result.q <= len(y) - 1)


@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(st.floats(-30, 30, allow_nan=False), st.lists(st.floats(0.1, 10), min_size=2, max_size=8))
def test_identical_effects_have_no_heterogeneity(effect: float, variances: list[float]) -> None:
    for method in ("REML", "DL"):
        result = meta_analysis([effect] * len(variances), variances, method)  # type: ignore[arg-type]
        assert result.tau2 == 0 and result.i2 == 0
        assert result.estimate is not None
        assert math.isclose(result.estimate, effect, rel_tol=1e-9, abs_tol=1e-9)
