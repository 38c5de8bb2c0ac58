"""Words that reach the reports from outside the renderers, marked for translation.

The domain names its measures, units and breakdowns in English (it knows no
language); the renderers show them through `report_i18n.tr`. They are marked here so
that the reports catalog (``reports.po``) holds them.
"""

from __future__ import annotations

from evalsvc.exports.report_i18n import R_

DOMAIN_WORDS = (
    # design.Measure labels and units
    R_("Knowledge"),
    R_("Confidence"),
    R_('"I don\'t know" answers'),
    R_("percent of points"),
    R_("percentage points"),
    R_("scale points"),
    R_("percent of items"),
    # breakdowns named by the reports (reports.report_from, programme_reports)
    R_("Agency"),
    R_("Course"),
    R_("Country"),
    R_("Year"),
    R_("Agency type"),
    R_("not stated"),
)


def measure_unit(measure_id: str, unit: str, minimum: float, maximum: float) -> str:
    """A measure's unit in the report's language ("scale points (1-5)" for confidence)."""
    from evalsvc.exports.report_i18n import tr

    if measure_id == "confidence":
        return tr("scale points (%(low)s-%(high)s)", low=f"{minimum:g}", high=f"{maximum:g}")
    return tr(unit)
