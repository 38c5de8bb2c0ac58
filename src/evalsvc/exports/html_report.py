"""The printable HTML report: in brief, headline results, charts, tables and methods.

`render_report` fills ``web/templates/report.html`` with a typed context built here
from the ``html_*`` views: numbers are formatted in Python (`formatting`; the template
only lays them out) and the charts are inline SVG from `svg_chart`, drawn with
presentation attributes only -- no ``style=""`` attribute and no script -- so the
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

from evalsvc.domain.questionnaire import Course
from evalsvc.exports import methods
from evalsvc.exports.display_names import EVERYONE, DisplayNames
from evalsvc.exports.formatting import withheld_words
from evalsvc.exports.html_answers import PhaseResponses, phase_responses
from evalsvc.exports.html_attrition import attrition_tables, phase_count_table
from evalsvc.exports.html_headlines import Headline, headlines
from evalsvc.exports.html_heatmap import HeatMap, heat_map
from evalsvc.exports.html_items import item_tables
from evalsvc.exports.html_results import ResultsSection, results_sections
from evalsvc.exports.html_view import TableView
from evalsvc.exports.plain_language import Paragraph, in_brief
from evalsvc.exports.report_i18n import current, tr, untranslated_note, using

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
    with using(report.lang):
        context = report_context(report, course, links=links)
        css = Markup(stylesheet()) if inline_css else None  # noqa: S704 - our own file
        return (
            _environment()
            .get_template("report.html")
            .render(report=context, css=css, stylesheet_url=STYLESHEET_URL)
        )


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    lang: str | None = None


@dataclass(frozen=True)
class Contents:
    id: str
    title: str


@dataclass(frozen=True)
class ReportContext:
    title: str
    lang: str
    facts: list[Fact]
    links: list[tuple[str, str]]
    warnings: list[str]
    brief: list[Paragraph]
    headlines: list[Headline]
    results: list[ResultsSection]
    phase_counts: TableView
    attrition: list[TableView]
    items: list[TableView]
    responses: list[PhaseResponses]
    methods: list[methods.MethodsSection]
    general_notes: list[str]
    contents: list[Contents]
    min_cell_size: int
    heatmaps: list[HeatMap]
    labels: dict[str, str]


def report_context(
    report: CourseReport, course: Course, *, links: Sequence[tuple[str, str]] = ()
) -> ReportContext:
    names = DisplayNames(report, course)
    results = results_sections(report, names, course.pass_mark)
    items = list(item_tables(report, names))
    responses = phase_responses(report, course, names)
    heatmaps = course_heatmaps(report, names)
    contents = [
        Contents("brief", tr("In brief")),
        Contents("headline", tr("Headline results")),
    ]
    if heatmaps:
        contents.append(Contents("heatmaps", tr("At a glance: groups by skill")))
    contents += [
        *(Contents(section.id, section.title) for section in results),
        Contents("attrition", tr("Who answered, and who dropped out")),
    ]
    if items:
        contents.append(Contents("items", tr("Knowledge items and reliability")))
    if responses:
        contents.append(Contents("answers", tr("Answers to the other questions")))
    contents.append(Contents("methods", tr("Methods")))
    return ReportContext(
        title=report.title,
        lang=report.lang,
        facts=_facts(report, course),
        links=list(links),
        warnings=_warnings(report),
        brief=in_brief(report, names),
        headlines=headlines(report, names),
        results=results,
        phase_counts=phase_count_table(report, names),
        attrition=list(attrition_tables(report, names)),
        items=items,
        responses=responses,
        methods=methods.methods_sections(report, course),
        general_notes=list(report.analysis.notes),
        contents=contents,
        min_cell_size=report.min_cell_size,
        heatmaps=heatmaps,
        labels=_labels(report),
    )


def _labels(report: CourseReport) -> dict[str, str]:
    """The template's own words, in the report's language."""
    return {
        "kicker": tr("Course evaluation report"),
        "report": tr("evaluation report"),
        "downloads": tr("Download:"),
        "contents": tr("Contents"),
        "warning": tr("Warning:"),
        "brief": tr("In brief"),
        "headline": tr("Headline results"),
        "heatmaps": tr("At a glance: groups by skill"),
        "attrition": tr("Who answered, and who dropped out"),
        "items": tr("Knowledge items and reliability"),
        "answers": tr("Answers to the other questions"),
        "asked_at": tr("Asked at"),
        "no_answers": tr("No answers."),
        "methods": tr("Methods"),
        "notes": tr("Notes"),
        "symbols": tr("Symbols"),
        "untranslated": untranslated_note(current()),
        "withheld_note": tr(
            "Figures of groups of fewer than %(k)s people are withheld, and so are figures "
            "that would let them be worked out (“withheld to protect another group”). All "
            "figures, to full precision, are in the downloads; the methods are at the end of "
            "this report.",
            k=report.min_cell_size,
        ),
    }


def course_heatmaps(report: CourseReport, names: DisplayNames) -> list[HeatMap]:
    """Agency x skill (and each breakdown item x skill) grids of the first comparison."""
    if not report.design.comparisons:
        return []
    comparison = report.design.comparisons[0]
    skills = [(s, names.skill(s)) for s in report.design.skills]
    k = report.min_cell_size
    words = {reason: withheld_words(reason, k) for reason in ("small_group", "complementary")}
    out = []
    for measure in report.design.measures:
        for breakdown in report.design.breakdowns:
            groups = [(g, names.group(breakdown.id, g)) for g in breakdown.groups]
            found = heat_map(
                f"heat-{breakdown.id}-{measure.id}",
                report.analysis.summary,
                measure,
                comparison.id,
                breakdown.id,
                groups,
                skills,
                k,
                current(),
                title=tr(
                    "%(measure)s, %(comparison)s: %(breakdown)s by skill",
                    measure=names.measure(measure.id),
                    comparison=names.comparison(comparison),
                    breakdown=names.breakdown(breakdown.id),
                ),
                everyone=tr(EVERYONE),
                withheld_words=words,
            )
            if found is not None:
                out.append(found)
    return out


def _warnings(report: CourseReport) -> list[str]:
    stale = report.scoring.other_rules
    if stale <= 0:
        return []
    return [
        tr.n(
            "%(n)s submission was scored under other scoring rules than the course's current "
            "ones (an answer key or points changed since). Its scores, and every figure "
            "below, may not match the current key until it is rescored: run `evalsvc "
            "rescore %(course)s`.",
            "%(n)s submissions were scored under other scoring rules than the course's "
            "current ones (an answer key or points changed since). Their scores, and every "
            "figure below, may not match the current key until they are rescored: run "
            "`evalsvc rescore %(course)s`.",
            stale,
            course=report.course,
        )
    ]


def _facts(report: CourseReport, course: Course) -> list[Fact]:
    lang = report.lang
    facts = [Fact(tr("Course"), report.course)]
    if course.start_date and course.end_date:
        facts.append(
            Fact(
                tr("Dates"),
                tr(
                    "%(start)s to %(end)s",
                    start=course.start_date.isoformat(),
                    end=course.end_date.isoformat(),
                ),
            )
        )
    if course.venue:
        venue, venue_lang = course.localized(course.venue, lang)
        facts.append(Fact(tr("Venue"), venue, venue_lang))
    if course.organisers:
        organisers = "; ".join(course.localize(o.name, lang) for o in course.organisers)
        facts.append(Fact(tr("Organisers"), organisers, lang))
    facts += [
        Fact(tr("Participants"), str(report.analysis.n_participants)),
        Fact(tr("Agencies"), str(len(report.agencies))),
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
