"""responses.R: an R script that reads responses.csv and applies the labels.

The script gives R the same dictionary as the SPSS and Stata files
(`labelled_tables.response_layout`): coded answers become factors whose levels are
the option ids (or scale points) and whose labels are the option texts in the chosen
language; each multiple-choice option becomes a 0/1 factor named as in the .sav/.dta
files; every column gets its question text as its "label" attribute (what RStudio's
viewer, `Hmisc` and `labelled` show). "Does not apply" on a likert item becomes NA,
as it is user-missing in SPSS.

Every non-ASCII character in the script is written as a ``\\uXXXX`` escape, so the
script runs the same whatever the R session's locale (cp1251 Windows included).
"""

from __future__ import annotations

from evalsvc.domain.questionnaire import Course
from evalsvc.exports.labelled import Variable
from evalsvc.exports.labelled_tables import NOT_APPLICABLE, Source, response_layout, word

PRELUDE = """\
# {title}
# Responses with labels, written by evalsvc for R (>= 3.5). Save the course's
# responses.csv as "{csv}" beside this script, then: source("{script}")
# Option ids become factors labelled in {lang}; each column's question is its
# "label" attribute. Multiple choice adds one 0/1 factor per option.

set_label <- function(x, label) {{
  attr(x, "label") <- label
  x
}}
has_option <- function(x, option) {{
  chosen <- vapply(strsplit(ifelse(is.na(x), "", x), "|", fixed = TRUE),
                   function(ids) option %in% ids, logical(1))
  out <- as.integer(chosen)
  out[is.na(x)] <- NA
  out
}}

responses <- read.csv("{csv}", fileEncoding = "UTF-8-BOM", colClasses = "character",
                      na.strings = "", check.names = FALSE)
"""


def r_string(text: str) -> str:
    """An R string literal of `text`, ASCII only."""
    out = []
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif 32 <= code < 127:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{{{code:08x}}}")
    return '"' + "".join(out) + '"'


def _vector(values: list[str]) -> str:
    return "c(" + ", ".join(r_string(v) for v in values) + ")"


def responses_r(course: Course, lang: str, csv_name: str, script_name: str) -> str:
    """The script's text (ASCII); `csv_name` is the responses.csv file it reads."""
    lines = [
        PRELUDE.format(
            title=r_string(course.localize(course.title, lang))[1:-1],
            csv=csv_name,
            script=script_name,
            lang=lang,
        )
    ]
    phase_levels = list(course.phase_ids())
    phase_labels = [course.localize(p.title, lang) if p.title else p.id for p in course.phases]
    agency_levels = list(course.agency_ids())
    agency_labels = [course.localize(a.name, lang) for a in course.agencies]
    for variable, source in response_layout(course, lang):
        target = f"responses[[{r_string(variable.name)}]]"
        column = f"responses[[{r_string(source.column)}]]"
        value = _value(variable, source, column, phase_levels, phase_labels, agency_levels,
                       agency_labels, lang)  # fmt: skip
        lines.append(f"{target} <- set_label({value},\n  {r_string(variable.label)})")
    lines.append("")
    return "\n".join(lines)


def _value(
    variable: Variable,
    source: Source,
    column: str,
    phase_levels: list[str],
    phase_labels: list[str],
    agency_levels: list[str],
    agency_labels: list[str],
    lang: str,
) -> str:
    name = source.column
    if source.coding is None:
        if name == "participant":
            return f"as.integer({column})"
        if name in ("agency", "submitted_agency"):
            return _factor(column, agency_levels, agency_labels)
        if name == "phase":
            return _factor(column, phase_levels, phase_labels)
        if name == "agency_mismatch":
            return _factor(column, ["false", "true"], [word("no", lang), word("yes", lang)])
        return column
    coding = source.coding
    kind = coding.item.kind
    if source.option is not None:
        chosen = [variable.value_labels[0], variable.value_labels[1]]
        return _factor(f"has_option({column}, {r_string(source.option)})", ["0", "1"], chosen)
    if kind == "number":
        return f"as.numeric({column})"
    if kind in ("short_text", "long_text"):
        return column
    if kind == "likert":
        levels = [answer for answer in coding.codes if answer != NOT_APPLICABLE]
        labels = [coding.labels.get(coding.codes[a], a) for a in levels]
        return _factor(column, levels, labels, ordered=True)
    levels = list(coding.codes)
    return _factor(column, levels, [coding.labels[coding.codes[a]] for a in levels])


def _factor(column: str, levels: list[str], labels: list[str], *, ordered: bool = False) -> str:
    # duplicated labels would merge levels; keep each level apart by its id
    seen: dict[str, int] = {}
    distinct = []
    for level, label in zip(levels, labels, strict=True):
        seen[label] = seen.get(label, 0) + 1
        distinct.append(label if seen[label] == 1 else f"{label} [{level}]")
    tail = ", ordered = TRUE" if ordered else ""
    return f"factor({column},\n  levels = {_vector(levels)},\n  labels = {_vector(distinct)}{tail})"
