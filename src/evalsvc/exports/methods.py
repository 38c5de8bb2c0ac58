"""How every figure of the report is defined, in words: one text for every format.

The workbook's Methods sheet and the HTML report's methods section both render
`methods_sections`; the definitions follow `evalsvc.domain.stats` and
`evalsvc.domain.summary`, `.items`, `.feedback` and `.suppression`, whose docstrings
and tests are the reference.
"""

from __future__ import annotations

from typing import NamedTuple

CONFIDENCE_PERCENT = 95


class MethodsSection(NamedTuple):
    title: str
    paragraphs: tuple[str, ...]


def methods_sections(min_cell_size: int) -> list[MethodsSection]:
    """The methods, section by section; `min_cell_size` is the course's k."""
    k = min_cell_size
    ci = f"{CONFIDENCE_PERCENT}%"
    return [
        MethodsSection(
            "Design and scores",
            (
                "Participants answered the same knowledge test and self-assessment before "
                "the course (pre) and after it (post). Their two questionnaires are paired "
                "by an anonymous code, never by name; every participant has a pseudonymous "
                "number within the course.",
                "Knowledge score: the percentage (0–100) of the points available on a "
                "skill's knowledge items that the participant earned; 'total' is the "
                "percentage over all knowledge items. Unanswered items and 'I don't know' "
                "earn 0. Single-choice and true/false items earn their points when the "
                "chosen option is the key; multiple-choice items when the chosen set equals "
                "the key, or, where partial credit is set, points × max(0, (right chosen − "
                "wrong chosen) / number of keys).",
                "Confidence score: the mean of the participant's answered self-assessment "
                "items of the skill on their rating scale (1–5); 'total' is the mean of "
                "all answered self-assessment items. A participant with no answered item "
                "of a skill has no confidence score for it.",
            ),
        ),
        MethodsSection(
            "Cells and counts",
            (
                "A cell is one measure (knowledge or confidence), one agency (or 'all', "
                "every participant together) and one skill (or 'total'). Participants "
                "whose agency is not one of the course's agencies are counted in 'all' "
                "only.",
                "n_pre and n_post count the participants with a pre-course and with a "
                "post-course score in the cell; n_paired counts those with both. All "
                "paired statistics use the n_paired participants only; the unpaired "
                "means use every submission.",
            ),
        ),
        MethodsSection(
            "Means, standard deviations and gains",
            (
                "pre_mean and post_mean are the means of the paired participants' pre and "
                "post scores; pre_sd and post_sd their sample standard deviations (ddof=1, "
                "dividing by n − 1). A participant's gain is post − pre; mean_gain and "
                "gain_sd are the mean and the sample standard deviation (ddof=1) of the "
                "gains. Knowledge gains are in percentage points, confidence gains in "
                "scale points. Gains are rounded to 10 decimals before any test, so that "
                "equal scores computed along different floating-point paths give exactly "
                "zero or exactly tied gains.",
                "n_improved, n_unchanged and n_declined count the paired participants whose "
                "gain is above, equal to and below zero.",
                "Hake's normalized gain is the gain of the class averages as a share of the "
                "room the class had to improve: (post_mean − pre_mean) / (100 − pre_mean). "
                "It is given for knowledge only, and is undefined when the pre mean is 100.",
            ),
        ),
        MethodsSection(
            "Paired t test and its confidence interval",
            (
                "The paired t test asks whether the mean gain differs from zero: "
                "t = mean_gain / (gain_sd / √n_paired) with n_paired − 1 degrees of "
                "freedom (t_df); t_pvalue is two-sided. It equals "
                "scipy.stats.ttest_rel(post, pre) and R's t.test(post, pre, paired = TRUE).",
                f"The {ci} confidence interval of the mean gain (gain_ci_low, gain_ci_high) "
                f"is mean_gain ± t(0.975, n_paired − 1) × gain_sd / √n_paired. The test "
                "and the interval need at least two pairs and gains that are not all equal.",
            ),
        ),
        MethodsSection(
            "Wilcoxon signed-rank test and rank-biserial correlation",
            (
                "The Wilcoxon signed-rank test is the rank-based check of the same question "
                "that does not assume normally distributed gains. Zero gains are dropped, "
                "the others are ranked by absolute size (ties get average ranks), and "
                "wilcoxon_statistic is the smaller of the rank sums of the positive (R+) "
                "and of the negative (R−) gains. The p-value (two-sided) is computed the "
                "way scipy.stats.wilcoxon chooses by default, and wilcoxon_method names "
                "the way used: 'exact' (the exact null distribution) for at most 50 "
                "differences with no zeros and no ties; 'permutation' (all 2^n sign "
                "assignments enumerated) for at most 13 differences with zeros or ties; "
                "otherwise 'asymptotic' (the normal approximation with a tie correction and "
                "no continuity correction). The test is undefined when every gain is zero.",
                "rank_biserial is the matched-pairs rank-biserial correlation "
                "(R+ − R−) / (R+ + R−) over the non-zero gains (Kerby 2014): +1 when every "
                "change is an improvement, −1 when every change is a decline.",
            ),
        ),
        MethodsSection(
            "Standardized effect sizes",
            (
                "Cohen's d_z is mean_gain / gain_sd, the mean gain in standard deviations "
                "of the gains (equal to t / √n_paired). Its "
                f"{ci} confidence interval (dz_ci_low, dz_ci_high) is exact: the "
                "noncentrality parameters λ at which the noncentral t distribution with "
                "n_paired − 1 degrees of freedom puts the observed t at its 97.5th and its "
                "2.5th percentile, divided by √n_paired (as R's effectsize::cohens_d and "
                "MBESS do).",
                "Hedges' g_z corrects d_z for small-sample bias: g_z = J × d_z with the "
                "exact factor J(df) = Γ(df/2) / (√(df/2) × Γ((df − 1)/2)), df = "
                "n_paired − 1 (Hedges & Olkin 1985); its interval is the d_z interval "
                "multiplied by J. g_z needs at least three pairs.",
            ),
        ),
        MethodsSection(
            "Multiple comparisons",
            (
                "The report tests many cells at once, so some small p-values are expected "
                "by chance. p_holm is t_pvalue adjusted by Holm's step-down method over one "
                "family per measure: every shown t-test p-value of that measure (all "
                "agencies, 'all', every skill and 'total'). With the m p-values sorted "
                "ascending, the i-th smallest becomes (m − i + 1) × p, made non-decreasing "
                "and capped at 1 (R: p.adjust(p, 'holm')). Undefined and withheld p-values "
                "are not counted in m.",
            ),
        ),
        MethodsSection(
            "Unpaired view",
            (
                "pre_mean_all and post_mean_all are the means over every pre-course and "
                "every post-course submission, paired or not. welch_t_pvalue is the "
                "two-sided p-value of Welch's t test of all post against all pre scores "
                "(unequal variances, Welch–Satterthwaite degrees of freedom; "
                "scipy.stats.ttest_ind(post, pre, equal_var=False)). It treats the two "
                "phases as independent groups, so it is a robustness check, not the main "
                "result; it needs at least two submissions in each phase and is undefined "
                "when both phases have zero variance.",
            ),
        ),
        MethodsSection(
            "Differences between agencies",
            (
                "For each measure and skill, the gains of the agencies whose rows are shown "
                "are compared (agencies with fewer than two gains are left out; n_groups is "
                "the number compared). kruskal_h and kruskal_pvalue are the Kruskal–Wallis "
                "H test (ranks, tie-corrected, chi-square with n_groups − 1 degrees of "
                "freedom), undefined when all gains are equal. welch_f, welch_df1, "
                "welch_df2 and welch_pvalue are Welch's one-way ANOVA, which does not "
                "assume equal variances (Welch 1951; R: oneway.test(var.equal = FALSE)): "
                "df1 = n_groups − 1 and df2 = (n_groups² − 1) / (3 × Σ (1 − w_i/W)² / "
                "(n_i − 1)) with weights w_i = n_i / s_i²; it is undefined when a group's "
                "gains have zero variance. Both need at least two groups.",
            ),
        ),
        MethodsSection(
            "Knowledge items",
            (
                "Item difficulty p (p_pre, p_post) is the share of the participants with "
                "an answer sheet in that phase who answered the item fully correctly "
                "(partial credit, 'I don't know' and no answer count as not correct); "
                "higher p means an easier item.",
                "Discrimination (discrimination_pre, discrimination_post) is the corrected "
                "item–rest point-biserial correlation: the Pearson correlation between the "
                "item (1 correct, 0 not) and the number of the other knowledge items the "
                "participant answered correctly, over the participants of that phase; the "
                "item is left out of the rest score so it is not correlated with itself. "
                "It is undefined when the item or the rest score is the same for everyone.",
                "The change of each item is tested with the exact McNemar test on the "
                "paired participants: mcnemar_b counts those wrong before and right after, "
                "mcnemar_c those right before and wrong after, and mcnemar_p is the "
                "two-sided exact binomial test of min(b, c) out of b + c with probability "
                "1/2. It is undefined when no paired participant changed (b + c = 0).",
            ),
        ),
        MethodsSection(
            "Reliability",
            (
                "kr20 is the Kuder–Richardson 20 reliability of the knowledge items of "
                "each skill, and of all of them ('total'), per phase: "
                "k/(k − 1) × (1 − Σ var_j / var_total), where var_j is the variance of "
                "item j (1 correct, 0 not) and var_total that of the participants' number "
                "correct, both with ddof=1 (so KR-20 equals Cronbach's alpha on 0/1 "
                "items). n counts the participants with every item of the skill in that "
                "phase, k the items. It needs two items and two participants and is "
                "undefined when everyone has the same total. Few items per skill give low "
                "values; read 'total' first.",
            ),
        ),
        MethodsSection(
            "Feedback",
            (
                "Feedback is asked after the course. For each rating item, per agency and "
                "for 'all': n answers, the number of answers on each point of the scale "
                "(n_1 … n_5), their mean, and the top-two-box share: the share of answers "
                "on the two highest points of the scale (4 or 5 on a 1–5 scale).",
                "Free-text answers are listed per question, sorted alphabetically, without "
                "agency or participant, so that no answer can be linked to a submission. "
                "They are shown exactly as written.",
            ),
        ),
        MethodsSection(
            "Suppression of small groups",
            (
                f"To protect participants, with k = min_cell_size = {k}: every figure "
                f"computed over fewer than {k} people is withheld. The counts of people "
                "(n_pre, n_post, n_paired, n) are always shown. A summary row has three "
                "views, each judged on its own count: the paired statistics (n_paired; "
                "when withheld the row has suppressed = true), the unpaired pre mean "
                "(n_pre) and the unpaired post mean (n_post); Welch's unpaired p-value needs "
                "both unpaired views. Item shares, discrimination, McNemar counts, KR-20 "
                "and feedback distributions follow the same rule on the number of people "
                "they are computed over.",
                "Complementary suppression: the 'all' row minus the shown agencies would "
                "give the pooled figures of the withheld ones. So, within one block (one "
                "measure, skill and view, or one feedback item), the withheld agencies "
                f"together must hold either nobody or at least {k} people; while they hold "
                f"1 to {k - 1}, the shown agency with the fewest people is withheld too "
                "(suppressed_reason 'complementary'). When 'all' itself is withheld, "
                "nothing can be subtracted. Agencies with withheld figures are left out "
                "of the comparison between agencies.",
                f"Free-text answers are listed only when the course has at least {k} "
                "post-course submissions. Do not publish reports repeatedly while few "
                "submissions come in: differences between two reports can reveal a "
                "single person's answers.",
            ),
        ),
        MethodsSection(
            "Undefined values",
            (
                "A figure that cannot be computed for the data at hand (too few people, "
                "zero variance, no change) or that is withheld is null in the JSON, an "
                "empty cell in CSV and Excel, and a dash or 'suppressed' in this report; "
                "never NaN or infinity. The row's notes say why. Numbers are kept at full "
                "precision in the JSON, CSV and Excel files; this report rounds them for "
                "reading.",
            ),
        ),
    ]


def methods_text(min_cell_size: int) -> str:
    """The methods as plain text: titles underlined, paragraphs separated by blank lines."""
    blocks = []
    for section in methods_sections(min_cell_size):
        blocks.append(f"{section.title}\n{'-' * len(section.title)}")
        blocks.extend(section.paragraphs)
    return "\n\n".join(blocks) + "\n"
