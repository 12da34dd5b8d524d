"""Reference figures for PairedComparisonTests: McNemar's exact p-values, Wilson intervals and Student t quantiles.

Computed exactly (integer binomial coefficients, fractions) with Python's standard library only, so the
numbers do not depend on the floating-point shortcuts the Swift code takes (log-gamma, log-sum-exp,
bisection for the normal quantile, a closed-form series for Student's t). Student's t quantiles come from
Newton's method on the distribution function integrated numerically from the density (Simpson's rule), not
from the series the Swift code sums. Writes paired_comparison.json beside this script:

    python3 Tests/SCNMethodTests/Fixtures/make_paired_comparison_fixture.py
"""
import json
import math
import os
from fractions import Fraction
from statistics import NormalDist


def mcnemar_exact(b, c):
    """Two-sided exact McNemar p-value: 2 * P(X <= min(b, c)), X ~ Binomial(b + c, 1/2), at most 1."""
    n = b + c
    if n == 0:
        return 1.0
    tail = Fraction(sum(math.comb(n, k) for k in range(min(b, c) + 1)), 2 ** n)
    return float(min(Fraction(1), 2 * tail))


def wilson(successes, trials, level):
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / trials
    center = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, center - half), min(1.0, center + half)


def student_t_quantile(p, nu, intervals=20000):
    """The t with P(T <= t) = p: Newton's method on 1/2 + the density's integral from 0 (Simpson's rule)."""
    log_scale = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
    density = lambda x: math.exp(log_scale - (nu + 1) / 2 * math.log1p(x * x / nu))
    def cdf(t):
        h = t / intervals
        inner = sum((4 if i % 2 else 2) * density(i * h) for i in range(1, intervals))
        return 0.5 + h / 3 * (density(0) + inner + density(t))
    target = max(p, 1 - p)
    t = NormalDist().inv_cdf(target)  # below the root; the distribution function is concave for t > 0
    for _ in range(100):
        step = (cdf(t) - target) / density(t)
        t -= step
        if abs(step) < 1e-13 * max(1, t):
            break
    return t if p >= 0.5 else -t


pairs = [(0, 0), (0, 1), (1, 0), (3, 3), (5, 12), (12, 5), (40, 62), (98, 116), (300, 360), (1200, 1000), (0, 25)]
intervals = [(0, 10, 0.95), (10, 10, 0.95), (3, 10, 0.95), (2730, 3137, 0.95), (2730, 3137, 0.99), (1, 1, 0.9), (50, 100, 0.5)]
quantiles = [0.5, 0.75, 0.9, 0.95, 0.975, 0.995, 0.025, 1e-6]
reference = {
    "mcnemar": [{"only_first": b, "only_second": c, "p": mcnemar_exact(b, c)} for b, c in pairs],
    "wilson": [{"successes": s, "trials": n, "level": level, "lower": wilson(s, n, level)[0], "upper": wilson(s, n, level)[1]}
               for s, n, level in intervals],
    "normal_quantiles": [{"probability": q, "z": NormalDist().inv_cdf(q)} for q in quantiles],
    "student_t_quantiles": [{"probability": q, "degrees_of_freedom": nu, "t": student_t_quantile(q, nu)}
                            for nu in [1, 2, 3, 4, 5, 8, 30] for q in [0.975, 0.995, 0.9, 0.6, 0.025]],
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "paired_comparison.json"), "w") as f:
    json.dump(reference, f, indent=1)
    f.write("\n")
