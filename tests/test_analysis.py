"""The analysis core: rows per measure, comparison, breakdown group and skill; attrition;
item analysis; response summaries; Holm; the pass mark; pandas and scipy as oracles.

Cohorts are built through the real path: answers are validated and scored
(`domain.derived.derive`), then `build_cohort` and `analyse` run as the reports do.
"""

from __future__ import annotations

import itertools
import math
import os
import random
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from evalsvc.catalog import load_paths
from evalsvc.domain import stats
from evalsvc.domain.analysis import Analysis, analyse
from evalsvc.domain.answers import validate_answers
from evalsvc.domain.cohort import SubmissionRecord, build_cohort
from evalsvc.domain.derived import derive
from evalsvc.domain.design import analysis_design
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.summary import SummaryRow

SURVEYS = Path(__file__).resolve().parent / "data" / "surveys"
COURSES = load_paths([SURVEYS]).courses
WAVES: Course = COURSES["waves"]
TINY: Course = COURSES["tiny"]
SLOW = os.environ.get("EVALSVC_SLOW") == "1"


# -- building cohorts through validation and scoring ---------------------------------------


def knowledge_answers(level: int) -> dict[str, object]:
    """waves' knowledge answers by level 0..4 (how many items right)."""
    right = {"k1": "b", "k2": "true", "k3": ["a", "c"], "k4": "a"}
    wrong = {"k1": "a", "k2": "false", "k3": ["b"], "k4": "b"}
    return {item: (right if i < level else wrong)[item] for i, item in enumerate(right)}


class Person:
    def __init__(self, number: int, agency: str, **phases: dict[str, object]) -> None:
        self.number = number
        self.agency = agency
        self.phases = phases


def records(course: Course, people: list[Person]) -> list[SubmissionRecord]:
    out = []
    for person in people:
        for phase, answers in person.phases.items():
            validated = validate_answers(course, phase, answers)
            assert validated.ok, validated.errors
            derived = derive(course, phase, validated.answers)
            out.append(
                SubmissionRecord(
                    person.number,
                    person.agency,
                    phase,
                    derived.scores,
                    derived.breakdowns,
                    derived.summarised,
                )
            )
    return out


def run(course: Course, people: list[Person]) -> Analysis:
    design = analysis_design(course)
    return analyse(course, design, build_cohort(course, design, records(course, people)))


def waves_person(
    number: int,
    agency: str,
    *,
    levels: tuple[int | None, ...] = (1, 3, 2),
    sex: str | None = "female",
    role: str | None = "frontline",
    confidence: tuple[int, int] = (3, 6),
    feedback: dict[str, object] | None = None,
) -> Person:
    phases: dict[str, dict[str, object]] = {}
    for phase, level in zip(("pre", "post", "follow_up"), levels, strict=True):
        if level is None:
            continue
        answers: dict[str, object] = {
            **knowledge_answers(level),
            "sa_detect": min(10, confidence[0] + level),
            "sa_coop": min(10, confidence[1] + level),
        }
        if phase == "pre":
            answers.update({k: v for k, v in (("sex", sex), ("role", role)) if v is not None})
        if phase == "post" and feedback:
            answers.update(feedback)
        phases[phase] = answers
    return Person(number, agency, **phases)


def varied_cohort(sizes: dict[str, int], seed: int = 1) -> list[Person]:
    rng = random.Random(seed)
    people = []
    for agency, n in sizes.items():
        for _ in range(n):
            first = rng.randint(0, 2)
            people.append(
                waves_person(
                    len(people) + 1,
                    agency,
                    levels=(first, rng.randint(first, 4), rng.choice((None, first + 1))),
                    sex=rng.choice(("female", "male", "no_answer", None)),
                    role=rng.choice(("frontline", "investigation")),
                    confidence=(rng.randint(0, 4), rng.randint(0, 4)),
                    feedback={
                        "fb_useful": rng.randint(1, 5),
                        "fb_hours": rng.randint(0, 30),
                        "fb_recommend": rng.choice(("true", "false")),
                        "fb_text": rng.choice(("good", "Хорошо", "more cases")),
                    },
                )
            )
    return people


def rows_of(analysis: Analysis, **key: str) -> list[SummaryRow]:
    return [
        r for r in analysis.summary if all(getattr(r, name) == value for name, value in key.items())
    ]


def one(analysis: Analysis, **key: str) -> SummaryRow:
    found = rows_of(analysis, **key)
    assert len(found) == 1, (key, len(found))
    return found[0]


@pytest.fixture(scope="module")
def big() -> Analysis:
    """A cohort large enough that nothing needs to be withheld."""
    return run(WAVES, varied_cohort({"border": 40, "customs": 40, "police": 40}, seed=7))


# -- shape -----------------------------------------------------------------------------------


def test_rows_cover_every_measure_comparison_breakdown_group_and_skill(big: Analysis) -> None:
    design = analysis_design(WAVES)
    assert [m.id for m in design.measures] == ["knowledge", "confidence", "dont_know"]
    assert [c.id for c in design.comparisons] == ["pre_post", "pre_follow_up", "post_follow_up"]
    breakdowns = [("all", ("all",)), *((b.id, b.groups) for b in design.breakdowns)]
    expected = [
        (m.id, c.id, b, g, s)
        for m in design.measures
        for c in design.comparisons
        for b, groups in breakdowns
        for g in groups
        for s in ("detection", "cooperation", "total")
    ]
    actual = [(r.measure, r.comparison, r.breakdown, r.group, r.skill) for r in big.summary]
    assert actual == expected
    assert ("sex", ("female", "male", "no_answer", "not_stated")) in breakdowns
    # the total of a measure and comparison appears once, as the all row
    totals = [r for r in big.summary if r.skill == "total" and r.group == "all"]
    assert len(totals) == 9 and {r.breakdown for r in totals} == {"all"}


def test_row_fields_are_phase_free_and_carry_the_paired_statistics(big: Analysis) -> None:
    fields = set(SummaryRow.__struct_fields__)
    assert set(stats.Paired.__struct_fields__) <= fields
    assert {
        "comparison",
        "from_phase",
        "to_phase",
        "breakdown",
        "group",
        "n_from",
        "n_to",
    } <= fields
    assert not any(name.startswith(("pre_", "post_")) or "_pre" in name for name in fields)
    row = one(big, measure="knowledge", comparison="post_follow_up", breakdown="all", skill="total")
    assert (row.from_phase, row.to_phase) == ("post", "follow_up")
    assert row.withheld == {} and row.n_paired > 30 and row.from_mean is not None


def test_nothing_is_withheld_and_the_plan_is_verified(big: Analysis) -> None:
    assert big.disclosure.verified
    assert big.disclosure.withheld == 0 and big.disclosure.published > 300
    assert all(not r.withheld for r in big.summary)


# -- against pandas and scipy ------------------------------------------------------------------


def test_summary_matches_pandas_and_scipy() -> None:
    people = varied_cohort({"border": 30, "customs": 25, "police": 20}, seed=3)
    analysis = run(WAVES, people)
    frame = pd.DataFrame(
        [
            {
                "person": r.participant,
                "agency": r.agency,
                "phase": r.phase,
                "score": r.scores.knowledge["total"],
            }
            for r in records(WAVES, people)
        ]
    )
    wide = frame.pivot(index=["person", "agency"], columns="phase", values="score").reset_index()
    for comparison, (first, second) in {
        "pre_post": ("pre", "post"),
        "pre_follow_up": ("pre", "follow_up"),
    }.items():
        pairs = wide.dropna(subset=[first, second])
        for agency, group in pairs.groupby("agency"):
            row = one(
                analysis,
                measure="knowledge",
                comparison=comparison,
                breakdown="agency",
                group=agency,
                skill="total",
            )
            oracle = sps.ttest_rel(group[second], group[first])
            assert row.n_paired == len(group)
            assert row.from_mean == pytest.approx(group[first].mean(), rel=1e-12)
            assert row.to_sd == pytest.approx(group[second].std(ddof=1), rel=1e-9)
            assert row.t_statistic == pytest.approx(float(oracle.statistic), rel=1e-9)
            assert row.t_pvalue == pytest.approx(float(oracle.pvalue), rel=1e-9)
            wilcoxon = sps.wilcoxon(group[second] - group[first])
            assert row.wilcoxon_pvalue == pytest.approx(float(wilcoxon.pvalue), rel=1e-9)


def test_group_comparison_uses_the_shown_groups(big: Analysis) -> None:
    comparison = next(
        g
        for g in big.group_comparisons
        if (g.measure, g.comparison, g.breakdown, g.skill)
        == ("knowledge", "pre_post", "agency", "total")
    )
    assert comparison.groups == ["border", "customs", "police"]
    assert comparison.kruskal_pvalue is not None


# -- Holm's families ---------------------------------------------------------------------------


def test_holm_families_are_fixed_by_the_design(big: Analysis) -> None:
    for measure, comparison in itertools.product(
        ("knowledge", "confidence"), ("pre_post", "post_follow_up")
    ):
        family = rows_of(big, measure=measure, comparison=comparison, breakdown="all")
        assert {r.holm_family for r in family} == {"confirmatory"}
        expected = stats.holm_fixed_family([r.t_pvalue for r in family], len(family))
        assert [r.p_holm for r in family] == expected
        sex = rows_of(big, measure=measure, comparison=comparison, breakdown="sex")
        assert {r.holm_family for r in sex} == {"exploratory:sex"}
        assert len(sex) == 4 * 3
        expected = stats.holm_fixed_family([r.t_pvalue for r in sex], len(sex))
        assert [r.p_holm for r in sex] == expected


def test_a_withheld_row_leaves_holm_of_the_others_as_if_its_p_were_one() -> None:
    people = varied_cohort({"border": 12, "customs": 12, "police": 2}, seed=4)
    analysis = run(WAVES, people)
    family = rows_of(analysis, measure="knowledge", comparison="pre_post", breakdown="agency")
    assert any(r.withheld for r in family)
    shown = [r.t_pvalue if not r.withheld else None for r in family]
    assert [r.p_holm for r in family] == stats.holm_fixed_family(shown, len(family))


# -- the pass mark, "I don't know", measures from the course ---------------------------------


def test_pass_mark_shares_wilson_intervals_and_mcnemar(big: Analysis) -> None:
    row = one(big, measure="knowledge", comparison="pre_post", breakdown="all", skill="total")
    people = varied_cohort({"border": 40, "customs": 40, "police": 40}, seed=7)
    scores: dict[int, dict[str, float]] = {}
    for record in records(WAVES, people):
        scores.setdefault(record.participant, {})[record.phase] = record.scores.knowledge["total"]
    pairs = [(s["pre"], s["post"]) for s in scores.values() if "pre" in s and "post" in s]
    passed_before = sum(before >= 60 for before, _ in pairs)
    passed_after = sum(after >= 60 for _, after in pairs)
    assert row.pass_from_share == pytest.approx(passed_before / len(pairs))
    assert row.pass_to_share == pytest.approx(passed_after / len(pairs))
    low, high = stats.wilson_interval(passed_after, len(pairs))  # type: ignore[misc]
    assert (row.pass_to_ci_low, row.pass_to_ci_high) == pytest.approx((low, high))
    gained = sum(b < 60 <= a for b, a in pairs)
    lost = sum(a < 60 <= b for b, a in pairs)
    assert (row.pass_gained, row.pass_lost) == (gained, lost)
    assert row.pass_mcnemar_p == stats.mcnemar_exact(gained, lost)
    skill_row = one(
        big, measure="knowledge", comparison="pre_post", breakdown="all", skill="detection"
    )
    assert skill_row.pass_to_share is None


def test_dont_know_is_the_share_of_items_offering_it_answered_so() -> None:
    pre = {**knowledge_answers(0), "k1": "dont_know", "k3": ["dont_know"], "sa_detect": 1}
    post = {**knowledge_answers(4), "sa_detect": 5}
    people = [Person(i, "border", pre=pre, post=post) for i in range(1, 6)]
    analysis = run(WAVES, people)
    row = one(analysis, measure="dont_know", comparison="pre_post", breakdown="all", skill="total")
    # k1, k3 and k4 offer "I don't know"; two of the three were answered so
    assert row.from_mean == pytest.approx(200 / 3) and row.to_mean == 0.0
    detection = one(
        analysis, measure="dont_know", comparison="pre_post", breakdown="all", skill="detection"
    )
    assert detection.from_mean == 100.0  # k1 is detection's only such item


def test_measures_take_their_range_from_the_course() -> None:
    confidence = next(m for m in analysis_design(WAVES).measures if m.id == "confidence")
    assert (confidence.minimum, confidence.maximum) == (0.0, 10.0)
    assert "0-10" in confidence.unit and not confidence.normalized_gain
    tiny = next(m for m in analysis_design(TINY).measures if m.id == "confidence")
    assert (tiny.minimum, tiny.maximum) == (1.0, 5.0)


# -- breakdowns ------------------------------------------------------------------------------


def test_people_who_did_not_answer_a_breakdown_item_are_not_stated() -> None:
    people = [waves_person(i, "border", sex=None if i <= 4 else "male") for i in range(1, 10)]
    analysis = run(WAVES, people)
    not_stated = one(
        analysis,
        measure="knowledge",
        comparison="pre_post",
        breakdown="sex",
        group="not_stated",
        skill="total",
    )
    male = one(
        analysis,
        measure="knowledge",
        comparison="pre_post",
        breakdown="sex",
        group="male",
        skill="total",
    )
    assert (not_stated.n_paired, male.n_paired) == (4, 5)


def test_breakdowns_are_never_crossed(big: Analysis) -> None:
    groups = {(r.breakdown, r.group) for r in big.summary}
    assert all(":" not in group and "+" not in group for _, group in groups)


# -- attrition ---------------------------------------------------------------------------------


def test_phase_counts_cover_each_phase_and_combination(big: Analysis) -> None:
    counts = [c for c in big.phase_counts if (c.breakdown, c.group) == ("all", "all")]
    exactly = {c.phases: c.n for c in counts if c.kind == "exactly"}
    answered = {c.phases: c.n for c in counts if c.kind == "phase"}
    assert set(exactly) == {
        "pre",
        "post",
        "follow_up",
        "pre+post",
        "pre+follow_up",
        "post+follow_up",
        "pre+post+follow_up",
    }
    assert answered["pre"] == 120
    assert answered["follow_up"] == exactly["pre+follow_up"] + exactly["pre+post+follow_up"]


def test_attrition_compares_who_stayed_with_who_left() -> None:
    people = varied_cohort({"border": 30, "customs": 30, "police": 30}, seed=9)
    analysis = run(WAVES, people)
    row = next(
        r
        for r in analysis.attrition
        if (r.measure, r.later_phase, r.breakdown, r.skill)
        == ("knowledge", "follow_up", "all", "total")
    )
    scores: dict[int, dict[str, float]] = {}
    for record in records(WAVES, people):
        scores.setdefault(record.participant, {})[record.phase] = record.scores.knowledge["total"]
    stayed = [s["pre"] for s in scores.values() if "follow_up" in s]
    left = [s["pre"] for s in scores.values() if "follow_up" not in s]
    oracle = sps.ttest_ind(stayed, left, equal_var=False)
    assert (row.n_completed, row.n_dropped) == (len(stayed), len(left))
    assert row.difference == pytest.approx(np.mean(stayed) - np.mean(left))
    assert row.welch_pvalue == pytest.approx(float(oracle.pvalue), rel=1e-9)
    paired = one(
        analysis, measure="knowledge", comparison="pre_follow_up", breakdown="all", skill="total"
    )
    assert row.completed_mean == pytest.approx(paired.from_mean)


# -- items, reliability, responses ---------------------------------------------------------------


def test_items_and_reliability_are_per_comparison(big: Analysis) -> None:
    comparisons = {(r.comparison, r.item) for r in big.items}
    assert len(comparisons) == 3 * 4
    assert {r.comparison for r in big.reliability} == {
        "pre_post",
        "pre_follow_up",
        "post_follow_up",
    }
    row = next(
        r
        for r in big.reliability
        if (r.comparison, r.phase, r.skill) == ("pre_post", "pre", "total")
    )
    assert row.n >= 10 and row.k == 4


def test_reliability_and_discrimination_need_min_n_reliability_people() -> None:
    people = [waves_person(i, "border", levels=(i % 4, (i + 1) % 5, None)) for i in range(1, 9)]
    analysis = run(WAVES, people)
    reliability = [r for r in analysis.reliability if r.comparison == "pre_post" and not r.withheld]
    assert reliability and all(r.kr20 is None for r in reliability)
    assert any("min_n_reliability" in note for r in reliability for note in r.notes)
    items = [r for r in analysis.items if r.comparison == "pre_post" and not r.withheld]
    assert items and all(r.discrimination_from is None for r in items)
    assert any(r.p_from is not None for r in items)


def test_negative_kr20_is_flagged() -> None:
    # items that contradict each other: right on k1 and k2 exactly when wrong on k3 and
    # k4, and a third kind right on k1 alone (KR-20 = -4 on these 0/1 patterns)
    right = {"k1": "b", "k2": "true", "k3": ["a", "c"], "k4": "a"}
    wrong = {"k1": "a", "k2": "false", "k3": ["b"], "k4": "b"}
    patterns = [("k1", "k2"), ("k3", "k4"), ("k1",)]
    people = []
    for i in range(1, 13):
        good = patterns[i % 3]
        answers = {item: (right if item in good else wrong)[item] for item in right}
        answers["sa_detect"] = 3
        people.append(Person(i, "border", pre=answers, post=answers))
    analysis = run(WAVES, people)
    total = next(
        r
        for r in analysis.reliability
        if (r.comparison, r.phase, r.skill) == ("pre_post", "pre", "total")
    )
    assert total.kr20 == pytest.approx(-4.0)
    assert total.kr20_flag == "negative"
    assert any("negative" in note for note in total.notes)


def test_every_kind_of_summarised_item_is_summarised() -> None:
    people = varied_cohort({"border": 10, "customs": 10, "police": 10}, seed=2)
    people.append(
        waves_person(
            31,
            "police",
            feedback={"fb_useful": 5, "fb_hours": 10, "fb_recommend": "true", "fb_text": "Ok"},
        )
    )
    analysis = run(WAVES, people)

    def all_row(item: str):
        return next(r for r in analysis.answer_summaries if (r.item, r.breakdown) == (item, "all"))

    useful = all_row("fb_useful")
    assert useful.distribution is not None and set(useful.distribution) == {"1", "2", "3", "4", "5"}
    assert useful.mean is not None and useful.top_two_box is not None
    hours = all_row("fb_hours")
    assert hours.mean is not None and hours.sd is not None and hours.distribution is None
    recommend = all_row("fb_recommend")
    assert set(recommend.distribution or {}) == {"true", "false"}
    years = [r for r in analysis.answer_summaries if r.item == "years"]
    assert years and years[0].phase == "pre"
    texts = next(t for t in analysis.texts if t.item == "fb_text")
    assert texts.answers == sorted(texts.answers, key=str.casefold) and len(texts.answers) >= 3
    assert not any(r.item in ("sex", "role") for r in analysis.answer_summaries)


def test_not_applicable_is_counted_apart_and_left_out_of_the_mean() -> None:
    people = [
        waves_person(
            i,
            "border",
            feedback={"fb_exercises": "not_applicable" if i <= 2 else 4, "fb_useful": 3},
        )
        for i in range(1, 8)
    ]
    analysis = run(WAVES, people)
    row = next(
        r for r in analysis.answer_summaries if (r.item, r.breakdown) == ("fb_exercises", "all")
    )
    assert row.n == 7 and row.n_not_applicable == 2
    assert row.mean == 4.0 and (row.distribution or {})["4"] == 5


# -- small groups ----------------------------------------------------------------------------------


def test_small_groups_are_withheld_with_their_reason() -> None:
    people = varied_cohort({"border": 2, "customs": 6, "police": 7}, seed=5)
    analysis = run(WAVES, people)
    border = one(
        analysis,
        measure="knowledge",
        comparison="pre_post",
        breakdown="agency",
        group="border",
        skill="total",
    )
    assert border.n_paired == 2 and border.from_mean is None
    assert set(border.withheld.values()) == {"small_group"}
    assert "from_mean" in border.withheld and "t_pvalue" in border.withheld
    shown = rows_of(
        analysis, measure="knowledge", comparison="pre_post", breakdown="agency", skill="total"
    )
    complementary = [r for r in shown if set(r.withheld.values()) == {"complementary"}]
    assert complementary, "one more agency is withheld so that border is not all minus the rest"
    assert all(r.n_paired >= 3 for r in complementary)
    assert analysis.disclosure.verified
    assert analysis.disclosure.withheld_small_group > 0
    assert analysis.disclosure.withheld_complementary > 0


# -- no cohort crashes a report ----------------------------------------------------------------


def _finite_json(analysis: Analysis) -> None:
    encoded = msgspec.json.encode(analysis).decode()
    assert "NaN" not in encoded and "Infinity" not in encoded
    for row in analysis.summary:
        for name in row.__struct_fields__:
            value = getattr(row, name)
            assert not (isinstance(value, float) and not math.isfinite(value))


@st.composite
def small_cohorts(draw: st.DrawFn) -> list[Person]:
    """n = 1..6 per agency; constant, extreme and identical gains; 0% and 100%;
    people who answered one phase only; self-assessment left out."""
    people = []
    style = draw(st.sampled_from(("random", "constant", "identical_gain", "extreme")))
    for agency in ("border", "customs", "police"):
        for _ in range(draw(st.integers(0, 6))):
            if style == "constant":
                levels: tuple[int | None, ...] = (2, 2, 2)
            elif style == "identical_gain":
                levels = (1, 3, 3)
            elif style == "extreme":
                levels = draw(st.sampled_from(((0, 4, 4), (4, 4, 0), (0, 0, 0), (4, 4, 4))))
            else:
                levels = tuple(draw(st.one_of(st.none(), st.integers(0, 4))) for _ in range(3))
            if all(level is None for level in levels):
                levels = (0, None, None)
            person = waves_person(
                len(people) + 1,
                agency,
                levels=levels,
                sex=draw(st.sampled_from(("female", "male", None))),
                confidence=(draw(st.integers(0, 6)), draw(st.integers(0, 6))),
            )
            if draw(st.booleans()):
                for answers in person.phases.values():
                    answers.pop("sa_coop", None)
            people.append(person)
    return people


@settings(
    max_examples=400 if SLOW else 40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(small_cohorts())
def test_no_small_cohort_crashes_a_report(people: list[Person]) -> None:
    analysis = run(WAVES, people)
    assert analysis.disclosure.verified
    _finite_json(analysis)


def test_the_crash_cohort_of_the_issue_gives_a_report() -> None:
    # Issue 8: three people whose confidence totals go from 1.0 to 2.9, 3.0 and 2.9
    # crashed the report. Ten of the bundled course's self-assessment items answered.
    course = load_paths([Path(__file__).resolve().parents[1] / "surveys"]).courses[
        "salw-nexus-kz-2024"
    ]
    items = [item.id for item in course.items_by_role("self_assessment")][:10]
    people = []
    for number, last in enumerate((2, 3, 2), start=1):
        pre = dict.fromkeys(items, 1)
        post = {**dict.fromkeys(items, 3), items[-1]: last}
        people.append(Person(number, "border", pre=pre, post=post))
    analysis = run(course, people)
    row = one(analysis, measure="confidence", comparison="pre_post", breakdown="all", skill="total")
    assert row.n_paired == 3 and row.withheld == {}
    assert row.to_mean == pytest.approx((2.9 + 3.0 + 2.9) / 3)
    assert row.dz_ci_low is not None and row.dz_ci_method == "noncentral_t"
    _finite_json(analysis)
    assert analysis.disclosure.verified


def test_item_analysis_reproduces_the_mcnemar_reference_case() -> None:
    # 12 people on item k1: 3 right both times, 7 wrong -> right (b), 1 right -> wrong
    # (c), 1 wrong both times. p_from = 4/12, p_to = 10/12, exact p = 18/256.
    import json

    reference = json.loads(
        (Path(__file__).resolve().parent / "data/reference/stats_cases.json").read_text()
    )
    case = next(c for c in reference["cases"] if c["name"] == "mcnemar_item_small_exact")
    patterns = (
        [(True, True)] * case["data"]["both_correct"]
        + [(False, True)] * case["data"]["b_wrong_to_right"]
        + [(True, False)] * case["data"]["c_right_to_wrong"]
        + [(False, False)] * case["data"]["both_wrong"]
    )
    people = [
        Person(
            i,
            "border",
            pre={"k1": "b" if before else "a", "sa_detect": 3},
            post={"k1": "b" if after else "a", "sa_detect": 3},
        )
        for i, (before, after) in enumerate(patterns, start=1)
    ]
    analysis = run(WAVES, people)
    k1 = next(r for r in analysis.items if (r.comparison, r.item) == ("pre_post", "k1"))
    expected, tolerance = case["expected"], case["tolerance"]
    assert (k1.skill, k1.n_paired, k1.mcnemar_b, k1.mcnemar_c) == ("detection", 12, 7, 1)
    assert k1.mcnemar_p == pytest.approx(expected["p_exact"], abs=tolerance)
    assert k1.p_from == pytest.approx(expected["p_pre"], abs=tolerance)
    assert k1.p_to == pytest.approx(expected["p_post"], abs=tolerance)


def test_item_discrimination_matches_pandas(big: Analysis) -> None:
    people = varied_cohort({"border": 40, "customs": 40, "police": 40}, seed=7)
    correct: dict[int, dict[str, dict[str, float]]] = {}
    for record in records(WAVES, people):
        correct.setdefault(record.participant, {})[record.phase] = {
            item: float(value) for item, value in record.scores.correct.items()
        }
    paired = [c for c in correct.values() if "pre" in c and "post" in c]
    frame = pd.DataFrame([c["pre"] for c in paired])
    rest = frame.sum(axis=1)
    for item in frame.columns:
        row = next(r for r in big.items if (r.comparison, r.item) == ("pre_post", item))
        expected = frame[item].corr(rest - frame[item])
        if math.isnan(expected):
            assert row.discrimination_from is None
        else:
            assert row.discrimination_from == pytest.approx(expected, rel=1e-9)
