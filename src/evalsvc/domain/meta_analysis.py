"""Random-effects meta-analysis of per-course effects: plain floats or None, never NaN.

The programme pools its courses' mean gains so that one large course does not drown
the others: each course i contributes its effect y_i (its mean gain) with sampling
variance v_i (gain_sd² / n_paired), and the courses' true effects are taken to vary
around a mean mu with variance tau² (between-course heterogeneity):

* **tau²** by restricted maximum likelihood (``REML``, Fisher scoring from the
  DerSimonian-Laird value, to a change below 1e-12), or by DerSimonian-Laird
  (``DL``: max(0, (Q - (k - 1)) / (sum w - sum w² / sum w)), w = 1/v); the method
  is named in every result;
* the pooled **estimate** sum w*·y / sum w* with w* = 1/(v + tau²), its standard
  error sqrt(1 / sum w*), z, two-sided p and 95% interval estimate ± 1.96·se;
* **Cochran's Q** = sum w (y - fixed-effect estimate)² on k - 1 df, and its p;
* **I²** = 100·tau² / (tau² + s²) and **H²** = (tau² + s²) / s², with the "typical"
  within-course variance s² = (k - 1) / (sum w - sum w² / sum w) (as R's metafor);
* the 95% **prediction interval** estimate ± 1.96·sqrt(tau² + se²): where the true
  gain of a new course like these is expected to lie (metafor's default, test "z");
* the **fixed-effect** (inverse-variance) estimate and interval alongside, for
  comparison.

Checked against R's metafor 3.8-1 (rma, predict) in tests/data/reference/meta_cases.json.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import msgspec
import numpy as np
from scipy import special, stats

Method = Literal["REML", "DL"]

Z_975 = float(special.ndtri(0.975))
MAX_ITERATIONS = 1000
CONVERGED = 1e-12


class MetaResult(msgspec.Struct, frozen=True, kw_only=True):
    method: Method
    k: int
    estimate: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    z: float | None = None
    pvalue: float | None = None
    tau2: float | None = None
    tau: float | None = None
    i2: float | None = None
    h2: float | None = None
    q: float | None = None
    q_df: int | None = None
    q_pvalue: float | None = None
    pi_low: float | None = None
    pi_high: float | None = None
    fe_estimate: float | None = None
    fe_se: float | None = None
    fe_ci_low: float | None = None
    fe_ci_high: float | None = None
    weights: list[float] = msgspec.field(default_factory=list)
    """Each course's share of the random-effects weight (sums to 1)."""
    notes: list[str] = msgspec.field(default_factory=list)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def meta_analysis(
    effects: Sequence[float], variances: Sequence[float], method: Method = "REML"
) -> MetaResult:
    """Pool `effects` with their sampling `variances` (see the module docstring).

    Effects need a positive, finite variance; the caller leaves the others out (and
    says so). With one effect there is no heterogeneity to estimate: the estimate is
    that effect, and tau², I², Q and the prediction interval are None.
    """
    y = np.asarray(effects, dtype=float)
    v = np.asarray(variances, dtype=float)
    if y.shape != v.shape or y.ndim != 1:
        raise ValueError("effects and variances must be two lists of the same length")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError("every effect needs a finite value and a positive finite variance")
    k = int(y.size)
    if k == 0:
        return MetaResult(method=method, k=0, notes=["no course to pool"])
    w = 1.0 / v
    fe = float(np.sum(w * y) / np.sum(w))
    fe_se = math.sqrt(1.0 / float(np.sum(w)))
    fixed: dict[str, float | None] = {
        "fe_estimate": fe,
        "fe_se": fe_se,
        "fe_ci_low": fe - Z_975 * fe_se,
        "fe_ci_high": fe + Z_975 * fe_se,
    }
    if k == 1:
        return MetaResult(
            method=method,
            k=1,
            estimate=float(y[0]),
            se=fe_se,
            ci_low=fe - Z_975 * fe_se,
            ci_high=fe + Z_975 * fe_se,
            z=_finite(float(y[0]) / fe_se),
            pvalue=_finite(2.0 * float(special.ndtr(-abs(float(y[0]) / fe_se)))),
            q_df=None,
            weights=[1.0],
            notes=["one course: no heterogeneity to estimate, and no prediction interval"],
            **fixed,
        )
    q = float(np.sum(w * (y - fe) ** 2))
    trace = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    notes: list[str] = []
    if method == "REML":
        tau2, converged = _reml(y, v, _dl(q, k, trace))
        if not converged:
            notes.append("REML did not converge: tau² is the DerSimonian-Laird value")
            tau2 = _dl(q, k, trace)
    else:
        tau2 = _dl(q, k, trace)
    w_star = 1.0 / (v + tau2)
    estimate = float(np.sum(w_star * y) / np.sum(w_star))
    se = math.sqrt(1.0 / float(np.sum(w_star)))
    typical = (k - 1) / trace
    spread = math.sqrt(tau2 + se * se)
    if k == 2:
        notes.append("two courses only: tau² and the prediction interval are very uncertain")
    return MetaResult(
        method=method,
        k=k,
        estimate=estimate,
        se=se,
        ci_low=estimate - Z_975 * se,
        ci_high=estimate + Z_975 * se,
        z=_finite(estimate / se),
        pvalue=_finite(2.0 * float(special.ndtr(-abs(estimate / se)))),
        tau2=tau2,
        tau=math.sqrt(tau2),
        i2=100.0 * tau2 / (typical + tau2),
        h2=(typical + tau2) / typical,
        q=q,
        q_df=k - 1,
        q_pvalue=_finite(float(stats.chi2.sf(q, k - 1))),
        pi_low=estimate - Z_975 * spread,
        pi_high=estimate + Z_975 * spread,
        weights=[float(x) for x in w_star / np.sum(w_star)],
        notes=notes,
        **fixed,
    )


def _dl(q: float, k: int, trace: float) -> float:
    return max(0.0, (q - (k - 1)) / trace)


def _reml(y: np.ndarray, v: np.ndarray, start: float) -> tuple[float, bool]:
    """REML tau² by Fisher scoring (as metafor's rma), never below 0.

    For the intercept-only model, with W = diag(1/(v + tau²)) and P = W - W 1 1' W /
    sum W, each step adds (y'PPy - tr P) / tr(PP), halved until tau² stays >= 0.
    """
    tau2 = start
    for _ in range(MAX_ITERATIONS):
        w = 1.0 / (v + tau2)
        total = float(np.sum(w))
        p = np.diag(w) - np.outer(w, w) / total
        py = p @ y
        step = (float(py @ py) - float(np.trace(p))) / float(np.sum(p * p))
        while tau2 + step < 0:
            step /= 2.0
            if abs(step) < CONVERGED:
                step = -tau2
                break
        tau2 = max(0.0, tau2 + step)
        if abs(step) < CONVERGED * max(1.0, tau2):
            return tau2, True
    return tau2, False
