"""How every figure of the report is defined, in words: one text for every format.

The workbook's Methods sheet and the HTML report's methods section both render
`methods_sections(report, course)`. The definitions follow `evalsvc.domain.stats`,
`summary`, `attrition`, `items`, `answer_summaries`, `design` and `disclosure`, whose
docstrings and tests are the reference; the course's own settings (measures, scales,
phases, comparisons, pass mark, k, min_n_reliability) and the report's disclosure
audit are filled in. Every column name of the published tables appears in a
definition (tests/test_exports.py checks this).

In the report's language: each paragraph is translated whole or given in English and
marked so (`langs`), never half and half (`report_i18n.paragraph`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from evalsvc.domain.design import Measure
from evalsvc.domain.questionnaire import Course
from evalsvc.exports.display_names import DisplayNames
from evalsvc.exports.formatting import fmt
from evalsvc.exports.report_i18n import R_, paragraph, tr

if TYPE_CHECKING:
    from evalsvc.reports import CourseReport

CONFIDENCE_PERCENT = 95


class MethodsSection(NamedTuple):
    title: str
    paragraphs: tuple[str, ...]
    langs: tuple[str, ...] = ()
    """Each paragraph's language (the report's, or "en" where it has no translation)."""


def methods_sections(report: CourseReport, course: Course) -> list[MethodsSection]:
    names = DisplayNames(report, course)
    return [
        _design(report, names),
        _measures(report, course, names),
        _groups(report, names),
        _means(),
        _t_test(),
        _wilcoxon(),
        _effect_sizes(),
        _normalized_gains(report, names),
        _pass_mark(course),
        _holm(report),
        _between_groups(),
        _attrition(report, names),
        _items(course),
        _reliability(course),
        _responses(report),
        _limits(),
        _disclosure(report),
        _undefined(),
    ]


def methods_text(report: CourseReport, course: Course) -> str:
    """The methods as plain text: titles underlined, paragraphs separated by blank lines."""
    blocks = []
    for section in methods_sections(report, course):
        blocks.append(f"{section.title}\n{'-' * len(section.title)}")
        blocks.extend(section.paragraphs)
    return "\n\n".join(blocks) + "\n"


def _section(title: str, *builders: Callable[[], str]) -> MethodsSection:
    made = [paragraph(build) for build in builders]
    return MethodsSection(tr(title), tuple(m.text for m in made), tuple(m.lang for m in made))


def _design(report: CourseReport, names: DisplayNames) -> MethodsSection:
    def phases() -> str:
        return ", ".join(f"{names.phase(p)} ({p})" for p in report.design.phases)

    def comparisons() -> str:
        return "; ".join(
            f"{c.id}: {names.comparison(c)}, {names.comparison_kind(c)}"
            for c in report.design.comparisons
        )

    return _section(
        R_("Design: phases and comparisons"),
        lambda: tr(
            "Participants answered the questionnaires of these phases: %(phases)s. The "
            "questionnaires of one person are linked by an anonymous code, never by name; "
            "each person has a pseudonymous number within the course.",
            phases=phases(),
        ),
        lambda: tr(
            "A comparison is a pair of phases (comparison, from_phase, to_phase): "
            "%(comparisons)s. Every paired statistic of a comparison is computed over the "
            "people who have the score in both of its phases (n_paired), so different "
            "comparisons can cover different people. A comparison from a later phase (such "
            "as post_follow_up) shows retention: how much of what was there at its from "
            "phase remained.",
            comparisons=comparisons(),
        ),
    )


_MEASURE_TEXT = {
    "knowledge": R_(
        "knowledge (%(unit)s, %(span)s; %(direction)s): the share of the points of a "
        "skill's knowledge items that the person earned; 'total' over all knowledge items. "
        "Unanswered items and 'I don't know' earn 0. Single-choice and true/false items "
        "earn their points when the chosen option is the key; multiple-choice items when "
        "the chosen set equals the key or, with partial credit, points × max(0, (right "
        "chosen − wrong chosen) / number of keys). Shown with %(decimals)s decimals."
    ),
    "confidence": R_(
        "confidence (%(unit)s, %(span)s; %(direction)s): the mean of the person's answered "
        "self-assessment items of the skill, on the course's self-assessment scale; "
        "'total' is the mean of all answered self-assessment items. A person who answered "
        "none of a skill's items has no score for it. Shown with %(decimals)s decimals."
    ),
    "dont_know": R_(
        'dont_know, "I don\'t know" (%(unit)s, %(span)s; %(direction)s): the share of a '
        "skill's knowledge items offering \"I don't know\" that the person answered so; "
        "'total' over all such items. Fewer such answers after the course means people "
        "felt able to answer; the same paired statistics apply, with a fall as the "
        "improvement. Shown with %(decimals)s decimals."
    ),
}


def _measures(report: CourseReport, course: Course, names: DisplayNames) -> MethodsSection:
    builders: list[Callable[[], str]] = []
    for measure in report.design.measures:

        def text(measure: Measure = measure) -> str:
            return tr(
                _MEASURE_TEXT[measure.id],
                unit=names.unit(measure),
                span=tr(
                    "%(low)s to %(high)s",
                    low=fmt(measure.minimum, 0),
                    high=fmt(measure.maximum, 0),
                ),
                direction=names.direction(measure),
                decimals=measure.decimals,
            )

        builders.append(text)
    if not builders:
        builders.append(lambda: tr("The course has no scored items, so there are no measures."))
    scale = course.self_assessment_scale()
    if scale is not None:
        builders.append(
            lambda: tr(
                "The self-assessment scale runs from %(low)s to %(high)s; its range, not a "
                "fixed 1 to 5, bounds every confidence figure and chart.",
                low=scale.min,
                high=scale.max,
            )
        )
    return _section(R_("Measures"), *builders)


def _groups(report: CourseReport, names: DisplayNames) -> MethodsSection:
    def breakdowns() -> str:
        return ", ".join(names.breakdown(b.id) for b in report.design.breakdowns) or tr("none")

    return _section(
        R_("Groups, skills and counts"),
        lambda: tr(
            "Each row is one measure, comparison, breakdown, group and skill. The breakdown "
            "'all' has one group, 'all': every participant. The other breakdowns are "
            "%(breakdowns)s. Each breakdown is reported on its own, never crossed with "
            "another. People who did not answer a breakdown question form the group "
            "'not_stated'; people whose agency is not one of the course's are counted in "
            "'all' only. 'total' is all skills together.",
            breakdowns=breakdowns(),
        ),
        lambda: tr(
            "n_from and n_to count the group's people with a score in the from and in the to "
            "phase; n_paired those with both. Counts of people are always shown."
        ),
    )


def _means() -> MethodsSection:
    return _section(
        R_("Means, standard deviations and gains"),
        lambda: tr(
            "from_mean and to_mean are the means of the paired people's scores; from_sd, "
            "to_sd their sample standard deviations (ddof=1, dividing by n − 1). A person's "
            "gain is to − from; mean_gain and gain_sd are the mean and sample standard "
            "deviation of the gains, in the measure's unit (percentage points for "
            "percentages). Gains are rounded to 10 decimals before any test, so equal scores "
            "reached along different floating-point paths give exactly zero or tied gains."
        ),
        lambda: tr(
            "n_improved, n_unchanged and n_declined count the paired people whose score "
            "rose, stayed and fell (for dont_know, a rise is a worsening)."
        ),
    )


def _t_test() -> MethodsSection:
    return _section(
        R_("Paired t test and the interval of the mean gain"),
        lambda: tr(
            "The paired t test asks whether the mean gain differs from zero: t_statistic = "
            "mean_gain / (gain_sd / √n_paired), with t_df = n_paired − 1 degrees of freedom; "
            "t_pvalue is two-sided (as scipy.stats.ttest_rel(to, from) and R's "
            "t.test(to, from, paired = TRUE))."
        ),
        lambda: tr(
            "gain_ci_low and gain_ci_high are the %(level)s%% confidence interval of the mean "
            "gain: mean_gain ± t(0.975, n_paired − 1) × gain_sd / √n_paired. Both need at "
            "least two pairs whose gains are not all equal. They assume roughly normal gains, "
            "or enough people for the mean to be so.",
            level=CONFIDENCE_PERCENT,
        ),
    )


def _wilcoxon() -> MethodsSection:
    return _section(
        R_("Wilcoxon signed-rank test and rank-biserial correlation"),
        lambda: tr(
            "The Wilcoxon signed-rank test checks the same question without assuming normal "
            "gains. It concerns the pseudo-median of the gains (the median of the averages of "
            "all pairs of gains, each gain paired with itself too), not their mean. Zero "
            "gains are dropped, the others ranked by size (ties get average ranks); "
            "wilcoxon_statistic is the smaller of the rank sums of the rises (R+) and the "
            "falls (R−). wilcoxon_pvalue is two-sided, computed as "
            "scipy.stats.wilcoxon chooses by default, and wilcoxon_method names the way: "
            "'exact' for at most 50 gains with no zeros and no ties; 'permutation' (all 2^n "
            "sign assignments) for at most 13 gains with zeros or ties; otherwise "
            "'asymptotic' (normal approximation with tie correction, no continuity "
            "correction). It is undefined when every gain is zero."
        ),
        lambda: tr(
            "rank_biserial is the matched-pairs rank-biserial correlation (R+ − R−) / "
            "(R+ + R−) over the non-zero gains (Kerby 2014): +1 when every change is a rise, "
            "−1 when every change is a fall."
        ),
    )


def _effect_sizes() -> MethodsSection:
    return _section(
        R_("Standardized effect sizes: d_z, d_av and g_z"),
        lambda: tr(
            "cohens_dz (d_z) is mean_gain / gain_sd, the mean gain in standard deviations of "
            "the gains (t / √n_paired). Its %(level)s%% interval (dz_ci_low, dz_ci_high) "
            "inverts the noncentral t distribution: the noncentrality parameters at which the "
            "observed t is the 97.5th and the 2.5th percentile of a noncentral t with "
            "n_paired − 1 degrees of freedom, divided by √n_paired (as R's "
            "effectsize::cohens_d). It is exact when the gains are normally distributed "
            "(dz_ci_method 'noncentral_t'). Where the noncentral t cannot be inverted, "
            "extremely far out, the cell gets the asymptotic interval d_z ± 1.96 × "
            "√(1/n + d_z²/(2n)) instead (Hedges & Olkin's large-sample variance; n = "
            "n_paired), dz_ci_method says 'asymptotic' and a note says so.",
            level=CONFIDENCE_PERCENT,
        ),
        lambda: tr(
            "d_av is mean_gain divided by the average of from_sd and to_sd. d_z answers how "
            "consistently people changed (it grows as the gains agree), and suits the "
            "paired test and power; d_av answers how large the change is compared with how "
            "much people differ from each other, and suits comparison with studies of "
            "separate groups. Report d_z for this design, and d_av when comparing with "
            "other courses."
        ),
        lambda: tr(
            "hedges_gz, Hedges' g_z, removes the small-sample bias of d_z: g_z = J × d_z with "
            "the exact factor J(df) = Γ(df/2) / (√(df/2) × Γ((df − 1)/2)), df = n_paired − 1 "
            "(Hedges & Olkin 1985); hedges_gz_ci_low and hedges_gz_ci_high are the d_z "
            "interval times J. g_z needs at least three pairs."
        ),
    )


def _normalized_gains(report: CourseReport, names: DisplayNames) -> MethodsSection:
    def which() -> str:
        found = [names.measure(m.id) for m in report.design.measures if m.normalized_gain]
        return ", ".join(found) or tr("no measure")

    return _section(
        R_("Normalized gains"),
        lambda: tr(
            "Computed for %(which)s (a measure with a top score). normalized_gain is Hake's "
            "class-average normalized gain: the gain of the averages as a share of the room "
            "the group had to improve, (to_mean − from_mean) / (maximum − from_mean); "
            "undefined when from_mean is the maximum.",
            which=which(),
        ),
        lambda: tr(
            "mean_normalized_gain is the mean of the individual normalized gains "
            "(to − from) / (maximum − from). People at the maximum before cannot improve and "
            "would divide by zero: they are left out of this mean and counted in "
            "n_at_maximum, and a note says how many."
        ),
    )


def _pass_mark(course: Course) -> MethodsSection:
    def first() -> str:
        if course.pass_mark is None:
            return tr(
                "The course sets no pass mark, so the pass-mark figures (pass_from_share, "
                "pass_from_ci_low, pass_from_ci_high, pass_to_share, pass_to_ci_low, "
                "pass_to_ci_high, pass_gained, pass_lost, pass_mcnemar_p) are empty."
            )
        return tr(
            "The course's pass mark is %(mark)s%% of the knowledge points. For the knowledge "
            "total of each comparison, pass_from_share and pass_to_share are the shares of "
            "the paired people at or above it in the from and to phase.",
            mark=fmt(course.pass_mark, 0),
        )

    return _section(
        R_("Pass mark"),
        first,
        lambda: tr(
            "pass_from_ci_low, pass_from_ci_high, pass_to_ci_low and pass_to_ci_high are 95%% "
            "Wilson score intervals of those shares (R: prop.test(x, n, correct = FALSE)). "
            "pass_gained counts the people below the mark before and at or above it after, "
            "pass_lost the reverse; pass_mcnemar_p is McNemar's exact test of the change: "
            "the two-sided binomial test of min(gained, lost) out of gained + lost with "
            "probability 1/2.",
            level=CONFIDENCE_PERCENT,
        ),
    )


def _holm(report: CourseReport) -> MethodsSection:
    return _section(
        R_("Multiple comparisons (Holm)"),
        lambda: tr(
            "A report tests many cells, so some small p-values arise by chance. p_holm is "
            "t_pvalue adjusted by Holm's step-down method within its family, named in "
            "holm_family. The confirmatory family is, per measure and comparison, the rows of "
            "all participants: every skill and the total, i.e. the course's stated "
            "objectives. Each breakdown's group rows form an exploratory family of their own "
            "(exploratory:<breakdown>): read those as leads, not findings."
        ),
        lambda: tr(
            "Families are fixed by the design before anything is withheld: withheld and "
            "undefined p-values count as 1, so they stay in the family size m and are never "
            "rejected, and no adjusted p-value depends on what is withheld. With the "
            "p-values sorted ascending, the i-th smallest becomes (m − i + 1) × p, made "
            "non-decreasing and capped at 1 (R: p.adjust(p, 'holm') with the unknown "
            "p-values set to 1)."
        ),
    )


def _between_groups() -> MethodsSection:
    return _section(
        R_("Differences between groups"),
        lambda: tr(
            "For each breakdown, measure, comparison and skill, the gains of the groups shown "
            "are compared; withheld groups and 'not_stated' are left out (groups lists those "
            "compared; n_groups counts those with at least two gains). kruskal_h and "
            "kruskal_pvalue are the Kruskal–Wallis H test (ranks, tie-corrected, chi-square "
            "with n_groups − 1 degrees of freedom). welch_f, welch_df1, welch_df2 and "
            "welch_pvalue are Welch's one-way ANOVA, which does not assume equal variances "
            "(R: oneway.test(var.equal = FALSE)). Both need two groups; they are exploratory "
            "and not adjusted for multiplicity."
        ),
    )


def _attrition(report: CourseReport, names: DisplayNames) -> MethodsSection:
    def baseline() -> str:
        if report.design.phases:
            return names.phase(report.design.phases[0])
        return tr("the first phase")

    return _section(
        R_("Who answered, and who dropped out"),
        lambda: tr(
            "The phase counts give, per breakdown group, how many people answered each phase "
            "(kind 'phase', whatever else they answered) and each exact combination of phases "
            "(kind 'exactly', phases joined by +); n counts them."
        ),
        lambda: tr(
            "Attrition compares the %(baseline)s scores (baseline_phase) of the people who "
            "also have a score in a later phase (later_phase; n_completed, completed_mean, "
            "completed_sd) with those who do not (n_dropped, dropped_mean, dropped_sd). "
            "difference is completed_mean − dropped_mean, with Welch's t test (welch_t, "
            "welch_df by Welch–Satterthwaite, two-sided welch_pvalue) and its 95%% interval "
            "(difference_ci_low, difference_ci_high). A clear difference means those who "
            "came back are a selected group, and the later comparisons describe them only. "
            "The figures of those who stayed are the paired row's from figures and are "
            "withheld with it.",
            baseline=baseline(),
        ),
    )


def _items(course: Course) -> MethodsSection:
    return _section(
        R_("Knowledge items"),
        lambda: tr(
            "Item analysis is computed per comparison over its paired people (those of the "
            "knowledge row of all participants) and shown only with that row. Difficulty "
            "p_from and p_to is the share who answered the item fully correctly in the from "
            "and to phase (partial credit, 'I don't know' and no answer count as not "
            "correct); higher means easier."
        ),
        lambda: tr(
            "discrimination_from and discrimination_to are the item–rest point-biserial "
            "correlations: Pearson's r between the item (1 correct, 0 not) and the number "
            "of the other items answered correctly, over the people with every item. They "
            "need min_n_reliability = %(n)s people; below that they are empty with a note, "
            "because a handful of people makes them swing wildly.",
            n=course.min_n_reliability,
        ),
        lambda: tr(
            "mcnemar_b counts the people wrong before and right after, mcnemar_c the "
            "reverse; mcnemar_p is McNemar's exact test (binomial test of min(b, c) out of "
            "b + c with probability 1/2), undefined when nobody changed."
        ),
    )


def _reliability(course: Course) -> MethodsSection:
    return _section(
        R_("Reliability (KR-20)"),
        lambda: tr(
            "kr20 is the Kuder–Richardson 20 reliability of a skill's knowledge items (and "
            "of all of them, 'total'), per comparison and phase, over the comparison's "
            "paired people with every item answered (n people, k items): k/(k − 1) × "
            "(1 − Σ var_j / var_total), item and total variances with ddof=1, which is "
            "Cronbach's alpha on 0/1 items. It needs min_n_reliability = %(n)s people (three "
            "people can give −7.9). A value below 0 that remains is flagged (kr20_flag "
            "'negative') in every output: the items do not measure one thing for these "
            "people. Few items per skill give low values; read the total first.",
            n=course.min_n_reliability,
        ),
    )


def _responses(report: CourseReport) -> MethodsSection:
    k = report.min_cell_size
    return _section(
        R_("Answers to questions that are not scored"),
        lambda: tr(
            "Feedback, profile and follow-up questions are summarised in the phase that asks "
            "them, per breakdown group; n counts the group's people who answered. Choice "
            "questions (single, multiple, true/false) give the distribution: how many chose "
            "each answer. Rating (likert) questions give the distribution over the scale, "
            "the mean and sd (ddof=1) and top_two_box, the share on the two highest points; "
            '"does not apply" answers are counted apart (n_not_applicable) and left out of '
            "the mean. Number questions give the mean and sd only: a minimum, maximum or "
            "median would be one person's answer."
        ),
        lambda: tr(
            "Free-text answers are listed per question once at least %(k)s people answered, "
            "sorted alphabetically, with neither group nor participant, exactly as written.",
            k=k,
        ),
    )


def _limits() -> MethodsSection:
    return _section(
        R_("What a one-group design cannot show"),
        lambda: tr(
            "There is no comparison group that did not take the course, so a change cannot "
            "be attributed to the course with certainty. The same test taken twice can "
            "improve through familiarity with the questions alone. Regression to the mean "
            "moves people who started unusually low up, and unusually high down, at the next "
            "measurement, whatever happened in between; it is strongest in groups chosen for "
            "their scores. Events between the phases, and who chose to come back (see "
            "attrition), can also move the figures."
        ),
    )


def _disclosure(report: CourseReport) -> MethodsSection:
    audit = report.analysis.disclosure
    k = report.min_cell_size
    return _section(
        R_("Protecting participants (disclosure control)"),
        lambda: tr(
            "With k = min_cell_size = %(k)s: every figure computed over 1 to %(below)s people "
            "is withheld (reason small_group). Counts of people are always shown: suppression "
            "protects scores and answers, not headcounts.",
            k=k,
            below=k - 1,
        ),
        lambda: tr(
            "Complementary suppression: a group's figures could be worked out from the "
            "figures of all participants minus the other groups shown. So, within each "
            "table's rows for one breakdown, the withheld groups must together hold nobody "
            "or at least %(k)s people and never be a single group alone; otherwise the shown "
            "group with the fewest people is withheld too (reason complementary), however "
            "many people it has.",
            k=k,
        ),
        lambda: tr(
            "Every report is then proven by a verifier written apart from the planner. Its "
            "unknowns are the sums, sums of squares and from × to products of the scores, and "
            "the answer counts, of the smallest cells of people that any figure combines "
            "(people alike in every breakdown and in which phases they answered). Every "
            "published figure is a linear equation in these unknowns; a rank test (SVD) "
            "checks that no withheld group's sum or sum of squares, and no set of fewer than "
            "k people, is determined, across tables, breakdowns, phases and skills. Where "
            "something is, more figures are withheld and the plan is verified again. A "
            "report is never published unverified."
        ),
        lambda: tr(
            "This report: %(published)s sets of figures published, %(withheld)s withheld, "
            "verified: %(verified)s. Method: %(method)s.",
            published=audit.published,
            withheld=audit.withheld,
            verified=tr("yes") if audit.verified else tr("no"),
            method=audit.method,
        ),
        lambda: tr(
            "In the tables, withheld figures are empty (JSON null, a blank cell in CSV and "
            "Excel) and the row's withheld column gives the reason per figure; this report "
            "says 'fewer than k people' or 'withheld to protect another group'. Rank-based "
            "figures are shown only for groups whose other figures are shown. Each report is "
            "verified on its own data: publish once a phase is complete, not repeatedly "
            "while answers come in."
        ),
    )


def _undefined() -> MethodsSection:
    return _section(
        R_("Undefined values and notes"),
        lambda: tr(
            "A figure that cannot be computed for the data at hand (too few people, zero "
            "variance, nobody changed) is null in the JSON, an empty cell in CSV and Excel "
            "and a dash in this report, never NaN or infinity; the row's notes say why. "
            "Numbers keep full precision in the JSON, CSV and Excel files; the HTML report "
            "rounds them for reading."
        ),
    )
