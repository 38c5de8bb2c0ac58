"""evalsvc.domain.summary: the evaluators' tables, suppression, and pandas/scipy as oracles."""

from __future__ import annotations

import json
import math
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from evalsvc.domain import stats
from evalsvc.domain.cohort import ALL, ParticipantScores, PhaseScores
from evalsvc.domain.feedback import FeedbackLikertRow, feedback_summary
from evalsvc.domain.items import item_analysis, reliability
from evalsvc.domain.questionnaire import Course, check_course
from evalsvc.domain.summary import Summary, SummaryRow, summarize
from evalsvc.domain.suppression import suppression_plan

# -- a small course ----------------------------------------------------------------------


def _text(words: str) -> dict[str, str]:
    return {"en": words}


def _item(item_id: str, role: str, kind: str, section: str, **extra: object) -> dict:
    return {
        "id": item_id,
        "role": role,
        "kind": kind,
        "section": section,
        "text": _text(item_id),
        **extra,
    }


COURSE: Course = msgspec.convert(
    {
        "id": "demo",
        "title": _text("Demo"),
        "min_cell_size": 3,
        "agencies": [{"id": a, "name": _text(a)} for a in ("police", "customs", "border")],
        "skills": [{"id": s, "name": _text(s)} for s in ("tracing", "marking")],
        "scales": [{"id": "agree", "min": 1, "max": 5}],
        "sections": [{"id": s, "title": _text(s)} for s in ("knowledge", "self", "feedback")],
        "phases": [
            {"id": "pre", "sections": ["knowledge", "self"]},
            {"id": "post", "sections": ["knowledge", "self", "feedback"]},
        ],
        "items": [
            _item("k1", "knowledge", "true_false", "knowledge", skill="tracing", correct=["true"]),
            _item("k2", "knowledge", "true_false", "knowledge", skill="tracing", correct=["true"]),
            _item("k3", "knowledge", "true_false", "knowledge", skill="marking", correct=["true"]),
            _item("k4", "knowledge", "true_false", "knowledge", skill="marking", correct=["true"]),
            _item("c1", "self_assessment", "likert", "self", skill="tracing", scale="agree"),
            _item("c2", "self_assessment", "likert", "self", skill="marking", scale="agree"),
            _item("f1", "feedback", "likert", "feedback", scale="agree"),
            _item("f2", "feedback", "long_text", "feedback"),
            _item("f3", "feedback", "short_text", "feedback"),
        ],
    },
    Course,
)
KNOWLEDGE_ITEMS = ("k1", "k2", "k3", "k4")
ITEM_SKILL = {"k1": "tracing", "k2": "tracing", "k3": "marking", "k4": "marking"}


def test_the_test_course_is_sound() -> None:
    assert check_course(COURSE, {}, "course.toml") == []


def phase(right: tuple[str, ...] | str, confidence: dict[str, float] | None = None) -> PhaseScores:
    """Scores as scoring.py would give them: each item is worth one point."""
    correct = {item: item in right for item in KNOWLEDGE_ITEMS}
    knowledge = {
        skill: 100.0 * np.mean([correct[i] for i in KNOWLEDGE_ITEMS if ITEM_SKILL[i] == skill])
        for skill in ("tracing", "marking")
    }
    knowledge["total"] = 100.0 * sum(correct.values()) / len(correct)
    confidence = dict(confidence if confidence is not None else {"tracing": 3.0, "marking": 3.0})
    if confidence:
        confidence["total"] = float(np.mean(list(confidence.values())))
    return PhaseScores(
        knowledge={k: float(v) for k, v in knowledge.items()},
        confidence=confidence,
        correct=correct,
    )


def people(agency: str, n: int, start: int, *, pre: bool = True, post: bool = True) -> list:
    """n participants whose scores vary, so that every test is defined."""
    out = []
    for i in range(start, start + n):
        right_before = KNOWLEDGE_ITEMS[: i % 3]
        right_after = KNOWLEDGE_ITEMS[: 1 + i % 4]
        out.append(
            ParticipantScores(
                participant=i,
                agency=agency,
                pre=phase(right_before, {"tracing": 1.0 + i % 3, "marking": 2.0}) if pre else None,
                post=phase(right_after, {"tracing": 2.0 + i % 4, "marking": 4.0 - i % 2})
                if post
                else None,
            )
        )
    return out


def cohort(**paired: int) -> list[ParticipantScores]:
    """Paired participants per agency, numbered consecutively."""
    out: list[ParticipantScores] = []
    for agency, n in paired.items():
        out.extend(people(agency, n, start=len(out)))
    return out


def row(summary: Summary, agency: str, skill: str = "total", measure: str = "knowledge"):
    matches = [
        r for r in summary.rows if (r.measure, r.agency, r.skill) == (measure, agency, skill)
    ]
    assert len(matches) == 1
    return matches[0]


# -- shape -----------------------------------------------------------------------------------


def test_rows_cover_every_measure_agency_and_skill_in_order() -> None:
    summary = summarize(COURSE, cohort(police=5, customs=4, border=3))
    keys = [(r.measure, r.agency, r.skill) for r in summary.rows]
    assert keys == [
        (measure, agency, skill)
        for measure in ("knowledge", "confidence")
        for agency in ("police", "customs", "border", ALL)
        for skill in ("tracing", "marking", "total")
    ]
    assert [(c.measure, c.skill) for c in summary.agency_comparison] == [
        (measure, skill)
        for measure in ("knowledge", "confidence")
        for skill in ("tracing", "marking", "total")
    ]
    msgspec.json.decode(msgspec.json.encode(summary), type=Summary)


def test_summary_row_carries_every_paired_statistic() -> None:
    row_fields = set(SummaryRow.__struct_fields__)
    assert set(stats.Paired.__struct_fields__) <= row_fields


def test_normalized_gain_only_for_knowledge() -> None:
    summary = summarize(COURSE, cohort(police=5, customs=4, border=3))
    assert row(summary, ALL).normalized_gain is not None
    assert row(summary, ALL, measure="confidence").normalized_gain is None


# -- suppression ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "total", "plan"),
    [
        pytest.param({"a": 5, "b": 4, "c": 6}, 15, {}, id="all-large"),
        pytest.param(
            {"a": 5, "b": 4, "c": 2}, 11, {"c": "size", "b": "complementary"}, id="one-small"
        ),
        pytest.param({"a": 5, "b": 4, "c": 4}, 15, {"b": "complementary"}, id="residual-2"),
        pytest.param({"a": 5, "b": 4, "c": 4}, 16, {}, id="residual-3"),
        pytest.param({"a": 5, "b": 0}, 5, {"b": "size"}, id="empty-group"),
        pytest.param({"a": 2, "b": 0}, 2, {"a": "size", "b": "size", ALL: "size"}, id="all-small"),
        pytest.param(
            {"a": 4, "b": 4, "c": 1, "d": 1},
            10,
            {"c": "size", "d": "size", "a": "complementary"},
            id="tie-first-listed",
        ),
    ],
)
def test_suppression_plan(counts: dict[str, int], total: int, plan: dict[str, str]) -> None:
    # k = 3. 'residual' = people in 'all' outside every listed group (total - sum).
    assert suppression_plan(counts, total, 3) == plan


def test_small_agency_is_suppressed_and_the_next_smallest_too() -> None:
    summary = summarize(COURSE, cohort(police=5, customs=4, border=2))
    for measure in ("knowledge", "confidence"):
        for skill in ("tracing", "marking", "total"):
            border = row(summary, "border", skill, measure)
            customs = row(summary, "customs", skill, measure)
            police = row(summary, "police", skill, measure)
            everyone = row(summary, ALL, skill, measure)
            assert (border.suppressed, border.suppressed_reason) == (True, "size")
            assert (customs.suppressed, customs.suppressed_reason) == (True, "complementary")
            assert not police.suppressed and not everyone.suppressed
            # counts stay; statistics go
            assert (border.n_pre, border.n_post, border.n_paired) == (2, 2, 2)
            assert customs.n_paired == 4
            for hidden in (border, customs):
                assert hidden.pre_mean is None and hidden.mean_gain is None
                assert hidden.t_pvalue is None and hidden.p_holm is None
                assert hidden.n_improved is None and hidden.pre_mean_all is None
                assert hidden.welch_t_pvalue is None
            assert any("fewer than min_cell_size 3" in n for n in border.notes)
            assert any("worked out" in n for n in customs.notes)
            assert police.pre_mean is not None and everyone.n_paired == 11


def test_two_small_agencies_holding_k_people_protect_each_other() -> None:
    # customs 2 + border 1 = 3 = k people behind 'all' minus police: nothing more to hide.
    summary = summarize(COURSE, cohort(police=5, customs=2, border=1))
    assert row(summary, "customs").suppressed_reason == "size"
    assert row(summary, "border").suppressed_reason == "size"
    assert not row(summary, "police").suppressed


def test_two_small_agencies_holding_fewer_than_k_people_need_one_more() -> None:
    # customs 1 + border 1 = 2 < 3: 'all' minus police would show the pair's figures
    # (and each of the two could work out the other's), so police is withheld too.
    summary = summarize(COURSE, cohort(police=5, customs=1, border=1))
    assert row(summary, "police").suppressed_reason == "complementary"
    assert not row(summary, ALL).suppressed


def test_an_empty_agency_hides_nobody() -> None:
    summary = summarize(COURSE, cohort(police=5, customs=4))
    border = row(summary, "border")
    assert border.suppressed_reason == "size" and border.n_paired == 0
    assert not row(summary, "police").suppressed and not row(summary, "customs").suppressed


def test_every_cell_suppressed() -> None:
    summary = summarize(COURSE, cohort(police=1, customs=1))
    assert all(r.suppressed for r in summary.rows)
    assert all(r.p_holm is None and r.pre_mean_all is None for r in summary.rows)
    assert row(summary, ALL).n_paired == 2
    for comparison in summary.agency_comparison:
        assert comparison.n_groups == 0 and comparison.kruskal_h is None
        assert comparison.notes
    msgspec.json.encode(summary)


def test_nobody_at_all() -> None:
    summary = summarize(COURSE, [])
    assert all(r.suppressed and r.n_pre == 0 for r in summary.rows)
    msgspec.json.encode(summary)


def test_unpaired_views_follow_their_own_counts() -> None:
    # border: 2 paired + 3 who only did the pre test -> n_pre 5 (shown: the pre-only
    # group holds 3), n_post 2 (withheld, and customs' post mean too, complementary);
    # Welch's p needs both views.
    participants = cohort(police=5, customs=4, border=2)
    participants += people("border", 3, start=100, post=False)
    summary = summarize(COURSE, participants)
    border, customs = row(summary, "border"), row(summary, "customs")
    assert (border.n_pre, border.n_post, border.n_paired) == (5, 2, 2)
    border_pre = [p.pre.knowledge["total"] for p in participants if p.agency == "border"]
    assert border.pre_mean_all == pytest.approx(np.mean(border_pre))
    assert border.post_mean_all is None and border.welch_t_pvalue is None
    assert customs.pre_mean_all is not None and customs.post_mean_all is None
    assert any("post_mean_all withheld" in n for n in customs.notes)


def test_one_dropout_cannot_be_recovered_from_unpaired_minus_paired() -> None:
    # 5 + 5 + 5 paired, and one border participant who never came back: n_pre * pre_mean_all
    # - n_paired * pre_mean would be that one person's pre score, in border and in "all".
    participants = cohort(police=5, customs=5, border=5)
    participants += people("border", 1, start=100, post=False)
    summary = summarize(COURSE, participants)
    for agency in ("border", "all"):
        shown = row(summary, agency)
        assert shown.pre_mean is not None, "the paired view stays"
        assert shown.pre_mean_all is None and shown.welch_t_pvalue is None
        assert any("pre_mean_all withheld" in n for n in shown.notes)
    assert row(summary, "police").pre_mean_all is not None, "nobody to protect there"


def test_complementary_rule_covers_one_phase_only_groups() -> None:
    # two pre-only people in two agencies (1 + 1): each protects the other only if both
    # unpaired pre means are withheld, and "all" too (its pre-only group holds 2 < 3)
    participants = cohort(police=5, customs=5, border=5)
    participants += people("border", 1, start=100, post=False)
    participants += people("customs", 1, start=200, post=False)
    summary = summarize(COURSE, participants)
    for agency in ("border", "customs", "all"):
        assert row(summary, agency).pre_mean_all is None, agency


def test_unknown_agency_is_counted_in_all_only_and_never_shown() -> None:
    # One participant from an agency the course does not list: 'all' minus the three
    # agencies would be that person, so the smallest agency is withheld as well.
    participants = cohort(police=5, customs=4, border=3)
    participants += people("navy", 1, start=200)
    summary = summarize(COURSE, participants)
    assert row(summary, ALL).n_paired == 13
    assert row(summary, "border").suppressed_reason == "complementary"
    assert not row(summary, "police").suppressed
    assert summary.notes and "counted in 'all' only" in summary.notes[0]


# -- Holm ------------------------------------------------------------------------------------


def test_holm_is_one_family_per_measure_over_shown_t_tests() -> None:
    summary = summarize(COURSE, cohort(police=6, customs=5, border=2))
    for measure in ("knowledge", "confidence"):
        rows = [r for r in summary.rows if r.measure == measure]
        family = [r for r in rows if r.t_pvalue is not None]
        assert len(family) >= 3
        # Holm multiplies the smallest p by the family size m.
        smallest = min(family, key=lambda r: r.t_pvalue)
        assert smallest.p_holm == pytest.approx(min(1.0, len(family) * smallest.t_pvalue))
        for r in rows:
            if r.t_pvalue is None:
                assert r.p_holm is None
            else:
                assert r.t_pvalue <= r.p_holm <= 1.0
        # the other measure's p-values do not enter this family
        assert [r.p_holm for r in rows] == stats.holm([r.t_pvalue for r in rows])


# -- pandas / scipy as oracle --------------------------------------------------------------


def random_cohort(seed: int) -> list[ParticipantScores]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(45):
        agency = ("police", "customs", "border")[i % 3]

        def draw(level: float) -> PhaseScores:
            right = tuple(item for item in KNOWLEDGE_ITEMS if rng.random() < level)
            confidence = {skill: float(rng.integers(1, 6)) for skill in ("tracing", "marking")}
            if rng.random() < 0.15:  # skipped the marking self-assessment
                del confidence["marking"]
            return phase(right, confidence)

        out.append(
            ParticipantScores(
                participant=i,
                agency=agency,
                pre=draw(0.4) if rng.random() < 0.9 else None,
                post=draw(0.7) if rng.random() < 0.85 else None,
            )
        )
    return out


def long_frame(participants: list[ParticipantScores]) -> pd.DataFrame:
    records = []
    for p in participants:
        for phase_name in ("pre", "post"):
            scores = getattr(p, phase_name)
            if scores is None:
                continue
            for measure in ("knowledge", "confidence"):
                for skill, value in getattr(scores, measure).items():
                    for agency in (p.agency, ALL):
                        records.append((p.participant, agency, measure, skill, phase_name, value))
    return pd.DataFrame(
        records, columns=["participant", "agency", "measure", "skill", "phase", "score"]
    )


def test_summary_matches_pandas_and_scipy() -> None:
    participants = random_cohort(seed=2024)
    frame = long_frame(participants)
    wide = frame.pivot_table(
        index=["measure", "agency", "skill", "participant"], columns="phase", values="score"
    )
    summary = summarize(COURSE, participants)
    compared = 0
    for (measure, agency, skill), cell in wide.groupby(level=["measure", "agency", "skill"]):
        r = row(summary, agency, skill, measure)
        assert r.n_pre == cell["pre"].count() and r.n_post == cell["post"].count()
        paired = cell.dropna()
        assert r.n_paired == len(paired)
        if r.suppressed:
            continue
        gains = paired["post"] - paired["pre"]
        assert r.pre_mean == pytest.approx(paired["pre"].mean(), rel=1e-12)
        assert r.post_mean == pytest.approx(paired["post"].mean(), rel=1e-12)
        assert r.mean_gain == pytest.approx(gains.mean(), abs=1e-9)
        assert r.gain_sd == pytest.approx(gains.std(), rel=1e-9)  # pandas: ddof=1
        for phase, n_phase in (("pre", r.n_pre), ("post", r.n_post)):
            shown = getattr(r, f"{phase}_mean_all")
            if 0 < n_phase - r.n_paired < COURSE.min_cell_size:
                assert shown is None  # else it would give away the one-phase-only people
            elif shown is not None:
                assert shown == pytest.approx(cell[phase].mean(), rel=1e-12)
        assert r.n_improved == int((gains > 1e-9).sum())
        if r.t_pvalue is not None:
            oracle = sps.ttest_rel(paired["post"], paired["pre"])
            assert r.t_pvalue == pytest.approx(float(oracle.pvalue), rel=1e-9)
            compared += 1
        if r.pre_mean_all is not None and r.post_mean_all is not None:
            welch = sps.ttest_ind(cell["post"].dropna(), cell["pre"].dropna(), equal_var=False)
            assert r.welch_t_pvalue == pytest.approx(float(welch.pvalue), rel=1e-9)
    assert compared >= 12


def test_agency_comparison_matches_scipy_over_shown_agencies() -> None:
    participants = random_cohort(seed=7)
    summary = summarize(COURSE, participants)
    comparison = next(
        c for c in summary.agency_comparison if (c.measure, c.skill) == ("knowledge", "total")
    )
    assert comparison.agencies == ["police", "customs", "border"]
    gains = []
    for agency in comparison.agencies:
        members = [p for p in participants if p.agency == agency and p.pre and p.post]
        gains.append([p.post.knowledge["total"] - p.pre.knowledge["total"] for p in members])
    kruskal = sps.kruskal(*gains)
    welch = sps.f_oneway(*gains, equal_var=False)
    assert comparison.kruskal_h == pytest.approx(float(kruskal.statistic), rel=1e-9)
    assert comparison.kruskal_pvalue == pytest.approx(float(kruskal.pvalue), rel=1e-9)
    assert comparison.welch_f == pytest.approx(float(welch.statistic), rel=1e-9)
    assert comparison.welch_pvalue == pytest.approx(float(welch.pvalue), rel=1e-9)


def test_agency_comparison_leaves_out_withheld_agencies() -> None:
    summary = summarize(COURSE, cohort(police=5, customs=4, border=2))
    comparison = summary.agency_comparison[0]
    assert comparison.agencies == ["police"]
    assert comparison.n_groups == 1 and comparison.kruskal_h is None
    assert "customs, border" in comparison.notes[0]


# -- item analysis ---------------------------------------------------------------------------


def _reference_case(name: str) -> dict:
    path = Path(__file__).resolve().parents[2] / "shared/reference/stats_cases.json"
    if not path.exists():
        path = Path("/work/shared/reference/stats_cases.json")
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    return next(case for case in cases if case["name"] == name)


def test_item_analysis_reproduces_the_mcnemar_reference_case() -> None:
    # 12 participants on item k1: 3 right both times, 7 wrong -> right (b), 1 right ->
    # wrong (c), 1 wrong both times. p_pre = (3 + 1)/12, p_post = (3 + 7)/12,
    # exact p = 2 (C(8,0) + C(8,1)) / 2^8 = 18/256.
    case = _reference_case("mcnemar_item_small_exact")
    patterns = (
        [(True, True)] * case["data"]["both_correct"]
        + [(False, True)] * case["data"]["b_wrong_to_right"]
        + [(True, False)] * case["data"]["c_right_to_wrong"]
        + [(False, False)] * case["data"]["both_wrong"]
    )
    participants = [
        ParticipantScores(
            participant=i,
            agency="police",
            pre=phase(("k1",) if before else ()),
            post=phase(("k1",) if after else ()),
        )
        for i, (before, after) in enumerate(patterns)
    ]
    k1 = item_analysis(COURSE, participants)[0]
    expected, tol = case["expected"], case["tolerance"]
    assert (k1.item, k1.skill, k1.n_pre, k1.n_post, k1.n_paired) == ("k1", "tracing", 12, 12, 12)
    assert (k1.mcnemar_b, k1.mcnemar_c) == (7, 1)
    assert k1.mcnemar_p == pytest.approx(expected["p_exact"], abs=tol)
    assert k1.p_pre == pytest.approx(expected["p_pre"], abs=tol)
    assert k1.p_post == pytest.approx(expected["p_post"], abs=tol)


def test_item_discrimination_matches_pandas() -> None:
    participants = random_cohort(seed=99)
    rows = item_analysis(COURSE, participants)
    for phase_name in ("pre", "post"):
        frame = pd.DataFrame(
            [getattr(p, phase_name).correct for p in participants if getattr(p, phase_name)]
        ).astype(float)
        for item_row in rows:
            rest = frame.drop(columns=item_row.item).sum(axis=1)
            oracle = frame[item_row.item].corr(rest)  # Pearson = point-biserial on 0/1
            got = getattr(item_row, f"discrimination_{phase_name}")
            if math.isnan(oracle):
                assert got is None
            else:
                assert got == pytest.approx(oracle, abs=1e-12)
            assert getattr(item_row, f"p_{phase_name}") == pytest.approx(
                frame[item_row.item].mean()
            )


def test_item_shares_of_fewer_than_k_people_are_withheld() -> None:
    participants = people("police", 2, start=0, post=False) + people("police", 4, start=10)
    k1 = item_analysis(COURSE, participants)[0]
    assert (k1.n_pre, k1.n_post, k1.n_paired) == (6, 4, 4)
    assert k1.p_pre is not None and k1.p_post is not None

    few = item_analysis(COURSE, people("police", 2, start=0))[0]
    assert (few.n_pre, few.n_paired) == (2, 2)
    assert few.p_pre is None and few.p_post is None and few.discrimination_pre is None
    assert few.mcnemar_b is None and few.mcnemar_p is None
    assert few.notes
    msgspec.json.encode(few)


# -- reliability ---------------------------------------------------------------------------


def test_reliability_matches_alpha_computed_with_pandas() -> None:
    participants = random_cohort(seed=5)
    rows = reliability(COURSE, participants)
    assert [(r.skill, r.phase) for r in rows] == [
        (skill, phase_name)
        for skill in ("tracing", "marking", "total")
        for phase_name in ("pre", "post")
    ]
    for r in rows:
        frame = pd.DataFrame(
            [getattr(p, r.phase).correct for p in participants if getattr(p, r.phase)]
        ).astype(float)
        columns = [i for i in KNOWLEDGE_ITEMS if r.skill in (ITEM_SKILL[i], "total")]
        items = frame[columns]
        assert (r.n, r.k) == (len(items), len(columns))
        # Cronbach's alpha, pandas variances (ddof=1): k/(k-1) (1 - Σ var_j / var_total)
        total_var = items.sum(axis=1).var()
        alpha = len(columns) / (len(columns) - 1) * (1 - items.var().sum() / total_var)
        assert r.kr20 == pytest.approx(alpha, rel=1e-9)


def test_reliability_of_fewer_than_k_people_is_withheld() -> None:
    rows = reliability(COURSE, people("police", 2, start=0))
    assert all(r.kr20 is None and r.n == 2 and r.notes for r in rows)


# -- feedback -------------------------------------------------------------------------------


def test_feedback_distribution_and_top_two_box() -> None:
    responses = [
        *[("police", {"f1": v}) for v in (5, 4, 4, 3, 1)],
        *[("customs", {"f1": v}) for v in (5, 5.0, 2)],
        ("border", {"f1": 4}),
        # not on the scale or not a whole number: ignored
        *[("police", {"f1": v}) for v in (True, "5", 6, 4.5, None)],
        ("police", {}),
    ]
    rows = {r.agency: r for r in feedback_summary(COURSE, responses, 3).likert}
    assert list(rows) == ["police", "customs", "border", ALL]
    # All: values 5,4,4,3,1, 5,5,2, 4 -> n 9, sum 33, four-or-five 6.
    everyone = rows[ALL]
    assert everyone.n == 9
    assert everyone.distribution == {1: 1, 2: 1, 3: 1, 4: 3, 5: 3}
    assert everyone.mean == pytest.approx(33 / 9)
    assert everyone.top_two_box == pytest.approx(6 / 9)
    # Police: 5,4,4,3,1 -> mean 17/5, top two 3/5.
    police = rows["police"]
    assert police.distribution == {1: 1, 2: 0, 3: 1, 4: 2, 5: 1}
    assert police.mean == pytest.approx(3.4) and police.top_two_box == pytest.approx(0.6)
    # Border (1 answer) is withheld, and customs (next smallest) with it.
    assert (rows["border"].suppressed_reason, rows["border"].n) == ("size", 1)
    assert rows["border"].distribution is None
    assert rows["customs"].suppressed_reason == "complementary" and rows["customs"].mean is None
    # JSON object keys are strings; the typed decode gives the int scale points back.
    encoded = msgspec.json.encode(everyone)
    assert b'"4":3' in encoded
    assert msgspec.json.decode(encoded, type=FeedbackLikertRow) == everyone


def test_feedback_texts_are_sorted_and_carry_no_agency() -> None:
    responses = [
        ("police", {"f2": "  Great course ", "f3": "x"}),
        ("customs", {"f2": ""}),
        ("border", {"f2": "bad"}),
        ("police", {"f2": "Also good", "f3": 7}),
    ]
    texts = {t.item: t for t in feedback_summary(COURSE, responses, 3).texts}
    assert texts["f2"].answers == ["Also good", "bad", "Great course"]
    assert texts["f2"].kind == "long_text"
    assert texts["f3"].answers == ["x"]
    encoded = msgspec.json.encode(texts["f2"])
    assert b"police" not in encoded


def test_feedback_of_fewer_than_k_submissions_is_withheld() -> None:
    responses = [("police", {"f1": 5, "f2": "only me"}), ("police", {"f1": 4})]
    summary = feedback_summary(COURSE, responses, 3)
    assert all(r.distribution is None for r in summary.likert)
    assert next(r for r in summary.likert if r.agency == ALL).n == 2
    assert summary.texts[0].answers == [] and summary.texts[0].notes
    msgspec.json.encode(summary)


# -- inputs ---------------------------------------------------------------------------------


def test_participant_scores_decode_from_json() -> None:
    raw = (
        b'{"participant": 1, "agency": "police", "pre": null, "post": '
        b'{"knowledge": {"total": 50.0}, "confidence": {}, "correct": {"k1": true}}}'
    )
    decoded = msgspec.json.decode(raw, type=ParticipantScores)
    assert decoded.pre is None and decoded.post.correct == {"k1": True}
