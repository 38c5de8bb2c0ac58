"""The evaluation report as a PDF: the HTML report, printed with a print stylesheet.

The PDF is made from `html_report.render_report` itself, so whatever the HTML report
shows, the PDF shows too; ``web/static/report-pdf.css`` only adds what paper needs
(A4, the course title on every page, page numbers, a table of contents with page
numbers). The charts are the report's inline SVG, so they stay vectors.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from evalsvc.domain.questionnaire import Course
from evalsvc.exports import html_report, pdf

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport


@functools.cache
def print_stylesheet() -> str:
    return (html_report.WEB_DIR / "static" / "report-pdf.css").read_text(encoding="utf-8")


def report_pdf(report: CourseReport, course: Course) -> bytes:
    """The report as the bytes of a PDF, in the report's language."""
    html = html_report.render_report(report, course, inline_css=True, links=[])
    # after the report's own stylesheet, as an author sheet, so that it wins the cascade
    html = html.replace("</head>", f"<style>\n{print_stylesheet()}</style>\n</head>", 1)
    return pdf.html_to_pdf(html, title=f"{report.title}: evaluation report")
