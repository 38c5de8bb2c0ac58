"""Programmes: their files and checks, framework scores, pooled rows, the meta-analysis,
indicators, and the commands that make and read them (real SQLite files, real CLI)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections import Counter
from pathlib import Path

import msgspec
import numpy as np
import openpyxl
import pytest

from evalsvc.catalog import load_paths
from evalsvc.domain import stats
from evalsvc.domain.cohort import SubmissionRecord, build_cohort
from evalsvc.domain.design import analysis_design
from evalsvc.domain.meta_analysis import meta_analysis
from evalsvc.domain.programme_cohort import programme_cohort
from evalsvc.domain.scoring import TOTAL, score_submission
from evalsvc.programme_reports import programme_analysis
from evalsvc.settings import settings_from_env
from tests.conftest import REPO, run_cli, stored_rows
from tests.programme_helpers import (
    PROGRAMME,
    PROGRAMME_SURVEYS,
    fill,
    programme_settings,
    report_of,
    score_rows,
    surveys_env,
)

EXAMPLES = REPO / "examples"
SURVEYS = REPO / "surveys"


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory):
    settings = programme_settings(tmp_path_factory.mktemp("programme"))
    assert fill(settings) > 0
    return settings


@pytest.fixture(scope="module")
def report(filled):
    return report_of(filled)


# -- files and checks ---------------------------------------------------------------------


def test_several_surveys_folders_separated_by_colons() -> None:
    settings = settings_from_env({"EVALSVC_SURVEYS": "surveys:examples"})
    assert settings.survey_folders == (Path("surveys"), Path("examples"))
    assert settings_from_env({}).survey_folders == (Path("surveys"),)


def test_the_demo_programme_checks_with_its_courses_from_both_folders(settings) -> None:
    result = run_cli(settings, "check", str(SURVEYS), str(EXAMPLES))
    assert result.returncode == 0, result.stderr
    assert "ok programme nexus-central-asia: 3 courses in KG, KZ, 2024, 2025" in result.stdout
    alone = run_cli(settings, "check", str(EXAMPLES))
    assert alone.returncode == 1
    assert "[course salw-nexus-kz-2024]: no course 'salw-nexus-kz-2024'" in alone.stderr
    # without paths, `check` reads the folders of EVALSVC_SURVEYS
    default = run_cli(settings, "check", EVALSVC_SURVEYS=f"{SURVEYS}:{EXAMPLES}")
    assert default.returncode == 0 and "ok programme nexus-central-asia" in default.stdout


def _programme_folder(tmp_path: Path, text: str, name: str = "p") -> Path:
    folder = tmp_path / "surveys"
    if not folder.exists():
        shutil.copytree(PROGRAMME_SURVEYS, folder)
        (folder / "programmes" / "test-prog.toml").unlink()
    (folder / "programmes" / f"{name}.toml").write_text(text, encoding="utf-8")
    return folder


GOOD = (PROGRAMME_SURVEYS / "programmes" / "test-prog.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ('id = "prog-b"', "course nowhere", "no course 'nowhere' in the surveys folders"),
        ('frontier = "border", ', "course prog-b", "give every agency a type; missing frontier"),
        ('douane = "customs"', "course prog-b", "'spies' is not a declared agency type"),
        ('spotting = "detection"', "course prog-b", "'sight' is not a framework skill"),
        ('assistance = "cooperation"', "course prog-b", "'helping' is not a skill of the course"),
        ('item = "sex"', "course prog-a", "must be a breakdown item of the course"),
        ('phase = "follow_up"', "course prog-a", "phase 'pre' does not show item 'fu_used'"),
        ('country = "KG"', "course prog-b", "country 'UZ' is not declared in [[countries]]"),
        ('group = "female"', "indicator women", "group 'girls' is not a group of 'sex'"),
    ],
)
def test_a_wrong_programme_is_refused_with_a_precise_message(
    tmp_path: Path, change: str, where: str, message: str
) -> None:
    replacement = {
        'id = "prog-b"': 'id = "nowhere"',
        'frontier = "border", ': "",
        'douane = "customs"': 'douane = "spies"',
        'spotting = "detection"': 'spotting = "sight"',
        'assistance = "cooperation"': 'helping = "cooperation"',
        'item = "sex"': 'item = "fu_used"',
        'phase = "follow_up"': 'phase = "pre"',
        'country = "KG"': 'country = "UZ"',
        'group = "female"': 'group = "girls"',
    }[change]
    assert change in GOOD
    folder = _programme_folder(tmp_path, GOOD.replace(change, replacement, 1), "test-prog")
    result = load_paths([folder])
    found = [p for p in result.problems if p.where == where and message in p.message]
    assert found, [str(p) for p in result.problems]
    assert found[0].file.endswith("programmes/test-prog.toml")
    assert "test-prog" not in result.programmes


def test_file_name_duplicates_scales_and_conflicting_types_are_refused(tmp_path: Path) -> None:
    folder = _programme_folder(tmp_path, GOOD, "other-name")
    result = load_paths([folder])
    assert any("must match its file name" in p.message for p in result.problems)
    doubled = GOOD.replace(
        '[[framework]]\nid = "cooperation"', '[[framework]]\nid = "detection"', 1
    )
    result = load_paths([_programme_folder(tmp_path, doubled, "test-prog")])
    assert any(p.where == "framework skill detection" for p in result.problems)
    # a course's confidence on another scale cannot be pooled
    scale = folder / "prog-b" / "course.toml"
    scale.write_text(scale.read_text().replace("max = 5", "max = 10"), encoding="utf-8")
    result = load_paths([_programme_folder(tmp_path, GOOD, "test-prog")])
    assert any("self-assessment scales differ (1-5, 1-10)" in p.message for p in result.problems)
    scale.write_text(scale.read_text().replace("max = 10", "max = 5"), encoding="utf-8")
    # two programmes that give one agency two types
    second = GOOD.replace('id = "test-prog"', 'id = "second"').replace(
        'border = "border", customs = "customs"', 'border = "customs", customs = "customs"'
    )
    (folder / "programmes" / "other-name.toml").unlink()
    result = load_paths([_programme_folder(tmp_path, second, "second")])
    clash = [p for p in result.problems if "agency 'border' is of type" in p.message]
    assert clash and "give it one type" in clash[0].message, [str(p) for p in result.problems]
    assert {"'border'", "'customs'"} <= set(clash[0].message.split())


# -- framework scores ------------------------------------------------------------------------


def test_framework_scores_weigh_course_skills_by_points_and_answered_items() -> None:
    catalog = load_paths([PROGRAMME_SURVEYS])
    course = catalog.courses["prog-b"]
    programme = catalog.programmes[PROGRAMME]
    answers = {
        "k1": "b",  # spotting, 1 point, right
        "k2": "false",  # spotting, 2 points, wrong
        "k3": "dont_know",  # deliveries, 3 points, "I don't know"
        "k4": "false",  # assistance, 1 point, right
        "sa_coop": 2,  # assistance: 2
        "sa_deliver": 5,  # deliveries: 5 and 4
        "sa_deliver_2": 4,
    }
    scores = score_submission(course, answers)
    assert scores.knowledge["assistance"] == 100 and scores.knowledge["deliveries"] == 0
    record = SubmissionRecord(1, "police", "pre", scores, {}, {})
    design = analysis_design(course)
    cohort = build_cohort(course, design, [record])
    pc = programme_cohort(
        programme,
        catalog.courses,
        {"prog-a": analysis_design(catalog.courses["prog-a"]), "prog-b": design},
        {
            "prog-a": build_cohort(
                catalog.courses["prog-a"], analysis_design(catalog.courses["prog-a"]), []
            ),
            "prog-b": cohort,
        },
    )
    skills = pc.design.skills
    knowledge = dict(zip(skills, pc.cohort.scores[("knowledge", "pre")][0], strict=True))
    confidence = dict(zip(skills, pc.cohort.scores[("confidence", "pre")][0], strict=True))
    dont_know = dict(zip(skills, pc.cohort.scores[("dont_know", "pre")][0], strict=True))
    # percent of points over all mapped items: (1 point right + 0 of 3) / 4 points
    assert knowledge["cooperation"] == pytest.approx(25.0)
    assert knowledge["detection"] == pytest.approx(100 / 3)
    assert knowledge[TOTAL] == pytest.approx(scores.knowledge[TOTAL])
    # the mean over all answered items (2, 5, 4), not the mean of the skills' means
    assert confidence["cooperation"] == pytest.approx(11 / 3)
    assert confidence[TOTAL] == pytest.approx(scores.confidence[TOTAL])
    # "I don't know" over the items that offer it: k3 only
    assert dont_know["cooperation"] == pytest.approx(100.0)


# -- the analysis --------------------------------------------------------------------------------


def test_pooled_and_course_rows_in_the_course_row_shape(report) -> None:
    rows = report.analysis.summary
    scopes = {(r.scope, r.breakdown) for r in rows}
    assert ("course", "all") in scopes and ("pooled", "all") in scopes
    assert {b for s, b in scopes if s == "pooled"} == {
        "all",
        "country",
        "year",
        "agency_type",
        "sex",
    }
    course_rows = [r for r in rows if r.scope == "course"]
    assert {(r.course, r.country, r.year) for r in course_rows} == {
        ("prog-a", "KZ", 2024),
        ("prog-b", "KG", 2025),
    }
    assert all(r.course is None and r.country is None for r in rows if r.scope == "pooled")
    assert {r.skill for r in rows} == {"detection", "cooperation", TOTAL}
    encoded = json.loads(msgspec.json.encode(rows[0]))
    for name in ("measure", "comparison", "breakdown", "group", "skill", "n_paired", "mean_gain"):
        assert name in encoded


def test_pooled_statistics_are_the_core_statistics_of_the_pooled_people(filled, report) -> None:
    """The pooled all row equals paired statistics recomputed from the course rows'
    people: the core's own function, on the framework scores."""
    rows = [
        r
        for r in report.analysis.summary
        if (r.scope, r.measure, r.comparison, r.breakdown, r.skill)
        == ("pooled", "knowledge", "pre_post", "all", TOTAL)
    ]
    assert len(rows) == 1 and not rows[0].withheld
    courses = [
        r
        for r in report.analysis.summary
        if (r.scope, r.measure, r.comparison, r.skill) == ("course", "knowledge", "pre_post", TOTAL)
    ]
    n = sum(r.n_paired for r in courses)
    assert rows[0].n_paired == n
    pooled_mean = sum(r.mean_gain * r.n_paired for r in courses if r.mean_gain is not None) / n
    assert rows[0].mean_gain == pytest.approx(pooled_mean)


def test_meta_analysis_rows_pool_the_published_course_rows(report) -> None:
    meta = {(m.measure, m.comparison, m.skill): m for m in report.analysis.meta}
    row = meta[("knowledge", "pre_post", TOTAL)]
    courses = [
        r
        for r in report.analysis.summary
        if (r.scope, r.measure, r.comparison, r.skill) == ("course", "knowledge", "pre_post", TOTAL)
        and not r.withheld
    ]
    assert row.k == len(courses) == 2 and row.method == "REML"
    expected = meta_analysis(
        [r.mean_gain for r in courses], [r.gain_sd**2 / r.n_paired for r in courses]
    )
    assert row.estimate == pytest.approx(expected.estimate)
    assert row.tau2 == pytest.approx(expected.tau2)
    assert row.pi_low is not None and row.pi_low <= row.ci_low
    assert sum(row.weights) == pytest.approx(1.0)


def test_indicators_are_shares_with_wilson_intervals_and_a_status(report) -> None:
    rows = {r.indicator: r for r in report.analysis.indicators}
    assert list(rows) == ["gain10", "pass", "applied", "women"]
    for row in rows.values():
        assert row.definition
        if row.value is None:
            assert row.status == "no_data"
            continue
        assert row.count is not None and row.value == pytest.approx(row.count / row.n)
        low, high = stats.wilson_interval(row.count, row.n)
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high))
        expected = (
            "met"
            if row.ci_low >= row.target
            else "not_met"
            if row.ci_high < row.target
            else "uncertain"
        )
        assert row.status == expected
    women = rows["women"]
    assert women.baseline == 0.2 and women.target == 0.4
    assert women.change_from_baseline == pytest.approx(women.value - 0.2)


def _recounted_indicators(settings, threshold: float) -> dict[str, tuple[int, int]]:
    """Indicator -> (n, count), recounted here from the stored submissions, one
    participant at a time, with the test programme's definitions: every course skill
    maps to a framework skill, so a person's programme total is their course total."""
    programme = load_paths([PROGRAMME_SURVEYS]).programmes[PROGRAMME]
    courses = load_paths([PROGRAMME_SURVEYS]).courses
    people: dict[tuple[str, int], dict[str, tuple[dict, dict, dict]]] = {}
    for course_id, rows in score_rows(settings).items():
        for row in rows:
            people.setdefault((course_id, row.participant), {})[row.phase] = (
                json.loads(row.scores_json),
                json.loads(row.breakdowns_json),
                json.loads(row.summarised_json),
            )
    counts = dict.fromkeys(("gain10", "pass", "applied", "women"), (0, 0))

    def add(indicator: str, success: bool) -> None:
        n, count = counts[indicator]
        counts[indicator] = (n + 1, count + int(success))

    for (course_id, _), phases in people.items():
        member = next(m for m in programme.courses if m.id == course_id)
        if "pre" in phases and "post" in phases:
            before = phases["pre"][0]["knowledge"]["total"]
            after = phases["post"][0]["knowledge"]["total"]
            add("gain10", after - before >= threshold - 1e-9)
            add("pass", after >= courses[course_id].pass_mark - 1e-9)
        used = phases.get("follow_up", ({}, {}, {}))[2].get("fu_used")
        if used is not None:
            add("applied", used == "yes")
        sex = next((p[1]["sex"] for p in phases.values() if "sex" in p[1]), None)
        if sex is not None:
            add("women", member.breakdowns["sex"].groups[sex] == "female")
    return counts


@pytest.mark.parametrize("threshold", [10, 20])
def test_every_indicator_counts_what_it_says(filled, tmp_path: Path, threshold: int) -> None:
    """Gain threshold, pass mark, applied and share of women: n and count as recounted
    from the participant-level rows, independently of the programme analysis. A gain
    of exactly 20 points occurs in the data (the threshold counts)."""
    text = GOOD.replace("threshold = 10", f"threshold = {threshold}")
    catalog = load_paths([_programme_folder(tmp_path, text, name=PROGRAMME)])
    analysis = programme_analysis(
        catalog.programmes[PROGRAMME], catalog.courses, score_rows(filled)
    )
    recounted = _recounted_indicators(filled, threshold)
    assert all(n > count > 0 for n, count in recounted.values()), recounted
    assert {r.indicator: (r.n, r.count) for r in analysis.indicators} == recounted


# -- commands ---------------------------------------------------------------------------------


def test_report_programme_writes_every_format(filled, tmp_path: Path) -> None:
    env = {"EVALSVC_SURVEYS": surveys_env(filled)}
    for fmt, name in (("json", "p.json"), ("csv", "p.csv"), ("xlsx", "p.xlsx"), ("html", "p.html")):
        result = run_cli(
            filled, "report", "--programme", PROGRAMME, "--format", fmt, "--out",
            str(tmp_path / name), **env,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "p.json").read_text())
    assert data["programme"] == PROGRAMME and data["analysis"]["disclosure"]["verified"]
    table = list(csv.reader(io.StringIO((tmp_path / "p.csv").read_text(encoding="utf-8-sig"))))
    assert table[0][:4] == ["measure", "comparison", "from_phase", "to_phase"]
    assert "scope" in table[0] and "course" in table[0]
    assert (tmp_path / "p.xlsx").read_bytes()[:2] == b"PK"
    assert "<html" in (tmp_path / "p.html").read_text()
    meta = run_cli(
        filled, "report", "--programme", PROGRAMME, "--format", "csv", "--table", "meta",
        "--out", str(tmp_path / "meta.csv"), **env,
    )  # fmt: skip
    assert meta.returncode == 0 and "tau2" in (tmp_path / "meta.csv").read_text()
    both = run_cli(filled, "report", "prog-a", "--programme", PROGRAMME, "--format", "json",
                   "--out", str(tmp_path / "x.json"), **env)  # fmt: skip
    assert both.returncode == 2 and "one of them" in both.stderr
    unknown = run_cli(filled, "report", "--programme", "nope", "--format", "json", "--out",
                      str(tmp_path / "x.json"), **env)  # fmt: skip
    assert unknown.returncode == 1 and "no programme 'nope'" in unknown.stderr


MEASURE_LABELS = {
    "en": {
        "knowledge": "Knowledge",
        "confidence": "Confidence",
        "dont_know": '"I don\'t know" answers',
    },
    "ru": {"knowledge": "Знания", "confidence": "Уверенность", "dont_know": "Ответы «Не знаю»"},
}
TOTAL_NAMES = {"en": "Total (all skills)", "ru": "Итог (все навыки)"}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_programme_workbook_sheets_forest_charts_and_language(filled, lang: str) -> None:
    from evalsvc.exports import registry

    report = report_of(filled, lang)
    book = openpyxl.load_workbook(
        io.BytesIO(registry.PROGRAMME_EXPORTS["report.xlsx"].render(report))
    )
    assert book.sheetnames == [
        *("Indicators", "Summary", "Meta-analysis", "Forest", "Heat map", "Courses"),
        *("Methods", "Codebook"),
    ]
    indicators = list(book["Indicators"].iter_rows(values_only=True))
    assert indicators[0][:3] == ("indicator", "kind", "title")
    assert [row[0] for row in indicators[1:]] == ["gain10", "pass", "applied", "women"]
    assert indicators[1][2] == (
        "Знания выросли не менее чем на 10 баллов"
        if lang == "ru"
        else "Knowledge rose by at least 10 points"
    )
    summary_header = next(book["Summary"].iter_rows(values_only=True))
    assert summary_header[:4] == ("measure", "comparison", "from_phase", "to_phase")
    assert "tau2" in next(book["Meta-analysis"].iter_rows(values_only=True))
    # the forest plots: one native chart per measure and skill with courses to pool, in
    # the first comparison, each a course row per course and the pooled estimate
    first = report.design.comparisons[0].id
    skill_names = {s.id: s.name for s in report.skills} | {TOTAL: TOTAL_NAMES[lang]}
    metas = [m for m in report.analysis.meta if m.comparison == first and m.k > 0]
    forest = book["Forest"]
    charts = forest._charts
    assert len(charts) == len(metas) >= 2
    for chart, meta in zip(charts, metas, strict=True):
        assert type(chart).__name__ == "ScatterChart"
        title = "".join(run.t for p in chart.title.tx.rich.p for run in (p.r or []))
        assert title == f"{MEASURE_LABELS[lang][meta.measure]}: {skill_names[meta.skill]}"
        assert len(chart.series) == 1 and chart.series[0].errBars.errDir == "x"
    rows = list(forest.iter_rows(min_row=2, values_only=True))
    plotted = {}
    for row in rows:
        if row[0]:
            plotted[row[0]] = plotted.get(row[0], 0) + 1
    assert plotted == {f"{m.measure} {first} {m.skill}": m.k + 1 for m in metas}
    # the heat map and the methods, in the report's language
    heat = book["Heat map"]
    mean_gain = "средний прирост" if lang == "ru" else "mean gain"
    assert heat["A1"].value == f"{MEASURE_LABELS[lang]['knowledge']}: {mean_gain} ({first})"
    groups = [row[0] for row in heat.iter_rows(min_row=3, max_col=1, values_only=True)]
    assert groups[0] == ("Все участники" if lang == "ru" else "All participants")
    facts = {row[0]: row[1] for row in book["Methods"].iter_rows(min_row=2, values_only=True)}
    assert facts["language"] == lang and facts["programme"] == PROGRAMME
    assert book.properties.title == (
        "Тестовая программа: Отчёт об оценке программы"
        if lang == "ru"
        else "Test programme: Programme evaluation report"
    )


def test_token_create_for_donors_and_agency_types_is_checked(filled) -> None:
    env = {"EVALSVC_SURVEYS": surveys_env(filled)}

    def create(*args: str):
        return run_cli(filled, "token", "create", "--name", "n", *args, **env)

    donor = create("--role", "donor", "--programme", PROGRAMME)
    assert donor.returncode == 0, donor.stderr
    assert "(programmes test-prog)" in donor.stdout
    assert create("--role", "donor").returncode == 1
    assert "give --programme" in create("--role", "donor").stderr
    assert (
        "neither --course"
        in create("--role", "donor", "--programme", PROGRAMME, "--course", "prog-a").stderr
    )
    focal = create("--role", "evaluator", "--programme", PROGRAMME, "--agency-type", "customs")
    assert focal.returncode == 0 and "agency types customs" in focal.stdout
    assert "use --role evaluator" in create("--role", "analyst", "--agency-type", "customs").stderr
    assert (
        "no agency type 'spies'" in create("--role", "evaluator", "--agency-type", "spies").stderr
    )
    assert "no programme 'nope'" in create("--role", "evaluator", "--programme", "nope").stderr
    listed = run_cli(filled, "token", "list", **env)
    assert "\tdonor\tn\tprogrammes test-prog\t" in listed.stdout


def test_demo_programme_fills_every_course(tmp_path: Path) -> None:
    settings = programme_settings(tmp_path)
    env = {"EVALSVC_SURVEYS": surveys_env(settings)}
    result = run_cli(settings, "demo", "--programme", PROGRAMME, "--participants", "6", **env)
    assert result.returncode == 0, result.stderr
    again = run_cli(
        settings, "demo", "--programme", PROGRAMME, "--participants", "6", "--if-empty", **env
    )
    assert "data already present" in again.stdout
    people = {(row.course, row.code_hash) for row in stored_rows(settings)}
    assert Counter(course for course, _ in people) == {"prog-a": 6, "prog-b": 6}


def test_course_counts_are_published_per_course_and_phase(report) -> None:
    counts = {(r.course, r.phase): r.n for r in report.analysis.course_counts}
    assert counts[("prog-a", "all")] == 14 and counts[("prog-b", "all")] == 14
    assert counts[("prog-a", "pre")] >= counts[("prog-a", "follow_up")]


def test_numbers_are_finite_everywhere(report) -> None:
    text = msgspec.json.encode(report).decode()
    assert "NaN" not in text and "Infinity" not in text
    values = [
        v
        for r in report.analysis.summary
        for v in (r.mean_gain, r.gain_ci_low, r.cohens_dz)
        if v is not None
    ]
    assert np.all(np.isfinite(values))
