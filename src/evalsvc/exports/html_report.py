"""The printable HTML report: headline results, charts, tables and methods.

`render_report` fills ``web/templates/report.html`` with a typed context built here:
numbers are formatted in Python (the template only lays them out), and the charts
are inline SVG drawn here with presentation attributes only -- no ``style=""``
attribute and no script -- so the served page passes a CSP of
``default-src 'self'; style-src 'self'``. Nothing is loaded from another host: the
served page links ``/static/report.css``; the offline file (``inline_css=True``)
carries the same stylesheet in a ``<style>`` element.

The Jinja environment is our own (autoescape on, StrictUndefined), so every text
that came from a participant or a course file is escaped; the only markup passed as
safe is the SVG built here (whose texts go through `markupsafe.escape`) and our own
stylesheet.

Display conventions: knowledge scores with 1 decimal, confidence with 2; p-values
with 3 decimals ("< 0.001" below that); effect sizes and correlations with 2; shares
as percentages with 1. Negative numbers use the minus sign (−). A figure that is
withheld shows as "suppressed (n < k)" (or "suppressed (complementary)"), a figure
that is undefined as "—" with the row's notes as numbered footnotes.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup, escape

from evalsvc.domain.questionnaire import Course
from evalsvc.domain.scoring import TOTAL
from evalsvc.domain.summary import (
    ALL,
    MEASURES,
    FeedbackLikertRow,
    ItemRow,
    ReliabilityRow,
    SummaryRow,
)
from evalsvc.exports import methods

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STYLESHEET_URL = "/static/report.css"
DASH = "—"
MINUS = "\u2212"

PRE_COLOUR, POST_COLOUR, INK, MUTED, GRID = "#9db9d3", "#0a58a6", "#1a1a1a", "#4b5563", "#d1d5db"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'DejaVu Sans', Arial, sans-serif"


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


# -- number formatting -------------------------------------------------------------------


def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if text.startswith("-"):
        text = MINUS + text[1:]
        if float(text[1:]) == 0:
            text = text[1:]
    return text


def fmt(value: float | int | None, decimals: int = 2, *, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    text = _number(float(value), decimals)
    return "+" + text if signed and value > 0 and text.strip("0.") else text


def fmt_p(value: float | None) -> str:
    if value is None:
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_share(value: float | None) -> str:
    return DASH if value is None else f"{_number(100 * value, 1)}%"


def fmt_interval(low: float | None, high: float | None, decimals: int) -> str:
    if low is None or high is None:
        return ""
    return f"[{fmt(low, decimals)}, {fmt(high, decimals)}]"


def score_decimals(measure: str) -> int:
    return 1 if measure == "knowledge" else 2


def suppressed_text(reason: str | None, k: int) -> str:
    if reason == "complementary":
        return "suppressed (complementary)"
    return f"suppressed (n < {k})"


# -- context -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    kind: str = "num"
    """CSS class: num, text, withheld or undefined."""
    title: str | None = None
    colspan: int = 1
    lang: str | None = None


@dataclass
class Footnotes:
    """Notes of a table, numbered once each in order of first use."""

    texts: list[str] = field(default_factory=list)

    def refs(self, notes: Sequence[str]) -> list[int]:
        numbers = []
        for note in notes:
            if note not in self.texts:
                self.texts.append(note)
            numbers.append(self.texts.index(note) + 1)
        return sorted(set(numbers))


@dataclass(frozen=True)
class Row:
    cells: list[Cell]
    notes: list[int]
    group: str | None = None
    """When set, a group header row spanning the table (cells are then empty)."""
    emphasis: bool = False


@dataclass(frozen=True)
class TableView:
    id: str
    title: str
    caption: str
    headers: list[tuple[str, str]]
    """(label, tooltip: the column names of the CSV/JSON it shows)."""
    rows: list[Row]
    notes: list[str]
    big: bool = False
    text_columns: int = 1
    """How many leading columns hold text (their headers align left)."""


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
    names = _Names(report, course)
    feedback_tables, legends = _feedback_tables(report, course, names)
    return ReportContext(
        title=report.title,
        lang=report.lang,
        facts=_facts(report, course),
        links=list(links),
        headlines=_headlines(report),
        figures=_figures(report, names),
        summary_tables=[_summary_table(report, m, names) for m in MEASURES],
        further_tables=[_further_table(report, m, names) for m in MEASURES],
        comparison=_comparison_table(report, names),
        items=_items_table(report, names),
        reliability=_reliability_table(report, names),
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


class _Names:
    """Display names of agencies, skills and items in the report's language."""

    def __init__(self, report: CourseReport, course: Course) -> None:
        self.agencies = {a.id: a.name for a in report.agencies}
        self.agencies[ALL] = "All participants"
        self.skills = {s.id: s.name for s in report.skills}
        self.skills[TOTAL] = "Total (all skills)"
        self.items = {item.id: course.localize(item.text, report.lang) for item in course.items}
        self.lang = report.lang

    def agency(self, agency_id: str) -> str:
        return self.agencies.get(agency_id, agency_id)

    def skill(self, skill_id: str | None) -> str:
        return DASH if skill_id is None else self.skills.get(skill_id, skill_id)

    def item(self, item_id: str) -> str:
        return self.items.get(item_id, item_id)


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


@dataclass(frozen=True)
class Bar:
    label: str
    n: int
    pre: float | None = None
    post: float | None = None
    low: float | None = None
    """Whisker from pre + gain_ci_low ..."""
    high: float | None = None
    """... to pre + gain_ci_high."""
    gain: str = ""
    status: str | None = None
    """Shown instead of bars: why there are none."""
    pooled: bool = False


def _bar(label: str, row: SummaryRow | None, k: int, pooled: bool = False) -> Bar:
    if row is None or row.n_paired == 0:
        return Bar(label, 0, status="no paired participants", pooled=pooled)
    if row.suppressed:
        return Bar(
            label, row.n_paired, status=suppressed_text(row.suppressed_reason, k), pooled=pooled
        )
    d = score_decimals(row.measure)
    low = high = None
    if row.pre_mean is not None and row.gain_ci_low is not None and row.gain_ci_high is not None:
        low, high = row.pre_mean + row.gain_ci_low, row.pre_mean + row.gain_ci_high
    gain = fmt(row.mean_gain, d, signed=True)
    interval = fmt_interval(row.gain_ci_low, row.gain_ci_high, d)
    return Bar(
        label,
        row.n_paired,
        pre=row.pre_mean,
        post=row.post_mean,
        low=low,
        high=high,
        gain=f"{gain} {interval}".strip(),
        pooled=pooled,
    )


def _figures(report: CourseReport, names: _Names) -> list[Figure]:
    k = report.min_cell_size
    figures = []
    for measure in MEASURES:
        by_skill = [
            _bar(names.skill(s.id), _row(report, measure, ALL, s.id), k) for s in report.skills
        ]
        by_skill.append(_bar(names.skill(TOTAL), _row(report, measure, ALL, TOTAL), k, True))
        by_agency = [
            _bar(names.agency(a.id), _row(report, measure, a.id, TOTAL), k) for a in report.agencies
        ]
        by_agency.append(_bar(names.agency(ALL), _row(report, measure, ALL, TOTAL), k, True))
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


def _wrap(text: str, width: int, lines: int) -> list[str]:
    """`text` in at most `lines` lines of about `width` characters (the last cut with …)."""
    out: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    out.append(current)
    if len(out) > lines:
        out = [*out[: lines - 1], " ".join(out[lines - 1 :])]
    return [line if len(line) <= width else line[: width - 1].rstrip() + "…" for line in out]


LABEL_CHARS = 30
"""Characters per label line: about 260 px of Cyrillic at 12 px, inside the 270 px label column."""
"""Characters per label line; 12px system sans fits ~34 Cyrillic letters in 250px."""


def prepost_svg(svg_id: str, title: str, bars: Sequence[Bar], measure: str) -> Markup:
    """Horizontal pre/post bars with the gain's interval as a whisker on the post bar.

    One band per bar, tall enough for its label (up to three lines) and "n = …";
    the value axis is 0..100 for knowledge and 1..5 for confidence. Inline in HTML,
    so without an xmlns (the HTML parser puts <svg> in the SVG namespace).
    """
    if measure == "knowledge":
        lo, hi, ticks = 0.0, 100.0, range(0, 101, 20)
    else:
        lo, hi, ticks = 1.0, 5.0, range(1, 6)
    decimals = score_decimals(measure)
    width, label_w, right_w, top = 800, 270, 150, 46
    plot_x, plot_w = label_w, width - label_w - right_w
    line_h = 14
    labels = [_wrap(bar.label, LABEL_CHARS, 3) for bar in bars]
    bands = [max(44, line_h * (len(lines) + 1) + 6) for lines in labels]
    bottom = top + sum(bands)
    height = bottom + 34

    def x(value: float) -> float:
        return plot_x + plot_w * (min(max(value, lo), hi) - lo) / (hi - lo)

    e = escape
    parts = [
        f'<svg viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{svg_id}-title" '
        f'font-family="{FONT}" font-size="12" fill="{INK}">',
        f'<title id="{svg_id}-title">{e(title)}</title>',
        # legend
        f'<rect x="{plot_x}" y="6" width="14" height="10" fill="{PRE_COLOUR}"/>',
        f'<text x="{plot_x + 19}" y="15">Before the course</text>',
        f'<rect x="{plot_x + 135}" y="6" width="14" height="10" fill="{POST_COLOUR}"/>',
        f'<text x="{plot_x + 154}" y="15">After the course</text>',
    ]
    wx = plot_x + 265
    parts += [
        f'<path d="M{wx} 6v10M{wx} 11h22M{wx + 22} 6v10" stroke="{INK}" stroke-width="1.5" '
        'fill="none"/>',
        f'<text x="{wx + 28}" y="15">95% CI of the gain</text>',
        f'<text x="{width - 4}" y="{top - 8}" text-anchor="end" font-weight="bold">'
        "Gain [95% CI]</text>",
    ]
    # grid and axis
    for tick in ticks:
        tx = x(float(tick))
        parts += [
            f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{bottom}" stroke="{GRID}" '
            'stroke-width="1"/>',
            f'<text x="{tx:.1f}" y="{bottom + 15}" text-anchor="middle" fill="{MUTED}">'
            f"{tick}</text>",
        ]
    axis_label = "% of points" if measure == "knowledge" else "rating (1–5)"
    parts.append(
        f'<text x="{plot_x + plot_w / 2:.1f}" y="{bottom + 29}" text-anchor="middle" '
        f'fill="{MUTED}" font-size="11">{axis_label}</text>'
    )
    y0 = top
    for bar, lines, band in zip(bars, labels, bands, strict=True):
        parts += _bar_parts(bar, lines, y0, band, x, plot_x, label_w, width, decimals)
        y0 += band
    parts.append("</svg>")
    return Markup("\n".join(parts))  # noqa: S704 - every text above went through escape()


def _bar_parts(
    bar: Bar,
    lines: list[str],
    y0: float,
    band: float,
    x: Callable[[float], float],
    plot_x: float,
    label_w: float,
    width: float,
    decimals: int,
) -> list[str]:
    e = escape
    bar_h, line_h = 13, 14
    middle = y0 + band / 2
    parts = []
    weight = ' font-weight="bold"' if bar.pooled else ""
    if bar.pooled:
        parts.append(
            f'<line x1="4" y1="{y0}" x2="{width - 4}" y2="{y0}" stroke="{MUTED}" stroke-width="1"/>'
        )
    # the label and "n = ..." centred on the band
    first_y = middle - line_h * len(lines) / 2 + 4
    parts.append(f'<text x="{label_w - 10}" y="{first_y:.1f}" text-anchor="end"{weight}>')
    for j, line in enumerate(lines):
        parts.append(f'<tspan x="{label_w - 10}" dy="{0 if j == 0 else line_h}">{e(line)}</tspan>')
    parts.append("</text>")
    parts.append(
        f'<text x="{label_w - 10}" y="{first_y + line_h * len(lines) - 1:.1f}" '
        f'text-anchor="end" fill="{MUTED}" font-size="10">n = {bar.n}</text>'
    )
    if bar.status is not None or bar.pre is None or bar.post is None:
        parts.append(
            f'<text x="{plot_x + 8}" y="{middle + 4:.1f}" fill="{MUTED}" '
            f'font-style="italic">{e(bar.status or "not available")}</text>'
        )
        return parts
    pre_y, post_y = middle - bar_h - 1.5, middle + 1.5
    whisker_end = x(bar.high) if bar.high is not None else plot_x
    for value, colour, top_y, after in (
        (bar.pre, PRE_COLOUR, pre_y, plot_x),
        (bar.post, POST_COLOUR, post_y, whisker_end),
    ):
        parts += [
            f'<rect x="{plot_x}" y="{top_y:.1f}" width="{max(0.0, x(value) - plot_x):.1f}" '
            f'height="{bar_h}" fill="{colour}"/>',
            f'<text x="{max(x(value), after) + 4:.1f}" y="{top_y + 10.5:.1f}" font-size="10" '
            f'fill="{MUTED}">{fmt(value, decimals)}</text>',
        ]
    if bar.low is not None and bar.high is not None:
        cy = post_y + bar_h / 2
        x1, x2 = x(bar.low), x(bar.high)
        parts.append(
            f'<path d="M{x1:.1f} {cy:.1f}H{x2:.1f}M{x1:.1f} {cy - 5:.1f}v10'
            f'M{x2:.1f} {cy - 5:.1f}v10" stroke="{INK}" stroke-width="1.5" fill="none"/>'
        )
    parts.append(
        f'<text x="{width - 4}" y="{middle + 4:.1f}" text-anchor="end"{weight}>{e(bar.gain)}</text>'
    )
    return parts


# -- tables ------------------------------------------------------------------------------


def _undefined(text: str = DASH) -> Cell:
    return Cell(text, "undefined", "not defined for these data: see the notes")


def _withheld(reason: str | None, k: int, colspan: int = 1) -> Cell:
    return Cell(suppressed_text(reason, k), "withheld", None, colspan)


def _num(text: str) -> Cell:
    return _undefined() if text == DASH else Cell(text)


def _maybe_withheld(
    value: float | int | None, text: str, n: int, k: int, notes: Sequence[str], what: str
) -> Cell:
    """A figure that may be withheld (the notes say "<what> withheld") or undefined."""
    if value is not None:
        return Cell(text)
    for note in notes:
        if note.startswith(f"{what} withheld"):
            return _withheld("complementary" if "withheld so that" in note else "size", k)
    if 0 < n < k:
        return _withheld("size", k)
    return _undefined()


SUMMARY_HEADERS = [
    ("Skill", "skill"),
    ("n pre", "n_pre"),
    ("n post", "n_post"),
    ("n paired", "n_paired"),
    ("Pre mean (SD)", "pre_mean, pre_sd"),
    ("Post mean (SD)", "post_mean, post_sd"),
    ("Gain [95% CI]", "mean_gain, gain_ci_low, gain_ci_high"),
    ("p", "t_pvalue: paired t test"),
    ("p Holm", "p_holm"),
    ("d_z [95% CI]", "cohens_dz, dz_ci_low, dz_ci_high"),
    ("↑ = ↓", "n_improved, n_unchanged, n_declined"),
]


def _agency_order(report: CourseReport) -> list[str]:
    return [ALL, *(a.id for a in report.agencies)]


def _rows_by_agency(report: CourseReport, measure: str) -> list[tuple[str, list[SummaryRow]]]:
    known = _agency_order(report)
    groups: dict[str, list[SummaryRow]] = {agency: [] for agency in known}
    for row in report.summary.rows:
        if row.measure == measure:
            groups.setdefault(row.agency, []).append(row)
    return [(agency, rows) for agency, rows in groups.items() if rows]


def _summary_table(report: CourseReport, measure: str, names: _Names) -> TableView:
    k = report.min_cell_size
    d = score_decimals(measure)
    notes = Footnotes()
    rows: list[Row] = []
    for agency, group in _rows_by_agency(report, measure):
        rows.append(Row([], [], group=names.agency(agency)))
        for row in group:
            cells = [
                Cell(names.skill(row.skill), "text"),
                Cell(str(row.n_pre)),
                Cell(str(row.n_post)),
                Cell(str(row.n_paired)),
            ]
            if row.suppressed:
                cells.append(_withheld(row.suppressed_reason, k, colspan=len(SUMMARY_HEADERS) - 4))
            else:
                cells += [
                    _num(_mean_sd(row.pre_mean, row.pre_sd, d)),
                    _num(_mean_sd(row.post_mean, row.post_sd, d)),
                    _num(
                        _with_interval(
                            row.mean_gain, row.gain_ci_low, row.gain_ci_high, d, signed=True
                        )
                    ),
                    _num(fmt_p(row.t_pvalue)),
                    _num(fmt_p(row.p_holm)),
                    _num(_with_interval(row.cohens_dz, row.dz_ci_low, row.dz_ci_high, 2)),
                    Cell(f"{row.n_improved} / {row.n_unchanged} / {row.n_declined}"),
                ]
            rows.append(Row(cells, notes.refs(row.notes), emphasis=row.skill == TOTAL))
    what = "Knowledge" if measure == "knowledge" else "Confidence"
    unit = (
        "Scores in % of points, gains in percentage points."
        if measure == "knowledge"
        else "Self-ratings on a 1–5 scale, gains in scale points."
    )
    return TableView(
        id=f"summary-{measure}",
        title=f"{what}: before and after, per agency and skill",
        caption=f"{unit} Paired participants only. p: paired t test, two-sided; p Holm: "
        f"adjusted over every shown {measure} row. ↑ = ↓: improved / unchanged / declined.",
        headers=SUMMARY_HEADERS,
        rows=rows,
        notes=notes.texts,
        big=True,
    )


FURTHER_HEADERS = [
    ("Skill", "skill"),
    ("Wilcoxon W", "wilcoxon_statistic"),
    ("p", "wilcoxon_pvalue"),
    ("method", "wilcoxon_method"),
    ("r rank-biserial", "rank_biserial"),
    ("g_z [95% CI]", "hedges_gz, hedges_gz_ci_low, hedges_gz_ci_high"),
    ("Normalized gain", "normalized_gain"),
    ("Pre mean, all", "pre_mean_all"),
    ("Post mean, all", "post_mean_all"),
    ("Welch p", "welch_t_pvalue"),
]


def _further_table(report: CourseReport, measure: str, names: _Names) -> TableView:
    k = report.min_cell_size
    d = score_decimals(measure)
    rows: list[Row] = []
    paired_columns = 6 if measure == "knowledge" else 5
    headers = [h for h in FURTHER_HEADERS if measure == "knowledge" or h[1] != "normalized_gain"]
    for agency, group in _rows_by_agency(report, measure):
        rows.append(Row([], [], group=names.agency(agency)))
        for row in group:
            cells = [Cell(names.skill(row.skill), "text")]
            if row.suppressed:
                cells.append(_withheld(row.suppressed_reason, k, colspan=paired_columns - 1))
            else:
                cells += [
                    _num(fmt(row.wilcoxon_statistic, 1)),
                    _num(fmt_p(row.wilcoxon_pvalue)),
                    Cell(row.wilcoxon_method or DASH, "text"),
                    _num(fmt(row.rank_biserial)),
                    _num(
                        _with_interval(
                            row.hedges_gz, row.hedges_gz_ci_low, row.hedges_gz_ci_high, 2
                        )
                    ),
                ]
                if measure == "knowledge":
                    cells.append(_num(fmt(row.normalized_gain)))
            cells += [
                _maybe_withheld(
                    row.pre_mean_all,
                    fmt(row.pre_mean_all, d),
                    row.n_pre,
                    k,
                    row.notes,
                    "pre_mean_all",
                ),
                _maybe_withheld(
                    row.post_mean_all,
                    fmt(row.post_mean_all, d),
                    row.n_post,
                    k,
                    row.notes,
                    "post_mean_all",
                ),
                _num(fmt_p(row.welch_t_pvalue)),
            ]
            rows.append(Row(cells, [], emphasis=row.skill == TOTAL))
    what = "Knowledge" if measure == "knowledge" else "Confidence"
    return TableView(
        id=f"further-{measure}",
        title=f"{what}: further statistics",
        caption="Wilcoxon signed-rank test and rank-biserial correlation (paired, rank-based); "
        "Hedges' g_z; means over every submission, paired or not, and Welch's unpaired t test. "
        f"The notes of each row are those of the {measure} table in the previous section.",
        headers=headers,
        rows=rows,
        notes=[],
        big=True,
    )


def _mean_sd(mean: float | None, sd: float | None, d: int) -> str:
    if mean is None:
        return DASH
    return f"{fmt(mean, d)} ({fmt(sd, d)})" if sd is not None else fmt(mean, d)


def _with_interval(
    value: float | None, low: float | None, high: float | None, d: int, *, signed: bool = False
) -> str:
    if value is None:
        return DASH
    return f"{fmt(value, d, signed=signed)} {fmt_interval(low, high, d)}".strip()


def _comparison_table(report: CourseReport, names: _Names) -> TableView:
    notes = Footnotes()
    rows = []
    for measure in MEASURES:
        rows.append(Row([], [], group="Knowledge" if measure == "knowledge" else "Confidence"))
        for row in report.summary.agency_comparison:
            if row.measure != measure:
                continue
            welch = DASH
            if row.welch_f is not None:
                welch = f"{fmt(row.welch_f)} ({fmt(row.welch_df1, 0)}, {fmt(row.welch_df2, 1)})"
            rows.append(
                Row(
                    [
                        Cell(names.skill(row.skill), "text"),
                        Cell(str(row.n_groups)),
                        _num(fmt(row.kruskal_h)),
                        _num(fmt_p(row.kruskal_pvalue)),
                        _num(welch),
                        _num(fmt_p(row.welch_pvalue)),
                    ],
                    notes.refs(row.notes),
                    emphasis=row.skill == TOTAL,
                )
            )
    return TableView(
        id="agency-comparison",
        title="Do the gains differ between agencies?",
        caption="Gains of the agencies whose figures are shown. Kruskal–Wallis H test and "
        "Welch's one-way ANOVA F (df1, df2).",
        headers=[
            ("Skill", "skill"),
            ("Agencies compared", "n_groups"),
            ("Kruskal–Wallis H", "kruskal_h"),
            ("p", "kruskal_pvalue"),
            ("Welch F (df)", "welch_f, welch_df1, welch_df2"),
            ("p", "welch_pvalue"),
        ],
        rows=rows,
        notes=notes.texts,
    )


def _items_table(report: CourseReport, names: _Names) -> TableView:
    k = report.min_cell_size
    notes = Footnotes()
    rows = []
    for item in report.items:
        rows.append(
            Row(
                [
                    Cell(item.item, "text"),
                    Cell(names.item(item.item), "text question", lang=names.lang),
                    Cell(names.skill(item.skill), "text"),
                    Cell(f"{item.n_pre} / {item.n_post}"),
                    _item_figure(item.p_pre, fmt_share(item.p_pre), item.n_pre, k),
                    _item_figure(item.p_post, fmt_share(item.p_post), item.n_post, k),
                    _item_figure(
                        item.discrimination_pre, fmt(item.discrimination_pre), item.n_pre, k
                    ),
                    _item_figure(
                        item.discrimination_post, fmt(item.discrimination_post), item.n_post, k
                    ),
                    _mcnemar(item, k),
                    _item_figure(item.mcnemar_p, fmt_p(item.mcnemar_p), item.n_paired, k),
                ],
                notes.refs(item.notes),
            )
        )
    return TableView(
        id="items",
        title="Knowledge items",
        caption="p: share answering fully correctly (item difficulty). Discrimination: "
        "corrected item–rest point-biserial correlation. McNemar b / c: paired participants "
        "wrong → right / right → wrong, with the exact McNemar p.",
        headers=[
            ("Item", "item"),
            ("Question", "text (from the course)"),
            ("Skill", "skill"),
            ("n pre / post", "n_pre, n_post"),
            ("p pre", "p_pre"),
            ("p post", "p_post"),
            ("Discr. pre", "discrimination_pre"),
            ("Discr. post", "discrimination_post"),
            ("McNemar b / c", "mcnemar_b, mcnemar_c"),
            ("p", "mcnemar_p"),
        ],
        rows=rows,
        notes=notes.texts,
        big=True,
        text_columns=3,
    )


def _item_figure(value: float | None, text: str, n: int, k: int) -> Cell:
    if value is not None:
        return Cell(text)
    return _withheld("size", k) if 0 < n < k else _undefined()


def _mcnemar(item: ItemRow, k: int) -> Cell:
    if item.mcnemar_b is not None and item.mcnemar_c is not None:
        return Cell(f"{item.mcnemar_b} / {item.mcnemar_c}")
    return _withheld("size", k) if 0 < item.n_paired < k else _undefined()


def _reliability_table(report: CourseReport, names: _Names) -> TableView:
    k = report.min_cell_size
    notes = Footnotes()
    by_skill: dict[str, dict[str, ReliabilityRow]] = {}
    for row in report.reliability:
        by_skill.setdefault(row.skill, {})[row.phase] = row
    rows = []
    for skill, phases in by_skill.items():
        cells = [Cell(names.skill(skill), "text")]
        row_notes: list[str] = []
        items = DASH
        for phase in ("pre", "post"):
            found = phases.get(phase)
            if found is None:
                cells += [_undefined(), _undefined()]
                continue
            items = str(found.k)
            cells.append(Cell(str(found.n)))
            cells.append(_item_figure(found.kr20, fmt(found.kr20), found.n, k))
            row_notes += [f"{phase}: {note}" for note in found.notes]
        cells.insert(1, Cell(items))
        rows.append(Row(cells, notes.refs(row_notes), emphasis=skill == TOTAL))
    return TableView(
        id="reliability",
        title="Reliability of the knowledge test (KR-20)",
        caption="Kuder–Richardson 20 over the participants with every item of the skill. "
        "With few items per skill, values are low; read the total first.",
        headers=[
            ("Skill", "skill"),
            ("Items", "k"),
            ("n pre", "n (phase pre)"),
            ("KR-20 pre", "kr20 (phase pre)"),
            ("n post", "n (phase post)"),
            ("KR-20 post", "kr20 (phase post)"),
        ],
        rows=rows,
        notes=notes.texts,
    )


def _feedback_tables(
    report: CourseReport, course: Course, names: _Names
) -> tuple[list[TableView], list[str]]:
    k = report.min_cell_size
    by_item: dict[str, list[FeedbackLikertRow]] = {}
    for row in report.feedback.likert:
        by_item.setdefault(row.item, []).append(row)
    views, legends = [], []
    items = {item.id: item for item in course.items}
    for item_id, item_rows in by_item.items():
        item = items.get(item_id)
        scale = course.scale(item.scale) if item is not None else None
        points = (
            list(scale.points)
            if scale is not None
            else sorted({p for r in item_rows for p in (r.distribution or {})})
        )
        labels = {}
        if scale is not None:
            labels = {lab.value: course.localize(lab.text, report.lang) for lab in scale.labels}
            legend = "; ".join(f"{p} = {labels[p]}" for p in points if p in labels)
            if legend and legend not in legends:
                legends.append(legend)
        ordered = sorted(item_rows, key=lambda r: r.agency != ALL)
        rows = []
        for row in ordered:
            cells = [Cell(names.agency(row.agency), "text"), Cell(str(row.n))]
            if row.suppressed:
                cells.append(_withheld(row.suppressed_reason, k, colspan=len(points) + 2))
            elif row.distribution is None:
                cells.append(Cell("no answers", "undefined", None, len(points) + 2))
            else:
                cells += [Cell(str(row.distribution.get(p, 0))) for p in points]
                cells += [_num(fmt(row.mean)), _num(fmt_share(row.top_two_box))]
            rows.append(Row(cells, [], emphasis=row.agency == ALL))
        headers = [("Agency", "agency"), ("n", "n")]
        headers += [(str(p), f"n_{p}: {labels.get(p, '')}".rstrip(": ")) for p in points]
        headers += [("Mean", "mean"), ("Top two", "top_two_box")]
        views.append(
            TableView(
                id=f"feedback-{item_id}",
                title=names.item(item_id),
                caption=f"Item {item_id}: number of answers per point of the scale, mean, "
                "and share on the two highest points.",
                headers=headers,
                rows=rows,
                notes=[],
            )
        )
    return views, legends
