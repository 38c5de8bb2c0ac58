#!/usr/bin/env python3
"""The evaluators' statistics: evalsvc against pandas + scipy, in memory and over HTTP.

    .venv/bin/python scripts/bench_stats.py [--quick | --large] [--rounds N] [--seed S]

No flag runs both parts; ``--quick`` only the first, ``--large`` only the second.

The synthetic course: 6 agencies of unequal size, 5 skills, 40 single-choice knowledge
items (8 per skill, each offering "I don't know") and one self-assessment likert item
per skill; three phases, ``pre`` (with the optional breakdown item ``pr_sex``: female,
male, or not answered = ``not_stated``), ``post`` (with a feedback likert item) and
``follow_up`` (with a single-choice "have you applied it" item), so the three default
comparisons pre_post, pre_follow_up and post_follow_up; a pass mark of 70. Each
participant has an ability per skill, each agency a starting level and a gain per
skill (two agency x skill cells gain nothing), and part of the gain is forgotten by the
follow-up. Some skip the pre or the post questionnaire, and about a third drop out
before the follow-up, the weaker ones more often. Answers are drawn item by item
("I don't know" more often the less one knows); the stored scores are derived from
them as `evalsvc.domain.scoring` does (checked on a sample against
`evalsvc.domain.derived.derive`, answers validated). Seeded.

1. **10,000 participants** (about 26,000 submissions).

   a. In memory: evalsvc's whole analysis, `analysis.analyse(course, design, cohort)`
      (every measure, comparison, breakdown and skill; attrition, item analysis,
      reliability, answer summaries, and the disclosure plan with its verifier), against
      the tables an analyst would compute with pandas and scipy (groupby, scipy per
      cell): the paired summary of every comparison for the "all", agency and sex rows
      with Holm's adjustment in the same fixed families, the pass-mark view, the
      between-group tests, the attrition table, item analysis and KR-20. Each side starts
      from its ready-made inputs (evalsvc's `Cohort`, the peer's long-format DataFrames),
      whose construction is not counted. Medians of ``--rounds`` runs each (default 5),
      the two alternating so that other load on the machine slows both alike; the
      speed-up is the ratio of the wall-clock medians (the CPU-time ratio is printed
      beside it).
      Every value the peer computes is compared with evalsvc's, matched by keys; the run
      fails when a number differs by more than 1e-9, absolute for values up to 1 and
      relative above (|a - b| <= 1e-9 * max(1, |a|, |b|)), or a text differs.
   b. Over HTTP: the submissions are written into a temporary SQLite database through
      `Storage.store_submission` (opened with `open_storage`), a real `evalsvc serve`
      subprocess is started on 127.0.0.1 with the course as TOML in a temporary surveys
      folder, and the first GET /api/v1/courses/{course}/summary after each of three
      fresh starts is timed (cold: it reads every submission and computes the whole
      report), then /summary, /attrition, /items and /reliability warm, with an evaluator
      token; the served numbers are compared with the in-memory ones. The cold request's
      steps are then timed in this process on the same database.

2. **100,000 participants**: the whole analysis in memory (`analyse`, the cohort built,
   as in 1a; median of 3), the report from the stored rows (`reports.report_from`:
   decoding the scores, the cohort, the analysis; median of 3), and its peak memory
   (tracemalloc: allocations during the computation, inputs excluded; a separate run).
   Then 100,000 submissions (the first participants, every phase they answered) are
   written into a fresh database, and responses.csv is streamed from a server started
   for it with an analyst token, while the server's VmRSS and VmHWM are sampled from
   /proc/<pid>/status.

Exit status: 0 when everything ran and agreed; 1 when a value disagrees, a request
fails or a count is off. The goals (at least 5x faster than pandas + scipy; the cold
summary of 10,000 participants under 0.3 s; 100,000 participants under 2 s, printed for
the analysis and for the report from stored rows) are printed as "goal met" / "goal NOT
met" and do not change the exit status.
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
from evalsvc.domain.analysis import Analysis, analyse  # noqa: E402
from evalsvc.domain.answers import validate_answers  # noqa: E402
from evalsvc.domain.codes import code_hash, keyed_hash  # noqa: E402
from evalsvc.domain.derived import derive  # noqa: E402
from evalsvc.domain.design import ALL, Design, analysis_design  # noqa: E402
from evalsvc.domain.questionnaire import DONT_KNOW, NOT_STATED, Course, check_course  # noqa: E402
from evalsvc.settings import Settings  # noqa: E402
from evalsvc.storage import open_storage  # noqa: E402
from evalsvc.storage.records import (  # noqa: E402
    NewSubmission,
    ScoreRow,
    utc_now,
)

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
PHASES = ("pre", "post", "follow_up")
SEX_ITEM, SEXES, SEX_SHARES, SEX_UNSTATED = "pr_sex", ("female", "male"), (0.38, 0.62), 0.04
FEEDBACK_ITEM, APPLIED_ITEM = "fb_useful", "fu_applied"
APPLIED = ("several", "once", "not_needed", "not_possible")
PASS_MARK = 70.0
MEASURES = ("knowledge", "confidence", "dont_know")
DONT_KNOW_CHOICE, KEY_CHOICE = 3, 4
"""Answer codes per knowledge item: 0..2 a wrong option, 3 "I don't know", 4 the key."""
TOLERANCE = 1e-9
SPEEDUP_GOAL = 5.0
COLD_GOAL_SECONDS = 0.3
LARGE_GOAL_SECONDS = 2.0
ENDPOINTS = ("summary", "attrition", "items", "reliability")
SUBMIT_CHUNK = 500


# -- the course --------------------------------------------------------------------------


def _text(value: str) -> dict[str, str]:
    return {"en": value}


def course_definition() -> dict[str, Any]:
    """The synthetic course as the dict its TOML files decode to."""
    items: list[dict[str, Any]] = [
        {
            "id": SEX_ITEM,
            "role": "profile",
            "kind": "single_choice",
            "section": "profile",
            "breakdown": True,
            "text": _text("Your sex"),
            "options": [{"id": s, "text": _text(s.title())} for s in SEXES],
        }
    ]
    items += [
        {
            "id": f"sa_{skill}",
            "role": "self_assessment",
            "kind": "likert",
            "scale": "confidence",
            "section": "self_assessment",
            "skill": skill,
            "required": True,
            "text": _text(f"How confident are you in {name.lower()}?"),
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
                    "text": _text(f"Question {q + 1} on {skill}"),
                    "options": [{"id": o, "text": _text(f"Answer {o}")} for o in OPTIONS],
                }
            )
    items += [
        {
            "id": FEEDBACK_ITEM,
            "role": "feedback",
            "kind": "likert",
            "scale": "agreement",
            "section": "feedback",
            "text": _text("The course was useful for my work"),
        },
        {
            "id": APPLIED_ITEM,
            "role": "feedback",
            "kind": "single_choice",
            "section": "application",
            "text": _text("Since the course, have you traced a firearm?"),
            "options": [{"id": a, "text": _text(a.replace("_", " "))} for a in APPLIED],
        },
    ]
    sections = ["profile", "self_assessment", "knowledge", "feedback", "application"]
    return {
        "id": COURSE_ID,
        "title": _text("Benchmark course: 6 agencies, 5 skills, 40 knowledge items, 3 phases"),
        "languages": ["en"],
        "min_cell_size": 3,
        "pass_mark": PASS_MARK,
        "pairing": {"method": "issued_codes"},
        "agencies": [{"id": a, "name": _text(name)} for a, name in AGENCIES],
        "skills": [{"id": s, "name": _text(name)} for s, name in SKILLS],
        "scales": [
            {"id": "confidence", "min": 1, "max": 5},
            {"id": "agreement", "min": 1, "max": 5},
        ],
        "sections": [{"id": s, "title": _text(s.replace("_", " ").title())} for s in sections],
        "phases": [
            {"id": "pre", "sections": ["profile", "self_assessment", "knowledge"]},
            {"id": "post", "sections": ["self_assessment", "knowledge", "feedback"]},
            {"id": "follow_up", "sections": ["self_assessment", "knowledge", "application"]},
        ],
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


# -- the participants ----------------------------------------------------------------------


@dataclass
class Synthetic:
    """The simulated participants, one row each (participant number = row + 1)."""

    agency: np.ndarray
    """Index into AGENCIES."""
    sex: np.ndarray
    """Index into SEXES; -1 did not answer."""
    present: dict[str, np.ndarray]
    """phase -> answered it."""
    choice: dict[str, np.ndarray]
    """phase -> participants x knowledge items: 0..2 a wrong option, 3 "I don't know", 4 key."""
    confidence: dict[str, np.ndarray]
    """phase -> participants x skills: likert point 1..5."""
    useful: np.ndarray
    """post feedback likert 1..5; 0 not answered."""
    applied: np.ndarray
    """follow-up item: index into APPLIED; -1 not answered."""

    @property
    def size(self) -> int:
        return int(self.agency.size)


def simulate(n: int, seed: int) -> Synthetic:
    rng = np.random.default_rng(seed)
    n_agencies, n_skills, n_items = len(AGENCIES), len(SKILLS), len(SKILLS) * ITEMS_PER_SKILL
    agency = rng.choice(n_agencies, size=n, p=AGENCY_SHARES)
    sex = rng.choice(len(SEXES), size=n, p=SEX_SHARES)
    sex[rng.random(n) < SEX_UNSTATED] = -1

    start = rng.normal(-0.4, 0.45, (n_agencies, n_skills))  # logit of the typical level
    gain = rng.uniform(0.35, 1.3, (n_agencies, n_skills))
    gain[4, 3] = 0.0  # the courts learned nothing new on prosecution
    gain[5, 0] = 0.05  # nor the financial intelligence unit on detection
    general = rng.normal(0.0, 0.9, (n, 1))
    ability = general + rng.normal(0.0, 0.45, (n, n_skills))
    learned = gain[agency] + rng.normal(0.0, 0.35, (n, n_skills))
    kept = rng.uniform(0.5, 0.9, (n, 1))  # share of the gain still there at the follow-up
    difficulty = rng.normal(0.0, 0.8, n_items)
    item_skill = np.repeat(np.arange(n_skills), ITEMS_PER_SKILL)

    pre = rng.random(n) < 0.96
    post = rng.random(n) < 0.97
    post |= ~pre  # everyone answered at least one of the two
    back = 1.0 / (1.0 + np.exp(-(0.5 + 0.6 * general[:, 0])))  # the weaker drop out more
    follow_up = rng.random(n) < np.where(post, back, 0.2 * back)
    present = {"pre": pre, "post": post, "follow_up": follow_up}

    def answers(level: np.ndarray) -> np.ndarray:
        logit = level[:, item_skill] - difficulty
        right = rng.random((n, n_items)) < 0.125 + 0.875 / (1.0 + np.exp(-logit))
        unsure = rng.random((n, n_items)) < 0.6 / (1.0 + np.exp(1.5 + logit))
        choice = rng.integers(0, 3, (n, n_items))
        choice[unsure] = DONT_KNOW_CHOICE
        choice[right] = KEY_CHOICE
        return choice

    def confidence(level: np.ndarray) -> np.ndarray:
        latent = 2.7 + 0.5 * level + rng.normal(0.0, 0.7, (n, n_skills))
        return np.clip(np.rint(latent), 1, 5).astype(np.int64)

    pre_level = start[agency] + ability
    levels = {
        "pre": pre_level,
        "post": pre_level + learned,
        "follow_up": pre_level + kept * learned,
    }
    useful = np.clip(np.rint(rng.normal(4.0, 0.8, n)), 1, 5).astype(np.int64)
    useful[rng.random(n) < 0.1] = 0
    applied = rng.choice(len(APPLIED), size=n, p=(0.2, 0.3, 0.35, 0.15))
    applied[rng.random(n) < 0.05] = -1
    return Synthetic(
        agency=agency,
        sex=sex,
        present=present,
        choice={phase: answers(level) for phase, level in levels.items()},
        confidence={phase: confidence(level) for phase, level in levels.items()},
        useful=useful,
        applied=applied,
    )


def cohort_label(people: Synthetic) -> str:
    answered = {phase: int(np.count_nonzero(people.present[phase])) for phase in PHASES}
    both = int(np.count_nonzero(people.present["pre"] & people.present["post"]))
    return (
        f"{people.size:,} participants: "
        + ", ".join(f"{n:,} answered {phase}" for phase, n in answered.items())
        + f"; {both:,} paired pre->post"
    )


# -- what is stored: answers and the scores derived from them -------------------------------


class Stored:
    """The stored form of every submission, built for all participants at once."""

    def __init__(self, course: Course, people: Synthetic) -> None:
        self.course = course
        self.people = people
        self.fingerprint = scoring.scoring_fingerprint(course)
        self.skill_ids = [s for s, _ in SKILLS]
        self.item_ids = [item.id for item in course.items_by_role("knowledge")]
        # per item: the three wrong options, "I don't know", the key (answer code order)
        table = []
        for item in course.items_by_role("knowledge"):
            others = [o for o in item.option_ids if o not in item.correct and o != DONT_KNOW]
            table.append([*others, DONT_KNOW, item.correct[0]])
        self.options = np.array(table, dtype=object)

    def scores(self, phase: str) -> list[str]:
        """Each participant's scores_json for the phase (rows of absentees too)."""
        n, skills = self.people.size, len(SKILLS)
        choice = self.people.choice[phase]
        per_skill = choice.reshape(n, skills, ITEMS_PER_SKILL)
        # scoring: 100.0 * points earned / points available, each item worth 1.0
        earned = (per_skill == KEY_CHOICE).sum(axis=2)
        items = float(skills * ITEMS_PER_SKILL)
        knowledge = np.column_stack(
            [100.0 * earned / float(ITEMS_PER_SKILL), 100.0 * earned.sum(axis=1) / items]
        )
        # "I don't know": 100.0 * chosen / offered, both counts
        unsure = (per_skill == DONT_KNOW_CHOICE).sum(axis=2)
        dont_know = np.column_stack(
            [100.0 * unsure / ITEMS_PER_SKILL, 100.0 * unsure.sum(axis=1) / items]
        )
        likert = self.people.confidence[phase]
        confidence = np.column_stack([likert.astype(float), likert.sum(axis=1) / skills])
        correct = choice == KEY_CHOICE
        keys = [*self.skill_ids, TOTAL]
        encode = msgspec.json.encode
        answered = dict.fromkeys(self.skill_ids, 1)
        out = []
        for row_k, row_c, row_d, row_x in zip(
            knowledge.tolist(),
            confidence.tolist(),
            dont_know.tolist(),
            correct.tolist(),
            strict=True,
        ):
            out.append(
                encode(
                    scoring.PhaseScores(
                        knowledge=dict(zip(keys, row_k, strict=True)),
                        confidence=dict(zip(keys, row_c, strict=True)),
                        correct=dict(zip(self.item_ids, row_x, strict=True)),
                        dont_know=dict(zip(keys, row_d, strict=True)),
                        confidence_answered=answered,
                    )
                ).decode()
            )
        return out

    def breakdowns(self, i: int, phase: str) -> dict[str, str]:
        sex = int(self.people.sex[i])
        return {SEX_ITEM: SEXES[sex]} if phase == "pre" and sex >= 0 else {}

    def summarised(self, i: int, phase: str) -> dict[str, object]:
        if phase == "post" and self.people.useful[i]:
            return {FEEDBACK_ITEM: int(self.people.useful[i])}
        if phase == "follow_up" and self.people.applied[i] >= 0:
            return {APPLIED_ITEM: APPLIED[int(self.people.applied[i])]}
        return {}

    def answers(self, i: int, phase: str) -> dict[str, object]:
        """The participant's answers to the phase's questionnaire."""
        answers: dict[str, object] = {}
        answers.update(self.breakdowns(i, phase))
        for (skill, _), point in zip(SKILLS, self.people.confidence[phase][i], strict=True):
            answers[f"sa_{skill}"] = int(point)
        codes = self.people.choice[phase][i]
        chosen = self.options[np.arange(codes.size), codes]
        answers.update(zip(self.item_ids, chosen.tolist(), strict=True))
        answers.update(self.summarised(i, phase))
        return answers

    def submissions(self) -> Iterator[tuple[int, str, str]]:
        """(row, phase, scores_json) of every submission, participant by participant."""
        scores = {phase: self.scores(phase) for phase in PHASES}
        for i in range(self.people.size):
            for phase in PHASES:
                if self.people.present[phase][i]:
                    yield i, phase, scores[phase][i]

    def score_rows(self) -> list[ScoreRow]:
        """What `Storage.score_rows` returns for these submissions."""
        encode = msgspec.json.encode
        return [
            ScoreRow(
                participant=i + 1,
                agency=AGENCIES[int(self.people.agency[i])][0],
                phase=phase,
                scores_json=scores_json,
                breakdowns_json=encode(self.breakdowns(i, phase)).decode(),
                summarised_json=encode(self.summarised(i, phase)).decode(),
                scoring=self.fingerprint,
            )
            for i, phase, scores_json in self.submissions()
        ]

    def check(self, rows: Sequence[ScoreRow], sample: int = 300) -> None:
        """On a sample: the answers validate, and `derive` gives exactly the stored row."""
        rng = np.random.default_rng(1)
        index = {(row.participant, row.phase): row for row in rows}
        for i in rng.choice(self.people.size, size=min(sample, self.people.size), replace=False):
            for phase in PHASES:
                row = index.get((int(i) + 1, phase))
                if row is None:
                    continue
                answers = self.answers(int(i), phase)
                validated = validate_answers(self.course, phase, answers)
                if not validated.ok or validated.answers != answers:
                    raise SystemExit(f"synthetic answers do not validate: {validated.errors}")
                derived = derive(self.course, phase, answers)
                encode = msgspec.json.encode
                stored = (row.scores_json, row.breakdowns_json, row.summarised_json, row.scoring)
                expected = (
                    encode(derived.scores).decode(),
                    encode(derived.breakdowns).decode(),
                    encode(derived.summarised).decode(),
                    derived.scoring,
                )
                if stored != expected:
                    raise SystemExit(f"participant {i + 1} {phase}: stored row differs from derive")

    def new_submissions(self, limit: int | None) -> Iterator[NewSubmission]:
        """Every submission as `Intake.store` would write it, the first `limit` of them."""
        secret = SECRET.encode()
        encode = msgspec.json.encode
        for count, (i, phase, scores_json) in enumerate(self.submissions()):
            if limit is not None and count >= limit:
                return
            answers = encode(self.answers(i, phase)).decode()
            receipt = f"{count:012X}"
            yield NewSubmission(
                submission_id=str(uuid.uuid4()),
                body_hash=keyed_hash(secret, "body", COURSE_ID, phase, answers),
                receipt=f"{receipt[:4]}-{receipt[4:8]}-{receipt[8:]}",
                course=COURSE_ID,
                phase=phase,
                code_hash=code_hash(secret, COURSE_ID, f"{i + 1:08d}"),  # the card
                agency=AGENCIES[int(self.people.agency[i])][0],
                lang="en",
                answers_json=answers,
                scores_json=scores_json,
                summarised_json=encode(self.summarised(i, phase)).decode(),
                breakdowns_json=encode(self.breakdowns(i, phase)).decode(),
                scoring=self.fingerprint,
                received_at=utc_now(),
            )


# -- evalsvc, in memory --------------------------------------------------------------------


def evalsvc_cohort(course: Course, design: Design, rows: list[ScoreRow]):
    """The cohort exactly as `reports.report_from` builds it from stored rows."""
    return reports.cohort_from_rows(course, design, rows)


def keyed(analysis: Any) -> dict[tuple, dict[str, Any]]:
    """Rows as plain dicts (from an `Analysis` or the endpoints' JSON), by table and keys."""
    tables = msgspec.to_builtins(analysis)
    rows: dict[tuple, dict[str, Any]] = {}
    for row in tables["summary"]:
        key = (row["measure"], row["comparison"], row["breakdown"], row["group"], row["skill"])
        rows[("summary", *key)] = row
    for row in tables["group_comparisons"]:
        key = (row["measure"], row["comparison"], row["breakdown"], row["skill"])
        rows[("groups", *key)] = row
    for row in tables["attrition"]:
        key = (row["measure"], row["later_phase"], row["breakdown"], row["group"], row["skill"])
        rows[("attrition", *key)] = row
    for row in tables["items"]:
        rows[("items", row["comparison"], row["item"])] = row
    for row in tables["reliability"]:
        rows[("reliability", row["comparison"], row["phase"], row["skill"])] = row
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
    result: Any = None

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


def report_steps(course: Course, rows: list[ScoreRow], repeats: int = 3) -> dict[str, float]:
    """Median seconds of the steps of `reports.report_from`, run here."""
    times: dict[str, list[float]] = {}
    for _ in range(repeats):
        marks = [time.perf_counter()]
        design = analysis_design(course)
        cohort = evalsvc_cohort(course, design, rows)
        marks.append(time.perf_counter())
        analyse(course, design, cohort)
        marks.append(time.perf_counter())
        for name, begin, end in zip(("cohort", "analyse"), marks, marks[1:], strict=False):
            times.setdefault(name, []).append(end - begin)
    return {name: statistics.median(values) for name, values in times.items()}


# -- the peer: pandas + scipy, written the straightforward way -----------------------------


@dataclass
class PeerData:
    """What an analyst loads: scores in long format, item correctness one row per
    submission, and one row per participant with the breakdowns."""

    scores: pd.DataFrame
    items: pd.DataFrame
    people: pd.DataFrame
    comparisons: list[tuple[str, str]]
    item_skills: dict[str, str]


def peer_data(course: Course, rows: Sequence[ScoreRow]) -> PeerData:
    """From the stored rows, decoded with the standard library's json."""
    score_records, item_records, people = [], [], {}
    for row in rows:
        scores = json.loads(row.scores_json)
        breakdowns = json.loads(row.breakdowns_json)
        person = people.setdefault(row.participant, {"agency": row.agency, "by_phase": {}})
        person["by_phase"][row.phase] = breakdowns.get(SEX_ITEM)
        for measure in MEASURES:
            for skill, value in scores.get(measure, {}).items():
                score_records.append((row.participant, row.phase, measure, skill, value))
        item_records.append((row.participant, row.phase, *scores["correct"].values()))
    item_ids = [item.id for item in course.items_by_role("knowledge")]
    phases = course.phase_ids()
    people_rows = []
    for participant, person in people.items():
        # the earliest phase's answer, else not stated
        given = [person["by_phase"].get(p) for p in phases if person["by_phase"].get(p)]
        people_rows.append((participant, person["agency"], given[0] if given else NOT_STATED))
    items = pd.DataFrame.from_records(item_records, columns=["participant", "phase", *item_ids])
    items[item_ids] = items[item_ids].astype(float)
    return PeerData(
        scores=pd.DataFrame.from_records(
            score_records, columns=["participant", "phase", "measure", "skill", "score"]
        ),
        items=items,
        people=pd.DataFrame.from_records(
            people_rows, columns=["participant", "agency", SEX_ITEM]
        ).set_index("participant"),
        comparisons=[tuple(pair) for pair in course.comparison_pairs()],  # type: ignore[misc]
        item_skills={item.id: str(item.skill) for item in course.items_by_role("knowledge")},
    )


def peer_hedges_j(df: int) -> float:
    """Exact J(df) = Γ(df/2) / (√(df/2) Γ((df-1)/2)); gammaln once Γ would overflow."""
    if df < 300:
        return float(special.gamma(df / 2) / (math.sqrt(df / 2) * special.gamma((df - 1) / 2)))
    return float(
        math.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / math.sqrt(df / 2)
    )


def peer_ncp_interval(t_obs: float, df: int) -> tuple[float, float]:
    """95% interval of the noncentrality: nct.cdf(t_obs, df, ncp) = 0.975 and 0.025.

    brentq on the brackets evalsvc documents (`stats.noncentral_t_intervals`), for
    |t| and mirrored: [max(|t| - h, -z - 1), |t|] and [|t|, |t| + h], with
    h = 10 sqrt(1 + t^2 / (2 df)), ten approximate standard errors of the ncp. Further
    out scipy's nct.cdf can return NaN (e.g. t = 26, df = 1200, ncp = 62), which brentq
    refuses.
    """
    t = abs(t_obs)
    half = 10.0 * math.sqrt(1.0 + t**2 / (2.0 * df))
    z = sps.norm.ppf(0.975)

    def root(target: float, low: float, high: float) -> float:
        return optimize.brentq(lambda ncp: sps.nct.cdf(t, df, ncp) - target, low, high, xtol=1e-12)

    low, high = root(0.975, max(t - half, -z - 1.0), t), root(0.025, t, t + half)
    return (low, high) if t_obs >= 0 else (-high, -low)


def peer_cell(measure: str, before: np.ndarray, after: np.ndarray) -> dict[str, Any]:
    """Every paired statistic of one cell (a group's people with both scores)."""
    n = before.size
    gains = after - before
    # Scores such as 3.2 and 2.4 (likert means) differ by 0.8000000000000003 or by
    # 0.7999999999999998 depending on the pair; evalsvc rounds differences to 10
    # decimals (stats.DECIMALS) so that equal gains are tied, and so does the peer
    # wherever ties or zeros matter (ranks, counts).
    rounded = np.round(gains, 10)
    t_test = sps.ttest_rel(after, before)
    interval = t_test.confidence_interval(0.95)
    wilcoxon = sps.wilcoxon(rounded)
    nonzero = rounded[rounded != 0]
    ranks = sps.rankdata(np.abs(nonzero))
    d_z = gains.mean() / gains.std(ddof=1)
    ncp_low, ncp_high = peer_ncp_interval(float(t_test.statistic), n - 1)
    j = peer_hedges_j(n - 1)
    from_sd, to_sd = before.std(ddof=1), after.std(ddof=1)
    row = {
        "n_paired": n,
        "from_mean": before.mean(),
        "to_mean": after.mean(),
        "from_sd": from_sd,
        "to_sd": to_sd,
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
        "dz_ci_method": "noncentral_t",
        "d_av": gains.mean() / ((from_sd + to_sd) / 2.0),
        "hedges_gz": j * d_z,
        "hedges_gz_ci_low": j * ncp_low / math.sqrt(n),
        "hedges_gz_ci_high": j * ncp_high / math.sqrt(n),
        "n_improved": int((rounded > 0).sum()),
        "n_unchanged": int((rounded == 0).sum()),
        "n_declined": int((rounded < 0).sum()),
    }
    if measure == "knowledge":
        row["normalized_gain"] = (after.mean() - before.mean()) / (100.0 - before.mean())
        below = before < 100.0
        row["mean_normalized_gain"] = np.mean(gains[below] / (100.0 - before[below]))
        row["n_at_maximum"] = int((~below).sum())
    return row


def peer_pass_view(before: np.ndarray, after: np.ndarray) -> dict[str, Any]:
    """Shares at or above the pass mark with Wilson intervals, and McNemar's exact test."""
    n = before.size
    passed = {"from": before >= PASS_MARK, "to": after >= PASS_MARK}
    row: dict[str, Any] = {}
    for side, flags in passed.items():
        count = int(flags.sum())
        interval = sps.binomtest(count, n).proportion_ci(0.95, method="wilson")
        row[f"pass_{side}_share"] = count / n
        row[f"pass_{side}_ci_low"], row[f"pass_{side}_ci_high"] = interval.low, interval.high
    gained = int((~passed["from"] & passed["to"]).sum())
    lost = int((passed["from"] & ~passed["to"]).sum())
    row.update(pass_gained=gained, pass_lost=lost)
    row["pass_mcnemar_p"] = sps.binomtest(min(gained, lost), gained + lost, 0.5).pvalue
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


BREAKDOWNS = (ALL, "agency", SEX_ITEM)


def peer_wide(data: PeerData) -> pd.DataFrame:
    """One row per measure, skill and participant, a column per phase, with the groups."""
    wide = data.scores.pivot(
        index=["measure", "skill", "participant"], columns="phase", values="score"
    ).reset_index()
    wide = wide.join(data.people, on="participant")
    wide[ALL] = ALL
    return wide


def peer_summary(data: PeerData, wide: pd.DataFrame) -> dict[tuple, dict[str, Any]]:
    rows: dict[tuple, dict[str, Any]] = {}
    for first, second in data.comparisons:
        comparison = f"{first}_{second}"
        for breakdown in BREAKDOWNS:
            for (measure, group, skill), cell in wide.groupby(["measure", breakdown, "skill"]):
                paired = cell.dropna(subset=[first, second])
                before, after = paired[first].to_numpy(), paired[second].to_numpy()
                row = {
                    "n_from": int(cell[first].notna().sum()),
                    "n_to": int(cell[second].notna().sum()),
                    **peer_cell(measure, before, after),
                }
                if measure == "knowledge" and skill == TOTAL:
                    row.update(peer_pass_view(before, after))
                rows[("summary", measure, comparison, breakdown, group, skill)] = row
        for measure in MEASURES:
            for breakdown in BREAKDOWNS:
                family = [key for key in rows if key[1:4] == (measure, comparison, breakdown)]
                name = "confirmatory" if breakdown == ALL else f"exploratory:{breakdown}"
                adjusted = peer_holm([rows[key]["t_pvalue"] for key in family])
                for key, p in zip(family, adjusted, strict=True):
                    rows[key].update(p_holm=p, holm_family=name)

        paired = wide.dropna(subset=[first, second])
        for breakdown in BREAKDOWNS[1:]:
            shown = paired[paired[breakdown] != NOT_STATED]
            for (measure, skill), block in shown.groupby(["measure", "skill"]):
                named = sorted(block.groupby(breakdown), key=lambda g: order(data, breakdown, g[0]))
                gains = [np.round((g[second] - g[first]).to_numpy(), 10) for _, g in named]
                kruskal = sps.kruskal(*gains)
                welch = sps.f_oneway(*gains, equal_var=False)
                rows[("groups", measure, comparison, breakdown, skill)] = {
                    "groups": [name for name, _ in named],
                    "n_groups": len(gains),
                    "kruskal_h": kruskal.statistic,
                    "kruskal_pvalue": kruskal.pvalue,
                    "welch_f": welch.statistic,
                    "welch_df1": len(gains) - 1,
                    "welch_df2": peer_welch_df2(gains),
                    "welch_pvalue": welch.pvalue,
                }
    return rows


def order(data: PeerData, breakdown: str, group: str) -> int:
    """Groups in the course's order (agencies as listed, then sexes)."""
    listed = [a for a, _ in AGENCIES] if breakdown == "agency" else [*SEXES, NOT_STATED]
    return listed.index(group)


def peer_attrition(data: PeerData, wide: pd.DataFrame) -> dict[tuple, dict[str, Any]]:
    """Baseline scores of those who came back to a later phase against those who did not."""
    rows: dict[tuple, dict[str, Any]] = {}
    baseline = PHASES[0]
    for later in PHASES[1:]:
        started = wide.dropna(subset=[baseline])
        for breakdown in BREAKDOWNS:
            for (measure, group, skill), cell in started.groupby(["measure", breakdown, "skill"]):
                stayed = cell[cell[later].notna()][baseline].to_numpy()
                left = cell[cell[later].isna()][baseline].to_numpy()
                welch = sps.ttest_ind(stayed, left, equal_var=False)
                interval = welch.confidence_interval(0.95)
                rows[("attrition", measure, later, breakdown, group, skill)] = {
                    "n_completed": stayed.size,
                    "n_dropped": left.size,
                    "completed_mean": stayed.mean(),
                    "completed_sd": stayed.std(ddof=1),
                    "dropped_mean": left.mean(),
                    "dropped_sd": left.std(ddof=1),
                    "difference": stayed.mean() - left.mean(),
                    "difference_ci_low": interval.low,
                    "difference_ci_high": interval.high,
                    "welch_t": welch.statistic,
                    "welch_df": welch.df,
                    "welch_pvalue": welch.pvalue,
                }
    return rows


def peer_items(data: PeerData) -> dict[tuple, dict[str, Any]]:
    """Per comparison, over the people who answered both phases."""
    item_ids = list(data.item_skills)
    by_phase = {
        phase: frame.set_index("participant")[item_ids]
        for phase, frame in data.items.groupby("phase")
    }
    rows: dict[tuple, dict[str, Any]] = {}
    for first, second in data.comparisons:
        comparison = f"{first}_{second}"
        before, after = by_phase[first].align(by_phase[second], join="inner")
        for item in item_ids:
            row: dict[str, Any] = {"n_paired": len(before)}
            for side, answers in (("from", before), ("to", after)):
                rest = answers.sum(axis=1) - answers[item]
                row[f"p_{side}"] = answers[item].mean()
                row[f"discrimination_{side}"] = sps.pointbiserialr(answers[item], rest).statistic
            b = int(((before[item] == 0) & (after[item] == 1)).sum())
            c = int(((before[item] == 1) & (after[item] == 0)).sum())
            row.update(
                mcnemar_b=b, mcnemar_c=c, mcnemar_p=sps.binomtest(min(b, c), b + c, 0.5).pvalue
            )
            rows[("items", comparison, item)] = row

        skills: dict[str, list[str]] = {}
        for item, skill in data.item_skills.items():
            skills.setdefault(skill, []).append(item)
        skills[TOTAL] = item_ids
        for skill, columns in skills.items():
            for phase, answers in ((first, before), (second, after)):
                chosen = answers[columns]
                k = len(columns)
                kr20 = k / (k - 1) * (1 - chosen.var().sum() / chosen.sum(axis=1).var())
                rows[("reliability", comparison, phase, skill)] = {
                    "n": len(chosen),
                    "k": k,
                    "kr20": kr20,
                }
    return rows


def peer_tables(data: PeerData) -> dict[tuple, dict[str, Any]]:
    wide = peer_wide(data)
    return {**peer_summary(data, wide), **peer_attrition(data, wide), **peer_items(data)}


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
    per_comparison: dict[str, int] = field(default_factory=dict)
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
        comparison = {
            "summary": key[2],
            "groups": key[2],
            "attrition": f"attrition {PHASES[0]}/{key[2]}",
        }.get(key[0], key[1])
        for name, value in expected.items():
            if isinstance(value, str | bool | list | dict):
                agreement.other_fields += 1
                if got.get(name) != value:
                    agreement.problems.append(f"{key} {name}: {value!r} vs {got.get(name)!r}")
                continue
            want, have = _number(value), _number(got.get(name))
            agreement.compared += 1
            agreement.per_table[key[0]] = agreement.per_table.get(key[0], 0) + 1
            agreement.per_comparison[comparison] = agreement.per_comparison.get(comparison, 0) + 1
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
    comparisons = ", ".join(f"{c} {n:,}" for c, n in agreement.per_comparison.items())
    others = f"; {agreement.other_fields:,} other fields equal" if agreement.other_fields else ""
    verdict = "agree" if not agreement.problems else f"{len(agreement.problems)} DISAGREE"
    print(
        f"{label}: {agreement.compared:,} numeric values compared ({tables}; by comparison: "
        f"{comparisons}){others}; max difference {agreement.max_difference:.1e} "
        f"({agreement.where}); tolerance {TOLERANCE:g}, absolute up to 1 and relative "
        f"above: {verdict}"
    )
    for problem in agreement.problems[:20]:
        print(f"  {problem}")
    return not agreement.problems


# -- the database and the server ------------------------------------------------------------


def settings_for(db_path: Path, surveys: Path) -> Settings:
    return Settings(db_path=db_path, surveys_path=surveys, secret_key=SECRET.encode())


async def _store(settings: Settings, course: Course, news: Iterator[NewSubmission]) -> int:
    db = await open_storage(settings, {course.id: course})
    stored = 0
    try:
        while chunk := [db.store_submission(new) for new in itertools.islice(news, SUBMIT_CHUNK)]:
            results = await asyncio.gather(*chunk)
            stored += sum(result.created for result in results)
    finally:
        await db.close()
    return stored


def store(settings: Settings, course: Course, news: Iterator[NewSubmission]) -> tuple[int, float]:
    started = time.perf_counter()
    stored = asyncio.run(_store(settings, course, news))
    return stored, time.perf_counter() - started


async def _load(settings: Settings, course: Course) -> tuple[list[ScoreRow], dict[str, int]]:
    db = await open_storage(settings, {course.id: course})
    try:
        return await reports.load_rows(db, course)
    finally:
        await db.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`evalsvc serve` on 127.0.0.1 as a subprocess, stopped (by its pid) on exit."""

    def __init__(self, tmp: Path, settings: Settings) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "EVALSVC_DB": str(settings.db_path),
            "EVALSVC_SURVEYS": str(settings.surveys_path),
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


def cold_times(tmp: Path, settings: Settings, token: str, repeats: int = 3) -> list[float]:
    """Seconds of the first GET .../summary after each fresh start: the request that
    reads every submission from the database and computes the report (later requests
    reuse it until a submission arrives)."""
    times = []
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(repeats):
        with Server(tmp, settings) as server:
            started = time.perf_counter()
            response = httpx.get(
                f"{server.base}/api/v1/courses/{COURSE_ID}/summary", headers=headers, timeout=120
            )
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"cold GET summary: {response.status_code}")
    return times


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
                failures.append(f"GET {path}: {warm.status_code} {warm.text[:200]}")
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


def served_tables(bodies: Mapping[str, Any]) -> dict[str, Any]:
    """The endpoints' JSON in the shape of an `Analysis` (the tables `keyed` reads)."""
    return {
        "summary": bodies["summary"]["rows"],
        "group_comparisons": bodies["summary"]["group_comparisons"],
        "attrition": bodies["attrition"]["rows"],
        "items": bodies["items"]["rows"],
        "reliability": bodies["reliability"]["rows"],
    }


def verdict(met: bool) -> str:
    return "goal met" if met else "goal NOT met"


# -- the 10,000 participants part ----------------------------------------------------------


def part_10k(tmp: Path, course: Course, surveys: Path, seed: int, rounds: int) -> bool:
    print("== 10,000 participants: in memory and over HTTP ==")
    started = time.perf_counter()
    people = simulate(10_000, seed)
    stored = Stored(course, people)
    rows = stored.score_rows()
    stored.check(rows)
    print(
        f"data: {cohort_label(people)}; {len(rows):,} submissions; {len(AGENCIES)} agencies, "
        f"sex (2 options + not stated), {len(SKILLS)} skills, "
        f"{len(course.items_by_role('knowledge'))} knowledge items + "
        f"{len(course.items_by_role('self_assessment'))} self-assessment likert items "
        f"(built in {time.perf_counter() - started:.1f} s; stored rows match "
        "evalsvc.domain.derived.derive on a sample)"
    )

    design = analysis_design(course)
    cohort = evalsvc_cohort(course, design, rows)
    frames_started = time.perf_counter()
    data = peer_data(course, rows)
    frames_time = time.perf_counter() - frames_started
    ours_timing, peer_timing = race(
        lambda: analyse(course, design, cohort), lambda: peer_tables(data), rounds
    )
    ours: Analysis = ours_timing.result
    peer = peer_timing.result
    withheld = sum(bool(row.withheld) for row in ours.summary)
    print(
        f"(a) in memory, evalsvc analyse (every table, the disclosure plan and verifier): "
        f"{ours_timing.median:.3f} s (CPU {ours_timing.median_cpu:.3f} s; "
        f"{len(ours.summary):,} summary rows, {withheld} withheld; disclosure verified: "
        f"{ours.disclosure.verified}, {ours.disclosure.rounds} round(s))"
    )
    print(
        f"(a) in memory, pandas + scipy peer, the same tables without disclosure control: "
        f"{peer_timing.median:.3f} s (CPU {peer_timing.median_cpu:.3f} s; its DataFrames "
        f"took {frames_time:.2f} s more, not counted)"
    )
    print(f"    medians of {rounds} runs each, the two alternating")
    ours_rows = keyed(ours)
    ok = report_agreement("agreement with pandas + scipy", compare(peer, ours_rows))
    speedup = peer_timing.median / ours_timing.median
    print(f"speed-up vs pandas+scipy: {speedup:.1f}x")
    print(f"    (by CPU time: {peer_timing.median_cpu / ours_timing.median_cpu:.1f}x)")

    settings = settings_for(tmp / "bench-10k.sqlite3", surveys)
    count, store_time = store(settings, course, stored.new_submissions(None))
    print(
        f"(b) stored {count:,} submissions through Storage.store_submission in "
        f"{store_time:.1f} s ({count / store_time:,.0f}/s, building them included)"
    )
    if count != len(rows):
        print(f"  expected {len(rows):,} submissions stored: FAILED")
        ok = False
    _, token = commands.create_token(settings, "evaluator", "bench")
    cold = cold_times(tmp, settings, token)
    print(
        "(b) GET .../summary, cold (reads the database, computes the whole report, answers): "
        f"{statistics.median(cold):.3f} s (median of {len(cold)} fresh starts: "
        + ", ".join(f"{t:.3f}" for t in cold)
        + ")"
    )
    with Server(tmp, settings) as server:
        medians, bodies, failures = time_endpoints(server, token)
    for failure in failures:
        print(f"  FAILED: {failure}")
    for name in ENDPOINTS:
        if name in medians:
            print(f"(b) GET .../{name}, warm: {medians[name] * 1000:.1f} ms (median of 5)")
    if len(medians) == len(ENDPOINTS):
        served = keyed(served_tables(bodies))
        ok &= report_agreement("served (HTTP) against in memory", compare(ours_rows, served))
    ok &= not failures
    load_started = time.perf_counter()
    db_rows, _ = asyncio.run(_load(settings, course))
    load_time = time.perf_counter() - load_started
    steps = report_steps(course, db_rows)
    print(
        f"(b) the cold request's steps, run in this process on the same database: load_rows "
        f"{load_time:.3f} s (once, opening included), "
        + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in steps.items())
        + " (median of 3)"
    )

    print("goals:")
    print(
        f"  at least {SPEEDUP_GOAL:g}x faster than pandas+scipy: {speedup:.1f}x -- "
        f"{verdict(speedup >= SPEEDUP_GOAL)}"
    )
    print(
        f"  cold summary of 10,000 participants under {COLD_GOAL_SECONDS:g} s: median "
        f"{statistics.median(cold):.3f} s -- {verdict(statistics.median(cold) < COLD_GOAL_SECONDS)}"
    )
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
    people = simulate(100_000, seed + 1)
    stored = Stored(course, people)
    rows = stored.score_rows()
    print(
        f"data: {cohort_label(people)}; {len(rows):,} submissions "
        f"(built in {time.perf_counter() - started:.1f} s)"
    )

    def report() -> reports.CourseReport:
        return reports.report_from(course, rows, {stored.fingerprint: len(rows)}, "en")

    design = analysis_design(course)
    cohort = evalsvc_cohort(course, design, rows)
    analysed, result = median_time(lambda: analyse(course, design, cohort), 3)
    assert isinstance(result, Analysis)
    print(
        f"in memory, analyse (every table, the disclosure plan and verifier; the cohort "
        f"built): {analysed:.2f} s (median of 3; disclosure verified: "
        f"{result.disclosure.verified})"
    )
    seconds, _ = median_time(report, 3)
    print(
        f"in memory, reports.report_from from the stored rows (decoding the scores, the "
        f"cohort, the analysis): {seconds:.2f} s (median of 3)"
    )
    steps = report_steps(course, rows, 1)
    print("    one more run, split: " + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()))
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    report()
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    print(
        f"in memory, peak memory of report_from: {peak / 2**20:.0f} MiB (tracemalloc: "
        "allocations made during the computation, inputs excluded; "
        f"this process's VmHWM overall: {proc_status(os.getpid())['VmHWM'] / 1024:.0f} MiB)"
    )

    settings = settings_for(tmp / "bench-100k.sqlite3", surveys)
    wanted = 100_000
    count, store_time = store(settings, course, stored.new_submissions(wanted))
    print(
        f"stored {count:,} submissions (the first participants', every phase) in "
        f"{store_time:.1f} s ({count / store_time:,.0f}/s, building them included); database "
        f"{settings.db_path.stat().st_size / 2**20:.0f} MiB"
    )
    _, token = commands.create_token(settings, "analyst", "bench")
    with Server(tmp, settings) as server:
        result_csv = stream_responses(server, token)
    mib = 1024.0
    print(
        f"GET .../responses.csv: HTTP {result_csv['status']}, "
        f"{result_csv['bytes'] / 2**20:.1f} MiB, {result_csv['rows']:,} rows in "
        f"{result_csv['seconds']:.1f} s "
        f"({result_csv['bytes'] / 2**20 / result_csv['seconds']:.1f} MiB/s)"
    )
    growth = (result_csv["hwm_after"] - result_csv["hwm_before"]) / mib
    print(
        f"server memory: peak RSS (VmHWM) before the download "
        f"{result_csv['hwm_before'] / mib:.0f} MiB (RSS {result_csv['rss_before'] / mib:.0f} "
        f"MiB); during it: sampled peak VmRSS {result_csv['sampled_peak'] / mib:.0f} MiB "
        f"({result_csv['samples']:,} samples), VmHWM {result_csv['hwm_after'] / mib:.0f} MiB "
        f"-- grew {growth:.0f} MiB while {result_csv['bytes'] / 2**20:.0f} MiB were sent"
    )
    print("goals:")
    print(
        f"  100,000 participants under {LARGE_GOAL_SECONDS:g} s, the analysis in memory: "
        f"{analysed:.2f} s -- {verdict(analysed < LARGE_GOAL_SECONDS)}"
    )
    print(
        f"  the same from the stored rows, decoding included: {seconds:.2f} s -- "
        f"{verdict(seconds < LARGE_GOAL_SECONDS)}"
    )
    ok = result_csv["status"] == 200 and result_csv["rows"] == count == wanted
    if not ok:
        print(f"  FAILED: expected HTTP 200 and {wanted:,} rows stored and received")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--quick", action="store_true", help="only the 10,000 participants part")
    which.add_argument("--large", action="store_true", help="only the 100,000 participants part")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each side in (a)")
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
            ok &= part_10k(tmp, course, surveys, args.seed, args.rounds)
        if not args.quick:
            ok &= part_100k(tmp, course, surveys, args.seed)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{'ok' if ok else 'FAILED'} in {time.perf_counter() - started:.0f} s (load {load})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
