"""One Markdown row of Benchmarks/module_ablation.sh's table: reads `scn compare --first ... --second ... --json`
on standard input; the arguments are the row's label and the second method's run directories (their
relabels.jsonl give the relabel counts and how many relabels restored the clean label; the last line of their
metrics.jsonl, the spread of alpha and the wrong-label AUC of 1 - alpha at the end)."""
import json
import os
import sys


def percent(x):
    return f"{100 * x:.2f}%"


def points(x):
    return f"{100 * x:+.2f}"


def interval(i):
    return "n/a" if i is None else f"{100 * i['lower']:+.2f} to {100 * i['upper']:+.2f}"


def json_lines(path):
    """The records of a JSON-lines file (blank lines skipped)."""
    return [json.loads(line) for line in open(path) if line.strip()]


def relabels(run):
    """The run's relabel count, and the share of those with a known clean label that restored it (None: none known)."""
    path = os.path.join(run, "relabels.jsonl")
    events = json_lines(path) if os.path.exists(path) else []
    judged = [e for e in events if e.get("cleanLabel") is not None]
    right = sum(e["newLabel"] == e["cleanLabel"] for e in judged)
    return len(events), right / len(judged) if judged else None


def last_epoch_alpha(run):
    """The run's alpha standard deviation and wrong-label AUC in its last epoch; None where alpha was not trained."""
    configuration = json.load(open(os.path.join(run, "configuration.json")))
    if not configuration.get("importanceWeighting", True):
        return None
    last = json_lines(os.path.join(run, "metrics.jsonl"))[-1]
    return last["alphaStd"], last.get("wrongLabelAUC")


def span(values, digits):
    """'low-high' of the values at `digits` decimals, or one number where both read the same."""
    low, high = (f"{value:.{digits}f}" for value in (min(values), max(values)))
    return low if low == high else f"{low}-{high}"


def alpha_text(runs):
    alphas = [last_epoch_alpha(run) for run in runs]
    if any(a is None for a in alphas):
        return "not trained"
    text = span([std for std, _ in alphas], 3)
    aucs = [auc for _, auc in alphas if auc is not None]
    return text + (f" (AUC {span(aucs, 3)})" if aucs else "")


comparison = json.load(sys.stdin)
label, runs = sys.argv[1], sys.argv[2:]
counts = [relabels(run) for run in runs]
relabel_text = ", ".join(f"{n} ({100 * share:.0f}%)" if share is not None else f"{n}" for n, share in counts)
print(f"| {label} | {percent(comparison['first_accuracy'])} | {percent(comparison['second_accuracy'])} "
      f"| {points(comparison['accuracy_difference'])} | {interval(comparison['accuracy_difference_seed_interval'])} "
      f"| {interval(comparison['accuracy_difference_bootstrap_interval'])} "
      f"| {comparison['second_ahead_count']} / {comparison['first_ahead_count']} | {alpha_text(runs)} | {relabel_text} |")
