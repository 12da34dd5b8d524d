"""One Markdown row of Benchmarks/module_ablation.sh's table: reads `scn compare --first ... --second ... --json`
on standard input; the arguments are the row's label and the second method's run directories (their
relabels.jsonl give the relabel counts and how many relabels restored the clean label)."""
import json
import os
import sys


def percent(x):
    return f"{100 * x:.2f}%"


def points(x):
    return f"{100 * x:+.2f}"


def interval(i):
    return "n/a" if i is None else f"{100 * i['lower']:+.2f} to {100 * i['upper']:+.2f}"


def relabels(run):
    """The run's relabel count, and the share of those with a known clean label that restored it (None: none known)."""
    path = os.path.join(run, "relabels.jsonl")
    events = [json.loads(line) for line in open(path) if line.strip()] if os.path.exists(path) else []
    judged = [e for e in events if e.get("cleanLabel") is not None]
    right = sum(e["newLabel"] == e["cleanLabel"] for e in judged)
    return len(events), right / len(judged) if judged else None


comparison = json.load(sys.stdin)
label, runs = sys.argv[1], sys.argv[2:]
counts = [relabels(run) for run in runs]
relabel_text = ", ".join(f"{n} ({100 * share:.0f}%)" if share is not None else f"{n}" for n, share in counts)
print(f"| {label} | {percent(comparison['first_accuracy'])} | {percent(comparison['second_accuracy'])} "
      f"| {points(comparison['accuracy_difference'])} | {interval(comparison['accuracy_difference_seed_interval'])} "
      f"| {interval(comparison['accuracy_difference_bootstrap_interval'])} "
      f"| {comparison['second_ahead_count']} / {comparison['first_ahead_count']} | {relabel_text} |")
