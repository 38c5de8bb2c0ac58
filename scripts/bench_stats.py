#!/usr/bin/env python3
"""The evaluators' statistics: evalsvc against pandas + scipy, in memory and over HTTP.

    .venv/bin/python scripts/bench_stats.py [--quick] [--large]

No flag runs both parts; ``--quick`` only the first, ``--large`` only the second.

1. **10,000 paired participants** (plus 3% who only answered the pre and 1% who
   only answered the post questionnaire, so that the unpaired view differs from
   the paired one) of a synthetic course: 6 agencies of unequal size, 5 skills,
   40 single-choice knowledge items (8 per skill) and one self-assessment likert
   item per skill. Each participant has an ability per skill, each agency a
   starting level and a gain per skill (two agency x skill cells gain nothing);
   answers are drawn item by item, and the knowledge percentages, confidence means
   and item correctness are derived from them as `evalsvc.domain.scoring` does
   (checked on a sample against `scoring.score_submission`). Seeded.

   a. In memory: `summarize` + `item_analysis` + `reliability` of
      `evalsvc.domain.summary`, against the same tables computed the way an
      analyst would with pandas and scipy (the peer starts from ready-made
      long-format DataFrames, whose construction is not counted). Medians of 5
      runs each, the two alternating so that other load on the machine slows both
      alike; the speed-up is the ratio of the wall-clock medians (the CPU-time
      ratio is printed beside it).
      Every numeric value the peer computes is compared with evalsvc's, matched by
      keys; the run fails when one differs by more than 1e-9, absolute for values
      up to 1 and relative above (|a - b| <= 1e-9 * max(1, |a|, |b|)).
   b. Over HTTP: the cohort is written into a temporary SQLite database through
      `Database.store_submission`, a real `evalsvc serve` subprocess is started on
      127.0.0.1 with the course as TOML in a temporary surveys folder, and
      GET /api/v1/courses/{course}/summary, /items and /reliability are timed with
      an evaluator token (median of 5 after one warm-up). The served numbers are
      compared with the in-memory ones too.

2. **100,000 paired participants** (plus the same shares of unpaired ones):
   `summarize` + `item_analysis` + `reliability` in memory (median of 3) and their
   peak memory, measured with tracemalloc (allocations made during the computation,
   inputs excluded; a separate run, since tracing slows it down). Then 100,000
   submissions (the first 50,000 paired participants, pre and post) are written
   into a fresh database, and responses.csv is streamed from a server started for
   it with an analyst token, while the server's VmRSS and VmHWM are sampled from
   /proc/<pid>/status.

Exit status: 0 when everything ran and agreed; 1 when a value disagrees, a request
fails or a count is off. The goals (at least 5x faster than pandas + scipy; each
endpoint under 1 s) are printed as "goal met" / "goal NOT met" and do not change
the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np
import pandas as pd
from scipy import optimize, special
from scipy import stats as sps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from evalsvc import commands, reports  # noqa: E402
from evalsvc.catalog import load_paths  # noqa: E402
from evalsvc.domain import scoring  # noqa: E402
from evalsvc.domain.answers import validate_answers  # noqa: E402
from evalsvc.domain.codes import code_hash, keyed_hash  # noqa: E402
from evalsvc.domain.cohort import (  # noqa: E402
    ALL,
    MEASURES,
    PHASES,
    ParticipantScores,
    PhaseScores,
)
from evalsvc.domain.items import item_analysis, reliability  # noqa: E402
from evalsvc.domain.questionnaire import DONT_KNOW, Course, check_course  # noqa: E402
from evalsvc.domain.summary import summarize  # noqa: E402
from evalsvc.settings import Settings  # noqa: E402
from evalsvc.storage import Database  # noqa: E402
from evalsvc.storage.records import NewSubmission  # noqa: E402
from evalsvc.storage.sqlite import utc_now  # noqa: E402

TOTAL = scoring.TOTAL
COURSE_ID = "bench-stats"
SECRET = "bench-stats-secret-0123456789abcdef0123456789"
SEED = 20240312
AGENCIES = (
    ("border", "Border Guard Service"),
    ("customs", "Customs Service"),
    ("police", "Police"),
    ("prosecutor", "Prosecutor's Office"),
    ("courts", "Courts"),
    ("fiu", "Financial Intelligence Unit"),
)
AGENCY_SHARES = (0.26, 0.22, 0.18, 0.14, 0.12, 0.08)
SKILLS = (
    ("detection", "Detection of illicit arms"),
    ("tracing", "Tracing of firearms"),
    ("investigation", "Investigation"),
    ("prosecution", "Prosecution"),
    ("cooperation", "International cooperation"),
)
ITEMS_PER_SKILL = 8
OPTIONS = ("a", "b", "c", "d")
PRE_ONLY_SHARE, POST_ONLY_SHARE = 0.03, 0.01
TOLERANCE = 1e-9
SPEEDUP_GOAL = 5.0
ENDPOINT_GOAL_SECONDS = 1.0
ENDPOINTS = ("summary", "items", "reliability")
SUBMIT_CHUNK = 500


# -- the course --------------------------------------------------------------------------


def course_definition() -> dict[str, Any]:
    """The synthetic course as the dict its TOML files decode to."""
    items: list[dict[str, Any]] = [
        {
            "id": f"sa_{skill}",
            "role": "self_assessment",
            "kind": "likert",
            "scale": "confidence",
            "section": "self_assessment",
            "skill": skill,
            "required": True,
            "text": {"en": f"How confident are you in {name.lower()}?"},
        }
        for skill, name in SKILLS
    ]
    for s, (skill, _) in enumerate(SKILLS):
        for q in range(ITEMS_PER_SKILL):
            j = s * ITEMS_PER_SKILL + q
            items.append(
                {
                    "id": f"k_{skill}_{q + 1}",
                    "role": "knowledge",
                    "kind": "single_choice",
                    "section": "knowledge",
                    "skill": skill,
                    "dont_know": True,
                    "correct": [OPTIONS[(3 * j + 1) % len(OPTIONS)]],
                    "text": {"en": f"Question {q + 1} on {skill}"},
                    "options": [{"id": o, "text": {"en": f"Answer {o}"}} for o in OPTIONS],
                }
            )
    sections = ["self_assessment", "knowledge"]
    return {
        "id": COURSE_ID,
        "title": {"en": "Benchmark course: 6 agencies, 5 skills, 40 knowledge items"},
        "languages": ["en"],
        "min_cell_size": 3,
        "pairing": {"method": "issued_codes"},
        "agencies": [{"id": a, "name": {"en": name}} for a, name in AGENCIES],
        "skills": [{"id": s, "name": {"en": name}} for s, name in SKILLS],
        "scales": [{"id": "confidence", "min": 1, "max": 5}],
        "sections": [{"id": s, "title": {"en": s.replace("_", " ").title()}} for s in sections],
        "phases": [{"id": "pre", "sections": sections}, {"id": "post", "sections": sections}],
        "items": items,
    }


def build_course(definition: Mapping[str, Any]) -> Course:
    course = msgspec.convert(definition, type=Course)
    problems = check_course(course, {}, "course.toml")
    if problems:
        raise SystemExit("the synthetic course has problems:\n" + "\n".join(map(str, problems)))
    return course


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are TOML's too
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def toml_document(table: Mapping[str, Any]) -> str:
    """A tiny TOML writer: one key per line, tables inline, arrays of tables one per line."""
    lines = []
    for key, value in table.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines += [f"{key} = [", *(f"  {_toml_value(v)}," for v in value), "]"]
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def write_surveys(root: Path, definition: Mapping[str, Any], course: Course) -> Path:
    """surveys/<course>/course.toml and items.toml, checked to load back as `course`."""
    folder = root / "surveys" / COURSE_ID
    folder.mkdir(parents=True)
    meta = {k: v for k, v in definition.items() if k != "items"}
    (folder / "course.toml").write_text(toml_document(meta), encoding="utf-8")
    (folder / "items.toml").write_text(
        toml_document({"items": definition["items"]}), encoding="utf-8"
    )
    loaded = load_paths([root / "surveys"])
    if not loaded.ok or loaded.courses.get(COURSE_ID) != course:
        raise SystemExit(f"the TOML course does not load back: {loaded.problems}")
    return root / "surveys"


# -- the cohort --------------------------------------------------------------------------


@dataclass
class Cohort:
    """Participants in rows: paired first, then pre only, then post only."""

    agency: np.ndarray
    """Index into AGENCIES, per participant."""
    present: dict[str, np.ndarray]
    """phase -> whether the participant answered it."""
    correct: dict[str, np.ndarray]
    """phase -> participants x knowledge items, bool."""
    confidence: dict[str, np.ndarray]
    """phase -> participants x skills, likert point 1..5."""
    wrong: dict[str, np.ndarray]
    """phase -> participants x items: which wrong answer (0..2 another option, 3 don't know)."""
    n_paired: int

    @property
    def size(self) -> int:
        return int(self.agency.size)


def simulate(n_paired: int, seed: int) -> Cohort:
    rng = np.random.default_rng(seed)
    n_pre_only, n_post_only = round(n_paired * PRE_ONLY_SHARE), round(n_paired * POST_ONLY_SHARE)
    n = n_paired + n_pre_only + n_post_only
    row = np.arange(n)
    present = {
        "pre": row < n_paired + n_pre_only,
        "post": (row < n_paired) | (row >= n - n_post_only),
    }
    agency = rng.choice(len(AGENCIES), size=n, p=AGENCY_SHARES)
    n_agencies, n_skills, n_items = len(AGENCIES), len(SKILLS), len(SKILLS) * ITEMS_PER_SKILL

    start = rng.normal(-0.4, 0.45, (n_agencies, n_skills))  # logit of the typical level
    gain = rng.uniform(0.35, 1.3, (n_agencies, n_skills))
    gain[4, 3] = 0.0  # the courts learned nothing new on prosecution
    gain[5, 0] = 0.05  # nor the financial intelligence unit on detection
    ability = rng.normal(0.0, 0.9, (n, 1)) + rng.normal(0.0, 0.45, (n, n_skills))
    learned = gain[agency] + rng.normal(0.0, 0.35, (n, n_skills))
    difficulty = rng.normal(0.0, 0.8, n_items)
    item_skill = np.repeat(np.arange(n_skills), ITEMS_PER_SKILL)

    def knowledge(level: np.ndarray) -> np.ndarray:
        chance = 0.125 + 0.875 / (1.0 + np.exp(-(level[:, item_skill] - difficulty)))
        return rng.random((n, n_items)) < chance

    def confidence(level: np.ndarray) -> np.ndarray:
        latent = 2.7 + 0.5 * level + rng.normal(0.0, 0.7, (n, n_skills))
        return np.clip(np.rint(latent), 1, 5).astype(int)

    pre_level = start[agency] + ability
    post_level = pre_level + learned
    return Cohort(
        agency=agency,
        present=present,
        correct={"pre": knowledge(pre_level), "post": knowledge(post_level)},
        confidence={"pre": confidence(pre_level), "post": confidence(post_level)},
        wrong={phase: rng.integers(0, 4, (n, n_items)) for phase in PHASES},
        n_paired=n_paired,
    )


def participant_scores(course: Course, cohort: Cohort) -> list[ParticipantScores]:
    """Scores as `evalsvc.domain.scoring` derives them from the answers (see check_scoring)."""
    keys = (*course.skill_ids(), TOTAL)
    item_ids = [item.id for item in course.items_by_role("knowledge")]
    n_skills = len(course.skill_ids())
    columns: dict[str, tuple[list, list, list]] = {}
    for phase in PHASES:
        correct = cohort.correct[phase]
        earned = correct.reshape(cohort.size, n_skills, ITEMS_PER_SKILL).sum(axis=2)
        # scoring: 100.0 * points earned / points available, each item worth 1.0
        knowledge = np.column_stack(
            [
                100.0 * earned / float(ITEMS_PER_SKILL),
                100.0 * correct.sum(axis=1) / correct.shape[1],
            ]
        )
        likert = cohort.confidence[phase]
        confidence = np.column_stack([likert.astype(float), likert.sum(axis=1) / n_skills])
        columns[phase] = (knowledge.tolist(), confidence.tolist(), correct.tolist())

    agencies = [a for a, _ in AGENCIES]
    participants = []
    for i in range(cohort.size):
        phases: dict[str, PhaseScores | None] = {}
        for phase in PHASES:
            if not cohort.present[phase][i]:
                phases[phase] = None
                continue
            knowledge, confidence, correct = (column[i] for column in columns[phase])
            phases[phase] = PhaseScores(
                knowledge=dict(zip(keys, knowledge, strict=True)),
                confidence=dict(zip(keys, confidence, strict=True)),
                correct=dict(zip(item_ids, correct, strict=True)),
            )
        participants.append(
            ParticipantScores(i + 1, agencies[cohort.agency[i]], phases["pre"], phases["post"])
        )
    return participants


def answer_table(course: Course, cohort: Cohort, phase: str) -> list[list[object]]:
    """Every participant's answers to the knowledge items of one phase, in course order."""
    choices = []
    for item in course.items_by_role("knowledge"):
        others = [o for o in item.option_ids if o not in item.correct and o != DONT_KNOW]
        choices.append([*others, DONT_KNOW, item.correct[0]])
    table = np.array(choices, dtype=object)  # items x (3 wrong, don't know, key)
    index = np.where(cohort.correct[phase], 4, cohort.wrong[phase])
    return table[np.arange(table.shape[0]), index].tolist()


def answers_of(
    course: Course, cohort: Cohort, tables: Mapping[str, list[list[object]]], i: int, phase: str
) -> dict[str, object]:
    answers: dict[str, object] = {
        item.id: int(point)
        for item, point in zip(
            course.items_by_role("self_assessment"), cohort.confidence[phase][i], strict=True
        )
    }
    knowledge = course.items_by_role("knowledge")
    answers.update(zip((item.id for item in knowledge), tables[phase][i], strict=True))
    return answers


def check_scoring(
    course: Course, cohort: Cohort, participants: Sequence[ParticipantScores], sample: int = 300
) -> None:
    """On a sample: the answers validate, and scoring gives exactly our PhaseScores."""
    rng = np.random.default_rng(1)
    tables = {phase: answer_table(course, cohort, phase) for phase in PHASES}
    for i in rng.choice(cohort.size, size=min(sample, cohort.size), replace=False):
        for phase in PHASES:
            scores = getattr(participants[i], phase)
            if scores is None:
                continue
            answers = answers_of(course, cohort, tables, int(i), phase)
            validated = validate_answers(course, phase, answers)
            if not validated.ok or validated.answers != answers:
                raise SystemExit(f"synthetic answers do not validate: {validated.errors}")
            expected = scoring.score_submission(course, answers)
            ours = (scores.knowledge, scores.confidence, scores.correct)
            if expected != ours or [list(d) for d in expected] != [list(d) for d in ours]:
                raise SystemExit(f"participant {i + 1} {phase}: scores differ from scoring's")


def cohort_label(cohort: Cohort) -> str:
    pre_only = int(np.count_nonzero(cohort.present["pre"] & ~cohort.present["post"]))
    post_only = int(np.count_nonzero(cohort.present["post"] & ~cohort.present["pre"]))
    return (
        f"{cohort.n_paired:,} paired participants "
        f"(+{pre_only:,} pre only, +{post_only:,} post only)"
    )


# -- evalsvc, in memory --------------------------------------------------------------------


def evalsvc_tables(course: Course, participants: Sequence[ParticipantScores]) -> tuple:
    return (
        summarize(course, participants),
        item_analysis(course, participants),
        reliability(course, participants),
    )


def split_times(course: Course, participants: Sequence[ParticipantScores]) -> str:
    """One more run, each function timed on its own."""
    parts = []
    for function in (summarize, item_analysis, reliability):
        started = time.perf_counter()
        function(course, participants)
        parts.append(f"{function.__name__} {time.perf_counter() - started:.3f} s")
    return ", ".join(parts)


def keyed(summary: Any, items: Any, reliability_rows: Any) -> dict[tuple, dict[str, Any]]:
    """Rows as plain dicts (from Structs or from the JSON of the endpoints), by table and keys."""
    summary, items, reliability_rows = msgspec.to_builtins((summary, items, reliability_rows))
    rows: dict[tuple, dict[str, Any]] = {}
    for row in summary["rows"]:
        rows[("summary", row["measure"], row["agency"], row["skill"])] = row
    for row in summary["agency_comparison"]:
        rows[("agency_comparison", row["measure"], row["skill"])] = row
    for row in items:
        rows[("items", row["item"])] = row
    for row in reliability_rows:
        rows[("reliability", row["skill"], row["phase"])] = row
    return rows


def median_time(work: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    result: object = None

    def run(self, work: Callable[[], object]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.result = work()
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


def race(
    first: Callable[[], object], second: Callable[[], object], rounds: int
) -> tuple[Timing, Timing]:
    """Alternate the two, so that other load on the machine slows both alike."""
    timings = Timing(), Timing()
    for _ in range(rounds):
        for timing, work in zip(timings, (first, second), strict=True):
            timing.run(work)
    return timings


# -- the peer: pandas + scipy, written the straightforward way -----------------------------


def peer_frames(
    course: Course, participants: Sequence[ParticipantScores]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What an analyst loads: scores in long format, item correctness one row per submission."""
    score_records = [
        (person.participant, person.agency, phase, measure, skill, value)
        for person in participants
        for phase in PHASES
        if (phase_scores := getattr(person, phase)) is not None
        for measure in MEASURES
        for skill, value in getattr(phase_scores, measure).items()
    ]
    scores = pd.DataFrame.from_records(
        score_records, columns=["participant", "agency", "phase", "measure", "skill", "score"]
    )
    item_ids = [item.id for item in course.items_by_role("knowledge")]
    item_records = [
        (person.participant, person.agency, phase, *(answered.correct[i] for i in item_ids))
        for person in participants
        for phase in PHASES
        if (answered := getattr(person, phase)) is not None
    ]
    items = pd.DataFrame.from_records(
        item_records, columns=["participant", "agency", "phase", *item_ids]
    )
    items[item_ids] = items[item_ids].astype(float)
    return scores, items


def peer_hedges_j(df: int) -> float:
    """Exact J(df) = Γ(df/2) / (√(df/2) Γ((df-1)/2)); gammaln once Γ would overflow."""
    if df < 300:
        return float(special.gamma(df / 2) / (math.sqrt(df / 2) * special.gamma((df - 1) / 2)))
    return float(
        math.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / math.sqrt(df / 2)
    )


def peer_ncp_interval(t_obs: float, df: int) -> tuple[float, float]:
    """95% interval of the noncentrality: nct.cdf(t_obs, df, ncp) = 0.975 and 0.025.

    Bracketed by ten approximate standard errors of the ncp, sqrt(1 + t^2 / (2 df)),
    each side: far out in the tail scipy's nct.cdf can return NaN (e.g. t = 26,
    df = 1200, ncp = 62), which brentq refuses.
    """
    span = 10.0 * math.sqrt(1.0 + t_obs**2 / (2.0 * df))

    def root(target: float) -> float:
        return optimize.brentq(
            lambda ncp: sps.nct.cdf(t_obs, df, ncp) - target, t_obs - span, t_obs + span, xtol=1e-12
        )

    return root(0.975), root(0.025)


def peer_cell(
    measure: str, pre_all: np.ndarray, post_all: np.ndarray, paired: pd.DataFrame
) -> dict:
    pre, post = paired["pre"].to_numpy(), paired["post"].to_numpy()
    n = len(paired)
    gains = post - pre
    # Scores such as 3.2 and 2.4 (likert means) differ by 0.8000000000000003 or by
    # 0.7999999999999998 depending on the pair; evalsvc rounds differences to 10
    # decimals (stats.DECIMALS) so that equal gains are tied, and so does the peer
    # wherever ties or zeros matter (ranks, counts).
    rounded = np.round(gains, 10)
    t_test = sps.ttest_rel(post, pre)
    interval = t_test.confidence_interval(0.95)
    wilcoxon = sps.wilcoxon(rounded)
    nonzero = rounded[rounded != 0]
    ranks = sps.rankdata(np.abs(nonzero))
    d_z = gains.mean() / gains.std(ddof=1)
    ncp_low, ncp_high = peer_ncp_interval(float(t_test.statistic), n - 1)
    j = peer_hedges_j(n - 1)
    welch = sps.ttest_ind(post_all, pre_all, equal_var=False)
    row = {
        "n_pre": pre_all.size,
        "n_post": post_all.size,
        "n_paired": n,
        "pre_mean": pre.mean(),
        "post_mean": post.mean(),
        "pre_sd": pre.std(ddof=1),
        "post_sd": post.std(ddof=1),
        "mean_gain": gains.mean(),
        "gain_sd": gains.std(ddof=1),
        "gain_ci_low": interval.low,
        "gain_ci_high": interval.high,
        "t_statistic": t_test.statistic,
        "t_df": t_test.df,
        "t_pvalue": t_test.pvalue,
        "wilcoxon_statistic": wilcoxon.statistic,
        "wilcoxon_pvalue": wilcoxon.pvalue,
        "rank_biserial": (ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()) / ranks.sum(),
        "cohens_dz": d_z,
        "dz_ci_low": ncp_low / math.sqrt(n),
        "dz_ci_high": ncp_high / math.sqrt(n),
        "hedges_gz": j * d_z,
        "hedges_gz_ci_low": j * ncp_low / math.sqrt(n),
        "hedges_gz_ci_high": j * ncp_high / math.sqrt(n),
        "n_improved": int((rounded > 0).sum()),
        "n_unchanged": int((rounded == 0).sum()),
        "n_declined": int((rounded < 0).sum()),
        "pre_mean_all": pre_all.mean(),
        "post_mean_all": post_all.mean(),
        "welch_t_pvalue": welch.pvalue,
    }
    if measure == "knowledge":
        row["normalized_gain"] = (post.mean() - pre.mean()) / (100.0 - pre.mean())
    return row


def peer_holm(pvalues: Sequence[float]) -> list[float]:
    """Holm by hand: sort, multiply the i-th smallest by (m - i), running maximum, cap at 1."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out = np.empty(m)
    out[order] = adjusted
    return out.tolist()


def peer_welch_df2(groups: Sequence[np.ndarray]) -> float:
    sizes = np.array([g.size for g in groups], dtype=float)
    weights = sizes / np.array([g.var(ddof=1) for g in groups])
    spread = ((1 - weights / weights.sum()) ** 2 / (sizes - 1)).sum()
    return (len(groups) ** 2 - 1) / (3 * spread)


def peer_summary(scores: pd.DataFrame) -> dict[tuple, dict[str, Any]]:
    wide = scores.pivot(
        index=["measure", "skill", "agency", "participant"], columns="phase", values="score"
    ).reset_index()
    cells = pd.concat([wide, wide.assign(agency=ALL)], ignore_index=True)
    rows: dict[tuple, dict[str, Any]] = {}
    for (measure, agency, skill), cell in cells.groupby(["measure", "agency", "skill"]):
        paired = cell.dropna(subset=["pre", "post"])
        pre_all, post_all = cell["pre"].dropna().to_numpy(), cell["post"].dropna().to_numpy()
        rows[("summary", measure, agency, skill)] = peer_cell(measure, pre_all, post_all, paired)
    for measure in MEASURES:
        family = [key for key in rows if key[1] == measure]
        for key, p in zip(family, peer_holm([rows[k]["t_pvalue"] for k in family]), strict=True):
            rows[key]["p_holm"] = p

    paired_wide = wide.dropna(subset=["pre", "post"])
    for (measure, skill), block in paired_wide.groupby(["measure", "skill"]):
        gains = [
            np.round((g["post"] - g["pre"]).to_numpy(), 10) for _, g in block.groupby("agency")
        ]
        kruskal = sps.kruskal(*gains)
        welch = sps.f_oneway(*gains, equal_var=False)
        rows[("agency_comparison", measure, skill)] = {
            "n_groups": len(gains),
            "kruskal_h": kruskal.statistic,
            "kruskal_pvalue": kruskal.pvalue,
            "welch_f": welch.statistic,
            "welch_df1": len(gains) - 1,
            "welch_df2": peer_welch_df2(gains),
            "welch_pvalue": welch.pvalue,
        }
    return rows


def peer_items(items: pd.DataFrame, course: Course) -> dict[tuple, dict[str, Any]]:
    item_ids = [item.id for item in course.items_by_role("knowledge")]
    by_phase = {
        phase: items[items["phase"] == phase].set_index("participant")[item_ids] for phase in PHASES
    }
    pre, post = by_phase["pre"].align(by_phase["post"], join="inner")
    rows: dict[tuple, dict[str, Any]] = {}
    for item in item_ids:
        row: dict[str, Any] = {}
        for phase, answers in by_phase.items():
            rest = answers.sum(axis=1) - answers[item]
            row[f"n_{phase}"] = len(answers)
            row[f"p_{phase}"] = answers[item].mean()
            row[f"discrimination_{phase}"] = sps.pointbiserialr(answers[item], rest).statistic
        b = int(((pre[item] == 0) & (post[item] == 1)).sum())
        c = int(((pre[item] == 1) & (post[item] == 0)).sum())
        row.update(
            n_paired=len(pre),
            mcnemar_b=b,
            mcnemar_c=c,
            mcnemar_p=sps.binomtest(min(b, c), b + c, 0.5).pvalue,
        )
        rows[("items", item)] = row

    skills = {
        skill: [i.id for i in course.items_by_role("knowledge") if i.skill == skill]
        for skill in course.skill_ids()
    }
    skills[TOTAL] = item_ids
    for skill, columns in skills.items():
        for phase, answers in by_phase.items():
            chosen = answers[columns]
            k = len(columns)
            kr20 = k / (k - 1) * (1 - chosen.var().sum() / chosen.sum(axis=1).var())
            rows[("reliability", skill, phase)] = {"n": len(chosen), "k": k, "kr20": kr20}
    return rows


def peer_tables(course: Course, frames: tuple[pd.DataFrame, pd.DataFrame]) -> dict:
    scores, items = frames
    return {**peer_summary(scores), **peer_items(items, course)}


# -- comparing -----------------------------------------------------------------------------


@dataclass
class Agreement:
    compared: int = 0
    """Numeric values compared (ints and floats; None against None counts)."""
    other_fields: int = 0
    """Text, flag and list fields compared for equality (only when the reference has them)."""
    max_difference: float = 0.0
    where: str = "-"
    per_table: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def difference(a: float, b: float) -> float:
    """Absolute for values up to 1, relative above: |a - b| / max(1, |a|, |b|)."""
    if a == b:
        return 0.0
    return abs(a - b) / max(1.0, abs(a), abs(b))


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def compare(
    reference: Mapping[tuple, Mapping[str, Any]], ours: Mapping[tuple, Mapping[str, Any]]
) -> Agreement:
    """Every field of every reference row against ours, matched by keys.

    Numbers must agree to TOLERANCE (see `difference`); NaN and None both mean "no
    value"; a missing row or a value on one side only is a disagreement.
    """
    agreement = Agreement()
    for key, expected in reference.items():
        got = ours.get(key)
        if got is None:
            agreement.problems.append(f"{key}: no such row")
            continue
        for name, value in expected.items():
            if isinstance(value, str | bool | list | dict):
                agreement.other_fields += 1
                if got.get(name) != value:
                    agreement.problems.append(f"{key} {name}: {value!r} vs {got.get(name)!r}")
                continue
            want, have = _number(value), _number(got.get(name))
            agreement.compared += 1
            agreement.per_table[key[0]] = agreement.per_table.get(key[0], 0) + 1
            if want is None or have is None:
                if want is not None or have is not None:
                    agreement.problems.append(f"{key} {name}: {value!r} vs {got.get(name)!r}")
                continue
            diff = difference(want, have)
            if diff > agreement.max_difference:
                agreement.max_difference, agreement.where = diff, f"{'/'.join(key)} {name}"
            if diff > TOLERANCE:
                agreement.problems.append(f"{key} {name}: {want!r} vs {have!r}")
    return agreement


def report_agreement(label: str, agreement: Agreement) -> bool:
    tables = ", ".join(f"{name} {count:,}" for name, count in agreement.per_table.items())
    others = f"; {agreement.other_fields:,} other fields equal" if agreement.other_fields else ""
    verdict = "agree" if not agreement.problems else f"{len(agreement.problems)} DISAGREE"
    print(
        f"{label}: {agreement.compared:,} numeric values compared ({tables}){others}; "
        f"max difference {agreement.max_difference:.1e} ({agreement.where}); tolerance "
        f"{TOLERANCE:g}, absolute up to 1 and relative above: {verdict}"
    )
    for problem in agreement.problems[:20]:
        print(f"  {problem}")
    return not agreement.problems


# -- the database and the server ------------------------------------------------------------


def submissions(
    course: Course,
    cohort: Cohort,
    participants: Sequence[ParticipantScores],
    limit: int | None,
) -> Iterator[NewSubmission]:
    """Each participant's pre then post, as `Intake.store` would write them."""
    secret = SECRET.encode()
    tables = {phase: answer_table(course, cohort, phase) for phase in PHASES}
    encode = msgspec.json.encode
    count = 0
    for i, person in enumerate(participants):
        hashed = code_hash(secret, course.id, f"{i + 1:08d}")  # the participant's card
        for bit, phase in enumerate(PHASES):
            scores = getattr(person, phase)
            if scores is None:
                continue
            if limit is not None and count >= limit:
                return
            answers = encode(answers_of(course, cohort, tables, i, phase)).decode()
            receipt = f"{2 * i + bit:012X}"
            yield NewSubmission(
                submission_id=str(uuid.uuid4()),
                body_hash=keyed_hash(secret, "body", course.id, phase, answers),
                receipt=f"{receipt[:4]}-{receipt[4:8]}-{receipt[8:]}",
                course=course.id,
                phase=phase,
                code_hash=hashed,
                agency=person.agency,
                lang="en",
                answers_json=answers,
                scores_json=encode(scores).decode(),
                feedback_json="{}",  # the synthetic course has no feedback items
                received_at=utc_now(),
            )
            count += 1


async def _store(db_path: Path, news: Iterator[NewSubmission]) -> int:
    db = Database(db_path)
    await db.open()
    stored = 0
    try:
        while chunk := [db.store_submission(new) for new in itertools.islice(news, SUBMIT_CHUNK)]:
            results = await asyncio.gather(*chunk)
            stored += sum(result.created for result in results)
    finally:
        await db.close()
    return stored


def store_cohort(db_path: Path, news: Iterator[NewSubmission]) -> tuple[int, float]:
    started = time.perf_counter()
    stored = asyncio.run(_store(db_path, news))
    return stored, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`evalsvc serve` on 127.0.0.1 as a subprocess, stopped (by its pid) on exit."""

    def __init__(self, tmp: Path, db_path: Path, surveys: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "EVALSVC_DB": str(db_path),
            "EVALSVC_SURVEYS": str(surveys),
            "EVALSVC_SECRET": SECRET,
            "EVALSVC_SECRET_FILE": str(tmp / "unused-secret.key"),
        }
        self.cwd = tmp
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        command = [sys.executable, "-m", "evalsvc.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--log-level", "warning"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.__exit__()
        raise SystemExit(f"the server did not start:\n{self.log_path.read_text()[-2000:]}")

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


def settings_for(db_path: Path, surveys: Path) -> Settings:
    return Settings(db_path=db_path, surveys_path=surveys, secret_key=SECRET.encode())


def time_endpoints(server: Server, token: str, repeats: int = 5) -> tuple[dict, dict, list[str]]:
    """Median seconds per endpoint (after one warm-up), their JSON, and any failures."""
    medians: dict[str, float] = {}
    bodies: dict[str, Any] = {}
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=120) as client:
        for name in ENDPOINTS:
            path = f"/api/v1/courses/{COURSE_ID}/{name}"
            warm = client.get(path)
            if warm.status_code != 200:
                hint = " (evaluator API not wired into app.py?)" if warm.status_code == 404 else ""
                failures.append(f"GET {path}: {warm.status_code}{hint} {warm.text[:200]}")
                continue
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - started)
                if response.status_code != 200:
                    failures.append(f"GET {path}: {response.status_code}")
            medians[name] = statistics.median(times)
            bodies[name] = response.json()
    return medians, bodies, failures


def cold_times(tmp: Path, db_path: Path, surveys: Path, token: str, repeats: int = 3) -> list:
    """Seconds of the first GET .../summary after each fresh start: the request that
    reads every submission from the database and computes the report (later requests
    reuse it until a submission arrives)."""
    times = []
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(repeats):
        with Server(tmp, db_path, surveys) as server:
            started = time.perf_counter()
            response = httpx.get(
                f"{server.base}/api/v1/courses/{COURSE_ID}/summary", headers=headers, timeout=120
            )
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"cold GET summary: {response.status_code}")
    return times


def report_breakdown(db_path: Path, course: Course) -> dict[str, float]:
    """Seconds of the steps of one endpoint's report, run here against the same database."""

    async def steps() -> dict[str, float]:
        db = Database(db_path)
        await db.open()
        try:
            times: dict[str, list[float]] = {}
            for _ in range(3):
                marks = [time.perf_counter()]
                participants = await reports.load_participants(db, course)
                marks.append(time.perf_counter())
                feedback = await reports.load_feedback(db, course)
                marks.append(time.perf_counter())
                reports.report_from(course, participants, feedback, "en")
                marks.append(time.perf_counter())
                names = ("load_participants", "load_feedback", "report_from")
                for name, begin, end in zip(names, marks, marks[1:], strict=False):
                    times.setdefault(name, []).append(end - begin)
            return {name: statistics.median(values) for name, values in times.items()}
        finally:
            await db.close()

    return asyncio.run(steps())


# -- the 10,000 participants part ----------------------------------------------------------


def part_10k(tmp: Path, course: Course, surveys: Path, seed: int) -> bool:
    print("== 10,000 participants: in memory and over HTTP ==")
    started = time.perf_counter()
    cohort = simulate(10_000, seed)
    participants = participant_scores(course, cohort)
    check_scoring(course, cohort, participants)
    print(
        f"data: {cohort_label(cohort)}, {len(AGENCIES)} agencies, {len(SKILLS)} skills, "
        f"{len(course.items_by_role('knowledge'))} knowledge items + "
        f"{len(course.items_by_role('self_assessment'))} self-assessment likert items "
        f"(built in {time.perf_counter() - started:.1f} s; scores match "
        "evalsvc.domain.scoring on a sample)"
    )

    frames_started = time.perf_counter()
    frames = peer_frames(course, participants)
    frames_time = time.perf_counter() - frames_started
    ours_timing, peer_timing = race(
        lambda: evalsvc_tables(course, participants), lambda: peer_tables(course, frames), 5
    )
    ours, peer = ours_timing.result, peer_timing.result
    summary = ours[0]
    suppressed = sum(row.suppressed for row in summary.rows)
    print(
        f"(a) in memory, evalsvc summarize + item_analysis + reliability: "
        f"{ours_timing.median:.3f} s (CPU {ours_timing.median_cpu:.3f} s; "
        f"{len(summary.rows)} summary rows, {suppressed} suppressed)"
    )
    print(f"    one more run, split: {split_times(course, participants)}")
    print(
        f"(a) in memory, pandas + scipy peer, same tables: {peer_timing.median:.3f} s "
        f"(CPU {peer_timing.median_cpu:.3f} s; its DataFrames took {frames_time:.2f} s more, "
        "not counted)"
    )
    print("    medians of 5 runs each, the two alternating")
    ours_rows = keyed(*ours)
    ok = report_agreement("agreement with pandas + scipy", compare(peer, ours_rows))
    speedup = peer_timing.median / ours_timing.median
    print(f"speed-up vs pandas+scipy: {speedup:.1f}x")
    print(f"    (by CPU time: {peer_timing.median_cpu / ours_timing.median_cpu:.1f}x)")

    db_path = tmp / "bench-10k.sqlite3"
    news = submissions(course, cohort, participants, None)
    stored, store_time = store_cohort(db_path, news)
    expected = sum(int(np.count_nonzero(cohort.present[p])) for p in PHASES)
    print(
        f"(b) stored {stored:,} submissions through Database.store_submission in "
        f"{store_time:.1f} s ({stored / store_time:,.0f}/s, building them included)"
    )
    if stored != expected:
        print(f"  expected {expected:,} submissions stored: FAILED")
        ok = False
    _, token = commands.create_token(settings_for(db_path, surveys), "evaluator", "bench")
    cold = cold_times(tmp, db_path, surveys, token)
    print(
        "(b) GET .../summary, cold (reads the database, computes the report): "
        f"{statistics.median(cold):.3f} s (median of {len(cold)} fresh starts: "
        + ", ".join(f"{t:.3f}" for t in cold)
        + ")"
    )
    with Server(tmp, db_path, surveys) as server:
        medians, bodies, failures = time_endpoints(server, token)
    for failure in failures:
        print(f"  FAILED: {failure}")
    for name in ENDPOINTS:
        if name in medians:
            print(
                f"(b) GET .../{name}, warm: {medians[name]:.3f} s "
                "(median of 5 after a warm-up; the report is reused while no data changes)"
            )
    total = sum(medians.values())
    if len(medians) == len(ENDPOINTS):
        print(f"(b) the three endpoints together: {total:.3f} s")
        served = keyed(
            {
                "rows": bodies["summary"]["rows"],
                "agency_comparison": bodies["summary"]["agency_comparison"],
            },
            bodies["items"]["rows"],
            bodies["reliability"]["rows"],
        )
        ok &= report_agreement("served (HTTP) against in memory", compare(ours_rows, served))
    ok &= not failures
    steps = report_breakdown(db_path, course)
    print(
        "(b) the cold request's steps, run in this process on the "
        "same database (median of 3): "
        + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in steps.items())
    )

    print("goals:")
    verdict = "goal met" if speedup >= SPEEDUP_GOAL else "goal NOT met"
    print(f"  at least {SPEEDUP_GOAL:g}x faster than pandas+scipy: {speedup:.1f}x -- {verdict}")
    if len(medians) == len(ENDPOINTS):
        worst = max(cold)
        each = "goal met" if worst < ENDPOINT_GOAL_SECONDS else "goal NOT met"
        print(
            f"  summary from the database under {ENDPOINT_GOAL_SECONDS:g} s, cold: slowest "
            f"{worst:.3f} s -- {each}"
        )
        together = "goal met" if worst + total < ENDPOINT_GOAL_SECONDS else "goal NOT met"
        print(
            f"  summary + items + reliability under {ENDPOINT_GOAL_SECONDS:g} s, one cold and "
            f"two warm: {worst + total:.3f} s -- {together}"
        )
    else:
        print(f"  endpoints under {ENDPOINT_GOAL_SECONDS:g} s: not measured -- goal NOT met")
    return ok


# -- the 100,000 participants part ---------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_rss = 0
        self.samples = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_rss = max(self.peak_rss, proc_status(self.pid)["VmRSS"])
            self.samples += 1
            time.sleep(self.every)


def stream_responses(server: Server, token: str) -> dict[str, Any]:
    before = proc_status(server.pid)
    sampler = RssSampler(server.pid)
    sampler.start()
    received = newlines = 0
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{server.base}/api/v1/courses/{COURSE_ID}/responses.csv"
    try:
        with (
            httpx.Client(timeout=300) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            status = response.status_code
            for chunk in response.iter_bytes():
                received += len(chunk)
                newlines += chunk.count(b"\n")
    finally:
        elapsed = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
    after = proc_status(server.pid)
    return {
        "status": status,
        "bytes": received,
        "rows": newlines - 1,  # the header; no answer of this course holds a line break
        "seconds": elapsed,
        "hwm_before": before["VmHWM"],
        "rss_before": before["VmRSS"],
        "sampled_peak": sampler.peak_rss,
        "hwm_after": after["VmHWM"],
        "samples": sampler.samples,
    }


def part_100k(tmp: Path, course: Course, surveys: Path, seed: int) -> bool:
    print("== 100,000 participants: in memory, and responses.csv streamed ==")
    started = time.perf_counter()
    cohort = simulate(100_000, seed + 1)
    participants = participant_scores(course, cohort)
    print(f"data: {cohort_label(cohort)} (built in {time.perf_counter() - started:.1f} s)")

    seconds, _ = median_time(lambda: evalsvc_tables(course, participants), 3)
    print(f"in memory, summarize + item_analysis + reliability: {seconds:.2f} s (median of 3)")
    print(f"    one more run, split: {split_times(course, participants)}")
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    evalsvc_tables(course, participants)
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    print(
        f"in memory, peak memory of that computation: {peak / 2**20:.0f} MiB (tracemalloc: "
        "allocations made during the computation, inputs excluded; "
        f"this process's VmHWM overall: {proc_status(os.getpid())['VmHWM'] / 1024:.0f} MiB)"
    )

    db_path = tmp / "bench-100k.sqlite3"
    wanted = 100_000
    stored, store_time = store_cohort(db_path, submissions(course, cohort, participants, wanted))
    print(
        f"stored {stored:,} submissions (the first {stored // 2:,} paired participants) in "
        f"{store_time:.1f} s ({stored / store_time:,.0f}/s, building them included); database "
        f"{db_path.stat().st_size / 2**20:.0f} MiB"
    )
    _, token = commands.create_token(settings_for(db_path, surveys), "analyst", "bench")
    with Server(tmp, db_path, surveys) as server:
        result = stream_responses(server, token)
    mib = 1024.0
    print(
        f"GET .../responses.csv: HTTP {result['status']}, {result['bytes'] / 2**20:.1f} MiB, "
        f"{result['rows']:,} rows in {result['seconds']:.1f} s "
        f"({result['bytes'] / 2**20 / result['seconds']:.1f} MiB/s)"
    )
    growth = (result["hwm_after"] - result["hwm_before"]) / mib
    print(
        f"server memory: peak RSS (VmHWM) before the download {result['hwm_before'] / mib:.0f} MiB "
        f"(RSS {result['rss_before'] / mib:.0f} MiB); during it: sampled peak VmRSS "
        f"{result['sampled_peak'] / mib:.0f} MiB ({result['samples']:,} samples), VmHWM "
        f"{result['hwm_after'] / mib:.0f} MiB -- grew {growth:.0f} MiB while "
        f"{result['bytes'] / 2**20:.0f} MiB were sent"
    )
    ok = result["status"] == 200 and result["rows"] == stored == wanted
    if not ok:
        print(f"  FAILED: expected HTTP 200 and {wanted:,} rows stored and received")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--quick", action="store_true", help="only the 10,000 participants part")
    which.add_argument("--large", action="store_true", help="only the 100,000 participants part")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    started = time.perf_counter()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} at the start (wall-clock times)")
    definition = course_definition()
    course = build_course(definition)
    ok = True
    with tempfile.TemporaryDirectory(prefix="evalsvc-bench-stats-") as name:
        tmp = Path(name)
        surveys = write_surveys(tmp, definition, course)
        if not args.large:
            ok &= part_10k(tmp, course, surveys, args.seed)
        if not args.quick:
            ok &= part_100k(tmp, course, surveys, args.seed)
    print(f"{'ok' if ok else 'FAILED'} in {time.perf_counter() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
