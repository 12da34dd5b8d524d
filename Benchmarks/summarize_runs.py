#!/usr/bin/env python3
"""Prints one Markdown table row per run directory: FERPlus test accuracy and mean class accuracy of the
best-validation checkpoint (the run's test.json, written by `scn eval ... --json`), the same averaged over
each image and its mirror image (test-mirror-average.json, `--mirror-average`; "-" without), the best validation
accuracy (with a weight average, the average's, and the trained weights' beside it), relabels and their precision (and, where the run recorded votes, the share to a class at least
two annotators chose), the last epoch's ROC AUC of 1-alpha and of 1-p(label) for wrong
labels, the share of wrong labels the network fitted in the last epoch (memorization), and the training
time (sum of the epochs' seconds). A run without test.json (unfinished) shows "-" for its test figures
and its epochs so far in the run column. A run with test-trained.json (a weight-average run's best-trained
checkpoint: what the run without the average would have selected) has a second row, "RUN, trained weights",
with those test figures and the trained weights' best validation accuracy. Usage: summarize_runs.py RUN_DIR..."""
import json
import os
import sys

print("| run | test acc. | mean class acc. | test acc., mirror-averaged | best val. | relabels (precision) | AUC 1-alpha | AUC 1-p | wrong labels fitted | minutes |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
def row(name, test, mirrored, best_validation, metrics):
    relabels = sum(m["relabels"] for m in metrics)
    judged = [(m["relabels"], m.get("relabelPrecision")) for m in metrics if m["relabels"] and m.get("relabelPrecision") is not None]
    precision = sum(n * p for n, p in judged) / sum(n for n, _ in judged) if judged else None
    supported = [(m["relabels"], m.get("relabelVoteSupport")) for m in metrics if m["relabels"] and m.get("relabelVoteSupport") is not None]
    support = sum(n * p for n, p in supported) / sum(n for n, _ in supported) if supported else None
    last = metrics[-1]
    fmt = lambda x: "-" if x is None else f"{x:.3f}"
    percent = lambda x: "-" if x is None else f"{100 * x:.1f}%"
    accuracy = lambda x: "-" if x is None else f"{100 * x:.2f}%"
    print(f"| {name} | {accuracy(test and test['accuracy'])} | {accuracy(test and test['mean_class_accuracy'])} "
          f"| {accuracy(mirrored and mirrored['accuracy'])} "
          f"| {best_validation} "
          f"| {relabels}{'' if precision is None else f' ({100 * precision:.1f}%)'}"
          f"{'' if support is None else f', {100 * support:.1f}% to a voted class'} "
          f"| {fmt(last.get('wrongLabelAUC'))} | {fmt(last.get('wrongLabelAUCFromProbability'))} "
          f"| {percent(last.get('wrongLabelsFitted'))} "
          f"| {sum(m['seconds'] for m in metrics) / 60:.1f} |")


def read(run, name):
    path = os.path.join(run, name)
    return json.load(open(path)) if os.path.exists(path) else None


for run in sys.argv[1:]:
    metrics = [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl")) if line.strip()]
    test = read(run, "test.json")
    name = os.path.basename(run.rstrip('/')) + ("" if test else f" (unfinished: {len(metrics)} epochs)")
    # Before a weight average starts, the validated weights are the trained ones.
    trained = [m["validationAccuracy"] if m.get("validationAccuracyOfTrainedWeights") is None else m["validationAccuracyOfTrainedWeights"] for m in metrics]
    averaged = any(m.get("validationAccuracyOfTrainedWeights") is not None for m in metrics)
    best = f"{100 * max(m['validationAccuracy'] for m in metrics):.2f}%" + (f" (trained weights {100 * max(trained):.2f}%)" if averaged else "")
    row(name, test, read(run, "test-mirror-average.json"), best, metrics)
    trained_test = read(run, "test-trained.json")
    if trained_test:
        row(f"{name}, trained weights", trained_test, read(run, "test-trained-mirror-average.json"), f"{100 * max(trained):.2f}%", metrics)
