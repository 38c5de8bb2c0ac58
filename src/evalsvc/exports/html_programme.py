"""The programme's HTML report: indicators first, then pooled results, forest plots,
heat maps, the courses, and the methods; in the report's language.

`render_programme_report` fills ``web/templates/programme_report.html`` with a context
built here from the report's rows: numbers are formatted in Python, charts are
inline SVG (`svg_forest`), and every text comes through `report_i18n.Text`, which
falls back to English where a text has no translation (and says so, with
``lang="en"`` and a visible note, for whole paragraphs). The page passes the same
CSP as the course report: no script, no style attributes, nothing from elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from markupsafe import Markup

from evalsvc.domain.design import ALL, Comparison, Measure
from evalsvc.domain.indicators import IndicatorRow
from evalsvc.domain.programme import AGENCY_TYPE, COURSE
from evalsvc.domain.programme_summary import MetaRow, ProgrammeRow
from evalsvc.domain.scoring import TOTAL
from evalsvc.exports.formatting import (
    DASH,
    NBSP,
    fmt,
    fmt_interval,
    fmt_p,
    fmt_share,
    fmt_share_interval,
)
from evalsvc.exports.html_heatmap import HeatMap, heat_map
from evalsvc.exports.html_report import STYLESHEET_URL, _environment, stylesheet
from evalsvc.exports.html_view import Cell, Footnotes, Header, Row, TableView
from evalsvc.exports.programme_methods import methods_sections
from evalsvc.exports.report_i18n import (
    LANGUAGE_NAMES,
    R_,
    REPORT_LANGUAGES,
    Localized,
    Speaker,
    paragraph,
    untranslated_note,
    using,
)
from evalsvc.exports.report_i18n import tr as speaker
from evalsvc.exports.report_words import measure_unit
from evalsvc.exports.svg_forest import ForestRow, Pooled, forest_svg, normal_interval

if TYPE_CHECKING:
    from evalsvc.programme_reports import ProgrammeReport


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class Forest:
    id: str
    title: str
    caption: str
    svg: Markup


@dataclass(frozen=True)
class ComparisonSection:
    id: str
    title: str
    open: bool
    meta: TableView
    forests: list[Forest]
    tables: list[TableView]


@dataclass(frozen=True)
class MeasureSection:
    id: str
    title: str
    comparisons: list[ComparisonSection]


@dataclass(frozen=True)
class MethodsView:
    title: str
    paragraphs: list[Localized]


@dataclass(frozen=True)
class ProgrammeContext:
    title: str
    lang: str
    labels: dict[str, str]
    facts: list[Fact]
    links: list[tuple[str, str]]
    languages: list[tuple[str, str, str]]
    """(code, name, url) of the report in each language."""
    indicators: TableView
    brief: list[Localized]
    courses: TableView
    heatmaps: list[HeatMap]
    measures: list[MeasureSection]
    methods: list[MethodsView]
    notes: list[str]
    untranslated: str
    min_cell_size: int
    contents: list[tuple[str, str]] = field(default_factory=list)


def render_programme_report(
    report: ProgrammeReport,
    *,
    inline_css: bool,
    links: Sequence[tuple[str, str]] = (),
    language_url: str | None = None,
) -> str:
    """The programme report as one HTML page; `language_url` (with "{lang}") links the
    report in the other languages (left out when None, as in the offline file)."""
    with using(report.lang):
        context = programme_context(report, links=links, language_url=language_url)
        css = Markup(stylesheet()) if inline_css else None  # noqa: S704 - our own file
        return (
            _environment()
            .get_template("programme_report.html")
            .render(report=context, css=css, stylesheet_url=STYLESHEET_URL)
        )


def programme_context(
    report: ProgrammeReport,
    *,
    links: Sequence[tuple[str, str]] = (),
    language_url: str | None = None,
) -> ProgrammeContext:
    tr = speaker
    names = _Names(report, tr)
    measures = [_measure_section(report, measure, names, tr) for measure in report.design.measures]
    heatmaps = _heatmaps(report, names, tr)
    contents = [
        ("indicators", tr("Donor indicators")),
        ("brief", tr("In brief")),
        ("courses", tr("The courses")),
    ]
    if heatmaps:
        contents.append(("heatmaps", tr("At a glance: groups by skill")))
    contents += [(m.id, m.title) for m in measures]
    contents.append(("methods", tr("Methods")))
    return ProgrammeContext(
        title=report.title,
        lang=report.lang,
        labels={
            "kicker": tr("Programme evaluation report"),
            "downloads": tr("Download:"),
            "contents": tr("Contents"),
            "indicators": tr("Donor indicators"),
            "brief": tr("In brief"),
            "courses": tr("The courses"),
            "heatmaps": tr("At a glance: groups by skill"),
            "methods": tr("Methods"),
            "notes": tr("Notes"),
            "languages": tr("This report in"),
            "withheld_note": tr(
                "Figures of groups of fewer than %(k)s people are withheld, and so are figures "
                "that would let them, or anything a course report withholds, be worked out "
                "from this report together with the course reports.",
                k=report.min_cell_size,
            ),
            "symbols": tr("Symbols"),
        },
        facts=_facts(report, tr),
        links=list(links),
        languages=[
            (code, LANGUAGE_NAMES[code], language_url.format(lang=code))
            for code in REPORT_LANGUAGES
            if language_url is not None and code != report.lang
        ],
        indicators=_indicator_table(report.analysis.indicators, report.min_cell_size, tr),
        brief=_brief(report, names, tr),
        courses=_course_table(report, tr),
        heatmaps=heatmaps,
        measures=measures,
        methods=[
            MethodsView(section.title, list(section.paragraphs))
            for section in methods_sections(report, tr)
        ],
        notes=list(report.analysis.notes),
        untranslated=untranslated_note(tr),
        min_cell_size=report.min_cell_size,
        contents=contents,
    )


class _Names:
    def __init__(self, report: ProgrammeReport, tr: Speaker) -> None:
        self.tr = tr
        self.skills = {s.id: s.name for s in report.skills}
        self.skills[TOTAL] = tr("Total (all skills)")
        self.groups = {
            (breakdown, g.id): g.name for breakdown, named in report.groups.items() for g in named
        }
        self.breakdowns = {b.id: tr(b.name) for b in report.breakdowns}
        self.courses = {c.id: c for c in report.courses}
        self.phases = {p.id: p.name for p in report.phases}

    def group(self, breakdown: str, group: str) -> str:
        if group == ALL:
            return self.tr("All participants")
        name = self.groups.get((breakdown, group), group)
        return self.tr("not stated") if group == "not_stated" else name

    def comparison(self, comparison: Comparison) -> str:
        return f"{self.phase(comparison.from_phase)} → {self.phase(comparison.to_phase)}"

    def phase(self, phase: str) -> str:
        return self.phases.get(phase, phase.replace("_", " "))

    def measure(self, measure: Measure) -> str:
        return self.tr(measure.label)

    def unit(self, measure: Measure) -> str:
        return measure_unit(measure.id, measure.unit, measure.minimum, measure.maximum)


def _facts(report: ProgrammeReport, tr: Speaker) -> list[Fact]:
    facts = [Fact(tr("Programme"), report.programme)]
    if report.donor:
        facts.append(Fact(tr("Donor"), report.donor))
    if report.start_date and report.end_date:
        facts.append(Fact(tr("Period"), f"{report.start_date} – {report.end_date}"))
    countries = sorted({c.country_name for c in report.courses})
    years = sorted({c.year for c in report.courses})
    facts += [
        Fact(tr("Courses"), str(len(report.courses))),
        Fact(tr("Countries"), ", ".join(countries)),
        Fact(tr("Years"), ", ".join(str(y) for y in years)),
        Fact(tr("Participants"), str(report.analysis.n_participants)),
        Fact(tr("Smallest group shown (min_cell_size)"), str(report.min_cell_size)),
        Fact(tr("Generated"), _when(report.generated_at)),
    ]
    return facts


def _when(stamp: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


STATUS_WORDS = {
    "met": R_("met: the whole 95% interval reaches the target"),
    "not_met": R_("not met: the whole 95% interval falls short of the target"),
    "uncertain": R_("uncertain: the 95% interval contains the target"),
    "no_data": R_("no data"),
    "no_target": R_("no target set"),
}
STATUS_SYMBOLS = {"met": "✔", "not_met": "✘", "uncertain": "?", "no_data": DASH, "no_target": ""}


def _withheld_words(reason: str, k: int, tr: Speaker) -> str:
    if reason == "small_group":
        return tr("withheld: fewer than %(k)s people", k=k)
    return tr("withheld to protect another group")


def _indicator_table(rows: Sequence[IndicatorRow], k: int, tr: Speaker) -> TableView:
    notes = Footnotes()
    out = []
    for row in rows:
        status = f"{STATUS_SYMBOLS[row.status]} {tr(STATUS_WORDS[row.status])}".strip()
        if row.withheld:
            reason = next(iter(row.withheld.values()))
            value = Cell(_withheld_words(reason, k, tr), "withheld", colspan=2)
            figures = [value]
        elif row.value is None:
            figures = [Cell(DASH, "undefined"), Cell(DASH, "undefined")]
        else:
            figures = [
                Cell(fmt_share(row.value)),
                Cell(fmt_share_interval(row.ci_low, row.ci_high).replace(" ", NBSP)),
            ]
        out.append(
            Row(
                [
                    Cell(row.title, "text"),
                    Cell(str(row.n)),
                    Cell(DASH if row.count is None else str(row.count)),
                    *figures,
                    Cell(fmt_share(row.baseline) if row.baseline is not None else DASH),
                    Cell(fmt_share(row.target) if row.target is not None else DASH),
                    Cell(status, f"text status-{row.status}"),
                ],
                notes.refs([row.definition, *row.notes]),
            )
        )
    return TableView(
        id="indicators-table",
        title=tr("Donor indicators"),
        caption=tr(
            "Each value is a share of the participants with its 95%% Wilson interval; the "
            "status compares the whole interval with the target. The notes give each "
            "definition."
        ),
        headers=[
            Header(tr("Indicator"), text=True),
            Header(tr("People (n)"), tr("people the share is taken over")),
            Header(tr("Counted"), tr("people counted as a success")),
            Header(tr("Value")),
            Header(tr("95% interval")),
            Header(tr("Baseline")),
            Header(tr("Target")),
            Header(tr("Status"), text=True),
        ],
        rows=out,
        notes=notes.texts,
    )


def _course_table(report: ProgrammeReport, tr: Speaker) -> TableView:
    counts: dict[tuple[str, str], int] = {
        (r.course, r.phase): r.n for r in report.analysis.course_counts
    }
    phases = list(report.design.phases)
    names = _Names(report, tr)
    rows = [
        Row(
            [
                Cell(course.title, "text"),
                Cell(course.country_name, "text"),
                Cell(str(course.year)),
                Cell(str(counts.get((course.id, ALL), 0))),
                *(
                    Cell(str(counts[(course.id, phase)]))
                    if (course.id, phase) in counts
                    else Cell(DASH, "undefined")
                    for phase in phases
                ),
            ]
        )
        for course in report.courses
    ]
    return TableView(
        id="courses-table",
        title=tr("The courses"),
        caption=tr("People who answered each phase, per course (counts are always shown)."),
        headers=[
            Header(tr("Course"), text=True),
            Header(tr("Country"), text=True),
            Header(tr("Year")),
            Header(tr("Participants")),
            *(Header(names.phase(p)) for p in phases),
        ],
        rows=rows,
        notes=[],
    )


def _brief(report: ProgrammeReport, names: _Names, tr: Speaker) -> list[Localized]:
    analysis = report.analysis
    out = [
        paragraph(
            lambda: tr(
                "%(people)s people took part in %(courses)s courses in %(countries)s countries.",
                people=analysis.n_participants,
                courses=len(report.courses),
                countries=len({c.country for c in report.courses}),
            )
        )
    ]
    if not report.design.comparisons or not report.design.measures:
        return out
    comparison = report.design.comparisons[0]
    for measure in report.design.measures:
        pooled = next(
            (
                r
                for r in analysis.summary
                if r.scope == "pooled"
                and r.breakdown == ALL
                and r.measure == measure.id
                and r.comparison == comparison.id
                and r.skill == TOTAL
            ),
            None,
        )
        meta = next(
            (
                m
                for m in analysis.meta
                if m.measure == measure.id and m.comparison == comparison.id and m.skill == TOTAL
            ),
            None,
        )
        if pooled is None or pooled.withheld or pooled.mean_gain is None:
            continue
        out += _brief_of(measure, comparison, pooled, meta, names, tr)
    out.append(
        paragraph(
            lambda: tr(
                "The same people were measured more than once, with no comparison group: the "
                "figures show how much people changed, not that the courses caused it."
            )
        )
    )
    return out


def _brief_of(
    measure: Measure,
    comparison: Comparison,
    pooled: ProgrammeRow,
    meta: MetaRow | None,
    names: _Names,
    tr: Speaker,
) -> list[Localized]:
    """The pooled change of one measure, and the meta-analysis's, in words."""
    places = measure.decimals
    out = [
        paragraph(
            lambda: tr(
                "%(measure)s, %(comparison)s: over all %(n)s paired participants the mean "
                "changed by %(gain)s %(unit)s (95%% interval %(interval)s).",
                measure=names.measure(measure),
                comparison=names.comparison(comparison),
                n=pooled.n_paired,
                gain=fmt(pooled.mean_gain, places, signed=True),
                unit=tr(measure.gain_unit),
                interval=fmt_interval(pooled.gain_ci_low, pooled.gain_ci_high, places) or DASH,
            )
        )
    ]
    if meta is None or meta.estimate is None or meta.k < 2:
        return out
    out.append(
        paragraph(
            lambda: tr(
                "Weighing each course equally by its precision instead (random-effects "
                "meta-analysis of %(k)s courses), the mean gain is %(estimate)s "
                "%(interval)s; a new course like these would be expected to gain between "
                "%(pi_low)s and %(pi_high)s. I² = %(i2)s%% of the spread of the gains "
                "comes from differences between the courses.",
                k=meta.k,
                estimate=fmt(meta.estimate, places, signed=True),
                interval=fmt_interval(meta.ci_low, meta.ci_high, places),
                pi_low=fmt(meta.pi_low, places, signed=True),
                pi_high=fmt(meta.pi_high, places, signed=True),
                i2=fmt(meta.i2, 0),
            )
        )
    )
    return out


def _heatmaps(report: ProgrammeReport, names: _Names, tr: Speaker) -> list[HeatMap]:
    if not report.design.comparisons:
        return []
    comparison = report.design.comparisons[0]
    skills = [(s.id, s.name) for s in report.skills] + [(TOTAL, names.skills[TOTAL])]
    rows = [r for r in report.analysis.summary if r.scope == "pooled"]
    course_rows = [_as_course_group(r) for r in report.analysis.summary if r.scope == "course"]
    words = {
        "small_group": _withheld_words("small_group", report.min_cell_size, tr),
        "complementary": _withheld_words("complementary", report.min_cell_size, tr),
    }
    out = []
    for measure in report.design.measures:
        for breakdown, source in ((AGENCY_TYPE, rows), (COURSE, rows + course_rows)):
            groups = [(g.id, g.name) for g in report.groups.get(breakdown, [])]
            found = heat_map(
                f"heat-{breakdown}-{measure.id}",
                source,
                measure,
                comparison.id,
                breakdown,
                groups,
                skills,
                report.min_cell_size,
                tr,
                title=tr(
                    "%(measure)s, %(comparison)s: %(breakdown)s by skill",
                    measure=names.measure(measure),
                    comparison=names.comparison(comparison),
                    breakdown=names.breakdowns.get(breakdown, breakdown),
                ),
                everyone=tr("All participants"),
                withheld_words=words,
            )
            if found is not None:
                out.append(found)
    return out


def _as_course_group(row: ProgrammeRow) -> ProgrammeRow:
    """A course row as a group of the `course` breakdown (for the grid)."""
    import msgspec

    return msgspec.structs.replace(row, breakdown=COURSE, group=row.course or "")


def _measure_section(
    report: ProgrammeReport, measure: Measure, names: _Names, tr: Speaker
) -> MeasureSection:
    comparisons = []
    for position, comparison in enumerate(report.design.comparisons):
        key = f"{measure.id}-{comparison.id}"
        comparisons.append(
            ComparisonSection(
                id=f"c-{key}",
                title=f"{names.measure(measure)}: {names.comparison(comparison)}",
                open=position == 0,
                meta=_meta_table(report, measure, comparison, names, tr),
                forests=_forests(report, measure, comparison, names, tr),
                tables=_pooled_tables(report, measure, comparison, names, tr),
            )
        )
    return MeasureSection(
        id=f"m-{measure.id}", title=names.measure(measure), comparisons=comparisons
    )


def _meta_table(
    report: ProgrammeReport, measure: Measure, comparison: Comparison, names: _Names, tr: Speaker
) -> TableView:
    places = measure.decimals
    notes = Footnotes()
    rows = []
    for meta in report.analysis.meta:
        if meta.measure != measure.id or meta.comparison != comparison.id:
            continue
        row_notes = list(meta.notes)
        if meta.k == 0:
            cells = [Cell(tr("no course to pool"), "undefined", colspan=7)]
        else:
            cells = [
                Cell(_value_interval(meta.estimate, meta.ci_low, meta.ci_high, places), "num wrap"),
                Cell(fmt_interval(meta.pi_low, meta.pi_high, places).replace(" ", NBSP) or DASH),
                Cell(fmt(meta.tau2, places + 1)),
                Cell(fmt(meta.i2, 0) + ("%" if meta.i2 is not None else "")),
                Cell(f"{fmt(meta.q, 2)} ({fmt_p(meta.q_pvalue)})" if meta.q is not None else DASH),
                Cell(fmt_p(meta.pvalue)),
                Cell(
                    _value_interval(meta.fe_estimate, meta.fe_ci_low, meta.fe_ci_high, places),
                    "num wrap",
                ),
            ]
        rows.append(
            Row(
                [Cell(names.skills.get(meta.skill, meta.skill), "text"), Cell(str(meta.k)), *cells],
                notes.refs(row_notes),
                emphasis=meta.skill == TOTAL,
            )
        )
    method = report.analysis.meta[0].method if report.analysis.meta else "REML"
    return TableView(
        id=f"meta-{measure.id}-{comparison.id}",
        title=tr("Meta-analysis of the courses' mean gains"),
        caption=tr(
            "Random effects, tau² by %(method)s; in %(unit)s. The prediction interval is "
            "where the mean gain of a new course like these is expected to lie.",
            method=method,
            unit=tr(measure.gain_unit),
        ),
        headers=[
            Header(tr("Skill"), text=True),
            Header(tr("Courses (k)")),
            Header(tr("Pooled gain [95% CI]")),
            Header(tr("95% prediction interval")),
            Header("tau²"),
            Header("I²"),
            Header(tr("Q (p)")),
            Header(tr("p")),
            Header(tr("Fixed effect [95% CI]")),
        ],
        rows=rows,
        notes=notes.texts,
    )


def _value_interval(value: float | None, low: float | None, high: float | None, places: int) -> str:
    if value is None:
        return DASH
    interval = fmt_interval(low, high, places).replace(" ", NBSP)
    return f"{fmt(value, places, signed=True)} {interval}".strip()


def _forests(
    report: ProgrammeReport, measure: Measure, comparison: Comparison, names: _Names, tr: Speaker
) -> list[Forest]:
    places = measure.decimals
    course_rows = {
        (r.course, r.skill): r
        for r in report.analysis.summary
        if r.scope == "course" and r.measure == measure.id and r.comparison == comparison.id
    }
    metas = {
        m.skill: m
        for m in report.analysis.meta
        if m.measure == measure.id and m.comparison == comparison.id
    }
    out = []
    for skill in report.design.skills:
        meta = metas.get(skill)
        weights = dict(zip(meta.courses, meta.weights, strict=True)) if meta else {}
        rows = []
        labels = course_labels(report)
        for course in report.courses:
            row = course_rows.get((course.id, skill))
            rows.append(
                _forest_row(
                    labels[course.id], row, weights.get(course.id), report.min_cell_size, tr
                )
            )
        if all(r.n == 0 for r in rows):
            continue
        pooled = None
        if meta is not None and meta.estimate is not None and meta.ci_low is not None:
            pooled = Pooled(
                label=tr("Pooled (random effects, %(method)s)", method=meta.method),
                estimate=meta.estimate,
                low=meta.ci_low,
                high=meta.ci_high if meta.ci_high is not None else meta.estimate,
                pi_low=meta.pi_low,
                pi_high=meta.pi_high,
                pi_label=tr("95% prediction interval"),
            )
        skill_name = names.skills.get(skill, skill)
        svg_id = f"forest-{measure.id}-{comparison.id}-{skill}"
        title = tr(
            "%(measure)s, %(comparison)s, %(skill)s: mean gain per course",
            measure=names.measure(measure),
            comparison=names.comparison(comparison),
            skill=skill_name,
        )
        out.append(
            Forest(
                id=f"fig-{svg_id}",
                title=title,
                caption=tr(
                    "Each course's mean gain with its 95%% interval (mean ± 1.96 standard "
                    "errors); the square's size follows its weight. The diamond is the pooled "
                    "estimate, the line below it the prediction interval."
                ),
                svg=forest_svg(
                    svg_id,
                    title,
                    rows,
                    pooled,
                    places,
                    tr("Mean gain, %(unit)s", unit=tr(measure.gain_unit)),
                    tr("Gain [95% CI]"),
                    tr("Weight"),
                    tr("no change"),
                ),
            )
        )
    return out


def course_labels(report: ProgrammeReport) -> dict[str, str]:
    """Short names of the courses for charts: "Kazakhstan 2024", with the course id
    where two courses share a country and a year."""
    short = {c.id: f"{c.country_name} {c.year}" for c in report.courses}
    counts: dict[str, int] = {}
    for label in short.values():
        counts[label] = counts.get(label, 0) + 1
    return {
        cid: label if counts[label] == 1 else f"{label} ({cid})" for cid, label in short.items()
    }


def _forest_row(
    label: str, row: ProgrammeRow | None, weight: float | None, k: int, tr: Speaker
) -> ForestRow:
    if row is None or row.n_paired == 0:
        return ForestRow(label, 0, status=tr("nobody answered both phases"))
    if row.withheld:
        return ForestRow(
            label, row.n_paired, status=_withheld_words(next(iter(row.withheld.values())), k, tr)
        )
    if row.mean_gain is None or row.gain_sd is None or row.n_paired < 2:
        return ForestRow(label, row.n_paired, status=tr("not defined for these data"))
    low, high = normal_interval(row.mean_gain, row.gain_sd, row.n_paired)
    return ForestRow(label, row.n_paired, row.mean_gain, low, high, weight)


def _pooled_tables(
    report: ProgrammeReport, measure: Measure, comparison: Comparison, names: _Names, tr: Speaker
) -> list[TableView]:
    places = measure.decimals
    rows_here = [
        r
        for r in report.analysis.summary
        if r.scope == "pooled" and r.measure == measure.id and r.comparison == comparison.id
    ]
    out = []
    by_breakdown: dict[str, list[ProgrammeRow]] = {}
    for row in rows_here:
        by_breakdown.setdefault(row.breakdown, []).append(row)
    for breakdown, rows in by_breakdown.items():
        notes = Footnotes()
        view_rows: list[Row] = []
        groups = [ALL] if breakdown == ALL else [g.id for g in report.groups.get(breakdown, [])]
        for group in groups:
            group_rows = [r for r in rows if r.group == group]
            if not group_rows or all(r.n_paired == 0 for r in group_rows):
                continue
            if breakdown != ALL:
                view_rows.append(Row([], group=names.group(breakdown, group)))
            for row in group_rows:
                view_rows.append(
                    Row(
                        _pooled_cells(row, names, places, report.min_cell_size, tr),
                        notes.refs(row.notes),
                        emphasis=row.skill == TOTAL,
                    )
                )
        if not view_rows:
            continue
        title = (
            tr("All participants, by skill")
            if breakdown == ALL
            else tr("By %(breakdown)s", breakdown=names.breakdowns.get(breakdown, breakdown))
        )
        out.append(
            TableView(
                id=f"pooled-{breakdown}-{measure.id}-{comparison.id}",
                title=title,
                caption=tr(
                    "Every course's people together, in %(unit)s. p (Holm): the t test's "
                    "p-value adjusted within its family.",
                    unit=names.unit(measure),
                ),
                headers=[
                    Header(tr("Skill"), text=True),
                    Header(tr("Paired (n)")),
                    Header(tr("From: mean (SD)")),
                    Header(tr("To: mean (SD)")),
                    Header(tr("Gain [95% CI]")),
                    Header(tr("p (Holm)")),
                    Header("d_z [95% CI]"),
                ],
                rows=view_rows,
                notes=notes.texts,
            )
        )
    return out


def _pooled_cells(row: ProgrammeRow, names: _Names, places: int, k: int, tr: Speaker) -> list[Cell]:
    skill = Cell(names.skills.get(row.skill, row.skill), "text")
    if row.withheld:
        reason = next(iter(row.withheld.values()))
        return [
            skill,
            Cell(str(row.n_paired)),
            Cell(_withheld_words(reason, k, tr), "withheld", colspan=5),
        ]
    if row.n_paired == 0:
        return [skill, Cell("0"), Cell(tr("nobody answered both phases"), "undefined", colspan=5)]

    def mean_sd(mean: float | None, sd: float | None) -> str:
        text = fmt(mean, places)
        return f"{text} ({fmt(sd, places)})" if sd is not None else text

    return [
        skill,
        Cell(str(row.n_paired)),
        Cell(mean_sd(row.from_mean, row.from_sd)),
        Cell(mean_sd(row.to_mean, row.to_sd)),
        Cell(_value_interval(row.mean_gain, row.gain_ci_low, row.gain_ci_high, places), "num wrap"),
        Cell(fmt_p(row.p_holm)),
        Cell(_value_interval(row.cohens_dz, row.dz_ci_low, row.dz_ci_high, 2), "num wrap"),
    ]


def meta_row_of(
    rows: Sequence[MetaRow], measure: str, comparison: str, skill: str
) -> MetaRow | None:
    return next(
        (m for m in rows if (m.measure, m.comparison, m.skill) == (measure, comparison, skill)),
        None,
    )
