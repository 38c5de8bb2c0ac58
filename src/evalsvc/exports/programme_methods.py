"""How every figure of the programme report is defined, in words, in the report's language.

The definitions follow `evalsvc.domain.programme_cohort` (framework scores),
`programme_summary` (pooled and course rows), `meta_analysis`, `indicators` and
`disclosure.combined` / `programme_plan`, whose docstrings and tests are the
reference. A paragraph without a translation is shown in English and marked so
(`report_i18n.Localized`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from evalsvc.exports.report_i18n import Localized, Speaker, paragraph

if TYPE_CHECKING:
    from evalsvc.programme_reports import ProgrammeReport


class MethodsSection(NamedTuple):
    title: str
    paragraphs: tuple[Localized, ...]


def methods_sections(report: ProgrammeReport, tr: Speaker) -> list[MethodsSection]:
    method = report.analysis.meta[0].method if report.analysis.meta else "REML"
    audit = report.analysis.disclosure
    return [
        MethodsSection(
            tr("Courses, countries and years"),
            (
                paragraph(
                    lambda: tr(
                        "The programme pools its member courses. Each course keeps its own "
                        "questionnaires and its own report; the programme recomputes nothing "
                        "from answers, only from the scores each course stored."
                    )
                ),
            ),
        ),
        MethodsSection(
            tr("The shared skill framework"),
            (
                paragraph(
                    lambda: tr(
                        "Courses name their skills differently, so each course's skills are "
                        "mapped onto the programme's framework. A framework score is recomputed "
                        "from the course skills mapped onto it: for knowledge, the percent of "
                        "points over all their knowledge items (each course skill weighted by its "
                        "points); for confidence, the mean over all their answered "
                        "self-assessment items (each weighted by the number the person answered); "
                        'for "I don\'t know", the share over all their items offering it. The '
                        "total is the same over every mapped skill. Skills outside the framework "
                        "are left out, and named in the notes."
                    )
                ),
            ),
        ),
        MethodsSection(
            tr("Pooled results"),
            (
                paragraph(
                    lambda: tr(
                        "Pooled rows take every course's people together and carry the same "
                        "statistics as a course report's rows (paired t test and interval, "
                        "Wilcoxon signed-rank test, d_z, d_av, g_z, normalized gains), broken "
                        "down one at a time by course, country, year, agency type and the "
                        "breakdowns the courses record (sex, role). Holm's adjustment treats the "
                        "rows of all participants as the confirmatory family and each breakdown "
                        "as an exploratory family, as in a course report."
                    )
                ),
                paragraph(
                    lambda: tr(
                        "The pass-mark figures compare each person with their own course's pass "
                        "mark, on their course's own knowledge total; courses without a pass "
                        "mark are left out of them."
                    )
                ),
            ),
        ),
        MethodsSection(
            tr("Random-effects meta-analysis"),
            (
                paragraph(
                    lambda: tr(
                        "A pooled mean lets a large course outweigh small ones. The "
                        "meta-analysis instead takes each course's mean gain y with its sampling "
                        "variance v = gain_sd² / n_paired, and assumes that the courses' true "
                        "gains vary around a common mean with variance tau². tau² is estimated "
                        "by %(method)s (REML: restricted maximum likelihood; DL: "
                        "DerSimonian-Laird). The pooled estimate weighs each course by 1 / (v + "
                        "tau²); its 95%% interval is estimate ± 1.96 standard errors.",
                        method=method,
                    )
                ),
                paragraph(
                    lambda: tr(
                        "Heterogeneity: Cochran's Q with its p-value; I², the share of the "
                        "spread of the gains that comes from true differences between the "
                        "courses rather than from sampling; and the 95%% prediction interval, "
                        "estimate ± 1.96 · sqrt(tau² + se²), where the mean gain of a new "
                        "course like these is expected to lie. With few courses, tau² and the "
                        "prediction interval are very uncertain. The fixed-effect estimate is "
                        "shown for comparison. The computation matches R's metafor package "
                        "(checked in the test suite)."
                    )
                ),
                paragraph(
                    lambda: tr(
                        "Only course rows that are published take part, and only those whose "
                        "gains vary (a course whose every gain is equal has no sampling variance "
                        "to weigh it by); the notes name any course left out."
                    )
                ),
            ),
        ),
        MethodsSection(
            tr("Donor indicators"),
            (
                paragraph(
                    lambda: tr(
                        "Each indicator is a share of participants, with a 95%% Wilson score "
                        "interval. Its status compares the whole interval with the target: met "
                        "when all of it reaches the target, not met when none of it does, "
                        "uncertain when it contains the target. Each indicator's exact "
                        "definition is in its note and in the indicators table's definition "
                        "column."
                    )
                ),
            ),
        ),
        MethodsSection(
            tr("Protecting participants across reports"),
            (
                paragraph(
                    lambda: tr(
                        "Every course report is already published, and what it withholds stays "
                        "withheld: the programme never changes a course report. Instead, the "
                        "programme report withholds more, until a verifier finds that nothing "
                        "can be worked out from the programme report together with every course "
                        "report: no figure either of them withholds, and no set of one or two "
                        "cells of fewer than %(k)s people.",
                        k=report.min_cell_size,
                    )
                ),
                paragraph(
                    lambda: tr(
                        "Method: %(method)s.",
                        method=audit.method,
                    )
                ),
                paragraph(
                    lambda: tr(
                        "This report: %(published)s sets of figures published, %(withheld)s "
                        "withheld (%(small)s for small groups, %(complementary)s to protect "
                        "another group); verified: %(verified)s; course-report figures taken as "
                        "published: %(course)s.",
                        published=audit.published,
                        withheld=audit.withheld,
                        small=audit.withheld_small_group,
                        complementary=audit.withheld_complementary,
                        verified=tr("yes") if audit.verified else tr("no"),
                        course=audit.course_releases,
                    )
                ),
            ),
        ),
        MethodsSection(
            tr("What these figures cannot show"),
            (
                paragraph(
                    lambda: tr(
                        "The same people were measured more than once, with no comparison group "
                        "that did not take a course. Part of a change can come from having seen "
                        "the same questions before or from regression to the mean. Courses "
                        "differ in their participants as well as in their teaching, so "
                        "differences between countries or years are descriptions, not effects "
                        "of the course."
                    )
                ),
            ),
        ),
    ]
