"""The printable HTML report: headline results, charts, tables and methods.

`render_report` fills ``web/templates/report.html`` with a typed context built here:
numbers are formatted in Python (`formatting`; the template only lays them out), the
tables are `html_tables` views and the charts are inline SVG from `svg_chart`, drawn
with presentation attributes only -- no ``style=""`` attribute and no script -- so the
served page passes a CSP of ``default-src 'self'; style-src 'self'``. Nothing is
loaded from another host: the served page links ``/static/report.css``; the offline
file (``inline_css=True``) carries the same stylesheet in a ``<style>`` element.

The Jinja environment is our own (autoescape on, StrictUndefined), so every text
that came from a participant or a course file is escaped; the only markup passed as
safe is the SVG built by `svg_chart` (whose texts go through `markupsafe.escape`) and
our own stylesheet.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from evalsvc.domain.cohort import ALL, MEASURES
from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.summary import SummaryRow
from evalsvc.exports import html_tables, methods
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import DASH, fmt, fmt_interval, score_decimals, suppressed_text
from evalsvc.exports.html_tables import TableView
from evalsvc.exports.svg_chart import prepost_svg, summary_bar

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STYLESHEET_URL = "/static/report.css"


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB_DIR / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def stylesheet() -> str:
    """The report's CSS, as served at /static/report.css."""
    text = (WEB_DIR / "static" / "report.css").read_text(encoding="utf-8")
    if "</style" in text.lower():
        raise ValueError("report.css must not contain '</style'")
    return text


def render_report(
    report: CourseReport,
    course: Course,
    *,
    inline_css: bool,
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """The report as one HTML page.

    `links` are (label, url) pairs for the download bar at the top (left out when
    empty, as in the offline file); the web layer decides the URLs.
    """
    context = report_context(report, course, links=links)
    css = Markup(stylesheet()) if inline_css else None  # noqa: S704 - our own file
    return (
        _environment()
        .get_template("report.html")
        .render(report=context, css=css, stylesheet_url=STYLESHEET_URL)
    )


# -- context -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    title: str
    value: str
    lines: list[str]


@dataclass(frozen=True)
class Figure:
    id: str
    title: str
    caption: str
    svg: Markup


@dataclass(frozen=True)
class TextAnswers:
    item: str
    question: str
    answers: list[str]
    notes: list[str]


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    lang: str | None = None


@dataclass(frozen=True)
class ReportContext:
    title: str
    lang: str
    facts: list[Fact]
    links: list[tuple[str, str]]
    headlines: list[Headline]
    figures: list[Figure]
    summary_tables: list[TableView]
    further_tables: list[TableView]
    comparison: TableView
    items: TableView
    reliability: TableView
    feedback: list[TableView]
    scale_legends: list[str]
    texts: list[TextAnswers]
    methods: list[methods.MethodsSection]
    general_notes: list[str]
    min_cell_size: int


def report_context(
    report: CourseReport, course: Course, *, links: Sequence[tuple[str, str]] = ()
) -> ReportContext:
    k = report.min_cell_size
    names = DisplayNames(report, course)
    feedback_tables, legends = html_tables.feedback_tables(report, course, names)
    return ReportContext(
        title=report.title,
        lang=report.lang,
        facts=_facts(report, course),
        links=list(links),
        headlines=_headlines(report),
        figures=_figures(report, names),
        summary_tables=[html_tables.summary_table(report, m, names) for m in MEASURES],
        further_tables=[html_tables.further_table(report, m, names) for m in MEASURES],
        comparison=html_tables.comparison_table(report, names),
        items=html_tables.items_table(report, names),
        reliability=html_tables.reliability_table(report, names),
        feedback=feedback_tables,
        scale_legends=legends,
        texts=[
            TextAnswers(t.item, names.item(t.item), list(t.answers), list(t.notes))
            for t in report.feedback.texts
        ],
        methods=methods.methods_sections(k),
        general_notes=list(report.summary.notes),
        min_cell_size=k,
    )


def _facts(report: CourseReport, course: Course) -> list[Fact]:
    lang = report.lang
    facts = [Fact("Course", report.course)]
    if course.start_date and course.end_date:
        facts.append(Fact("Dates", f"{course.start_date.isoformat()} to {course.end_date}"))
    if course.venue:
        facts.append(Fact("Venue", course.localize(course.venue, lang), lang))
    if course.organisers:
        organisers = "; ".join(course.localize(o.name, lang) for o in course.organisers)
        facts.append(Fact("Organisers", organisers, lang))
    facts += [
        Fact("Participants", str(report.n_participants)),
        Fact("Agencies", str(len(report.agencies))),
        Fact("Smallest group shown (min_cell_size)", str(report.min_cell_size)),
        Fact("Generated", _when(report.generated_at)),
    ]
    return facts


def _when(stamp: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _row(report: CourseReport, measure: str, agency: str, skill: str) -> SummaryRow | None:
    for row in report.summary.rows:
        if (row.measure, row.agency, row.skill) == (measure, agency, skill):
            return row
    return None


# -- headlines -----------------------------------------------------------------------------


def _headlines(report: CourseReport) -> list[Headline]:
    k = report.min_cell_size
    out = []
    for measure, title, unit in (
        ("knowledge", "Knowledge gain, all skills", "percentage points"),
        ("confidence", "Confidence gain, all skills", "scale points (1–5)"),
    ):
        row = _row(report, measure, ALL, TOTAL)
        d = score_decimals(measure)
        if row is None or row.n_paired == 0:
            out.append(Headline(title, DASH, ["No participant has both questionnaires yet."]))
            continue
        if row.suppressed:
            lines = [f"{row.n_paired} paired participants: fewer than {k}, not shown."]
            out.append(Headline(title, suppressed_text(row.suppressed_reason, k), lines))
            continue
        lines = [
            f"{unit}; {fmt(row.pre_mean, d)} before → {fmt(row.post_mean, d)} after "
            f"({row.n_paired} paired participants)"
        ]
        if row.gain_ci_low is not None:
            lines.append(
                f"95% CI {fmt(row.gain_ci_low, d)} to {fmt(row.gain_ci_high, d)}; "
                f"paired t test p {_p_phrase(row.t_pvalue)}"
            )
        if row.cohens_dz is not None:
            interval = fmt_interval(row.dz_ci_low, row.dz_ci_high, 2)
            lines.append(f"Cohen's d_z {fmt(row.cohens_dz)} {interval}".rstrip())
        if measure == "knowledge" and row.normalized_gain is not None:
            lines.append(f"Normalized gain (Hake) {fmt(row.normalized_gain)}")
        lines.append(
            f"{row.n_improved} improved, {row.n_unchanged} unchanged, {row.n_declined} declined"
        )
        out.append(Headline(title, fmt(row.mean_gain, d, signed=True), lines))
    return out


def _p_phrase(p: float | None) -> str:
    if p is None:
        return "undefined"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


# -- charts ---------------------------------------------------------------------------------


def _figures(report: CourseReport, names: DisplayNames) -> list[Figure]:
    k = report.min_cell_size
    figures = []
    for measure in MEASURES:
        by_skill = [
            summary_bar(names.skill(s.id), _row(report, measure, ALL, s.id), k)
            for s in report.skills
        ]
        by_skill.append(summary_bar(names.skill(TOTAL), _row(report, measure, ALL, TOTAL), k, True))
        by_agency = [
            summary_bar(names.agency(a.id), _row(report, measure, a.id, TOTAL), k)
            for a in report.agencies
        ]
        by_agency.append(summary_bar(names.agency(ALL), _row(report, measure, ALL, TOTAL), k, True))
        what = "Knowledge" if measure == "knowledge" else "Confidence"
        unit = (
            "mean score, % of points" if measure == "knowledge" else "mean self-rating, 1–5 scale"
        )
        for by, bars, caption in (
            ("skill", by_skill, "All participants, per skill."),
            ("agency", by_agency, "All skills together (total score), per agency."),
        ):
            figure_id = f"chart-{measure}-{by}"
            title = f"{what} before and after the course, by {by}"
            figures.append(
                Figure(
                    figure_id,
                    title,
                    f"{caption} Bars: {unit}, of the participants who answered both "
                    "questionnaires. Whisker: the 95% confidence interval of the mean gain, "
                    "placed on the pre-course mean; where it stays clear of the pre-course "
                    "bar, the interval excludes no change. Right: mean gain [95% CI].",
                    prepost_svg(figure_id, title, bars, measure),
                )
            )
    return figures
