#!/usr/bin/env python3
"""What a FERPlus run's relabels did, judged two ways: against the clean (majority) label, and against the
10 annotator votes of FER2013Train/label.csv (a class "at least two annotators chose" survives FERPlus's
rule of dropping single votes). Also what a stricter margin (max P - P[label]) would have kept, counted
on the same relabels: a what-if on the log, not a rerun (a run under another rule relabels other samples
later on). Usage: relabel_analysis.py FERPLUS_ROOT RUN_DIR..."""
import csv
import json
import os
import sys

root, runs = sys.argv[1], sys.argv[2:]
votes = {}
with open(os.path.join(root, "FER2013Train", "label.csv")) as f:
    for row in csv.reader(f):
        votes[row[0]] = [int(v) for v in row[2:10]]  # the 8 emotions, in the classes' order

def outcome(r):
    return "fixed" if r["newLabel"] == r["cleanLabel"] else "broke" if r["oldLabel"] == r["cleanLabel"] else "swapped"

def voted(r):
    return votes[os.path.basename(r["file"])][r["newLabel"]] >= 2

for run in runs:
    path = os.path.join(run, "relabels.jsonl")
    events = [json.loads(line) for line in open(path) if line.strip()] if os.path.exists(path) else []
    events = [e for e in events if e.get("cleanLabel") is not None]
    print(f"{os.path.basename(run.rstrip('/'))}: {len(events)} relabels with a known clean label")
    if not events:
        continue
    counts = {k: sum(outcome(e) == k for e in events) for k in ("fixed", "broke", "swapped")}
    broke = [e for e in events if outcome(e) == "broke"]
    print(f"  precision {100 * counts['fixed'] / len(events):.1f}% ({counts['fixed']} fixed, {counts['broke']} broke, "
          f"{counts['swapped']} swapped); to a class 2+ annotators chose: {100 * sum(map(voted, events)) / len(events):.1f}% of all, "
          f"{100 * sum(map(voted, broke)) / max(1, len(broke)):.1f}% of the broken "
          f"(3+ annotators: {100 * sum(votes[os.path.basename(e['file'])][e['newLabel']] >= 3 for e in broke) / max(1, len(broke)):.1f}%)")
    for threshold in (0.9, 0.95, 0.97):
        kept = [e for e in events if e["margin"] >= threshold]
        fixed = sum(outcome(e) == "fixed" for e in kept)
        broken = sum(outcome(e) == "broke" for e in kept)
        print(f"  margin >= {threshold}: {len(kept)} relabels, precision {100 * fixed / max(1, len(kept)):.1f}%, "
              f"fixed - broke = {fixed - broken} (all: {counts['fixed'] - counts['broke']})")
