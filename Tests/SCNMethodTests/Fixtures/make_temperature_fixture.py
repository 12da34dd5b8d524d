"""Writes temperature.json, the reference for TemperatureScaling (Tests/SCNMethodTests/SCNLossTests.swift).

Needs numpy and scipy; CI never runs it, the output is committed. Run from the repository root:
    python3 Tests/SCNMethodTests/Fixtures/make_temperature_fixture.py
A network's probabilities p = softmax(z) for random logits z, labels drawn from softmax(z / 1.8) (so the
network is over-confident), and scipy's bounded minimization of the mean negative log-likelihood of
softmax(log p / T) over T: the temperature, the likelihoods before and after, and the scaled rows.
"""
import json
import os

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

rng = np.random.default_rng(7)
n, k = 400, 7
logits = rng.normal(0, 2.5, size=(n, k))
probabilities = np.exp(log_softmax(logits, axis=1)).astype(np.float32)
truth = np.exp(log_softmax(logits / 1.8, axis=1))
labels = np.array([rng.choice(k, p=row) for row in truth])
logp = np.log(np.maximum(probabilities.astype(np.float64), np.finfo(np.float32).smallest_subnormal))


def nll(t):
    return float(-log_softmax(logp / t, axis=1)[np.arange(n), labels].mean())


fit = minimize_scalar(nll, bounds=(0.01, 100), method="bounded", options={"xatol": 1e-10})
scaled = np.exp(log_softmax(logp / fit.x, axis=1))
out = {
    "probabilities": probabilities.tolist(), "labels": labels.tolist(), "temperature": fit.x,
    "nll_before": nll(1.0), "nll_after": fit.fun, "scaled_first_rows": scaled[:5].tolist(),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "temperature.json")
with open(path, "w") as f:
    json.dump(out, f)
print(f"T = {fit.x:.6f}, NLL {nll(1.0):.6f} -> {fit.fun:.6f}")
