#!/usr/bin/env python3
"""How precise an audit's suggestions are, where the true labels are known (scn audit's suspects.csv with a
clean_label column, e.g. FER2013's labels judged against the FERPlus majority).

For each margin threshold T (the suggested class beats the given label by more than T in probability, the
relabeling rule's delta2): how many samples the audit would change, and the share whose suggestion is the
true label, among those whose true label is known.

Usage: python3 Benchmarks/suspect_precision.py AUDIT/suspects.csv [MORE/suspects.csv ...]
"""
import csv
import sys

THRESHOLDS = (0.2, 0.5, 0.7, 0.9)


def precision_by_margin(path):
    rows = list(csv.DictReader(open(path, newline="")))
    if not rows or "clean_label" not in rows[0]:
        sys.exit(f"{path}: not an audit's suspects.csv (no clean_label column)")
    figures = []
    for threshold in THRESHOLDS:
        changed = [r for r in rows if r["suggested"] != r["label"] and float(r["margin"]) > threshold]
        judged = [r for r in changed if r["clean_label"]]
        right = sum(r["suggested"] == r["clean_label"] for r in judged)
        figures.append((threshold, len(changed), right / len(judged) if judged else None))
    return len(rows), figures


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("| audit | samples | " + " | ".join(f"margin > {t}: changed (precision)" for t in THRESHOLDS) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in THRESHOLDS) + " |")
    for path in sys.argv[1:]:
        count, figures = precision_by_margin(path)
        cells = [f"{n:,} ({'-' if p is None else f'{100 * p:.1f}%'})" for _, n, p in figures]
        print(f"| {path} | {count:,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
