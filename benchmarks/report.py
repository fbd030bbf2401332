"""One table of every benchmark recorded on this machine, and the scale plot.

    .venv/bin/python benchmarks/report.py [--markdown]

Reads `benchmarks/results/*.json` (written by each benchmark through `results.record`),
prints each figure with its reference, ratio and goal, and draws
`benchmarks/results/scale.png`: seconds against customers for every curve a benchmark
recorded (profile build per engine, batch scoring). `--markdown` prints the table as the
README's "Performance and scale" section shows it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from results import RESULTS_DIR, load_all

COLUMNS = ("benchmark", "what", "ours", "reference", "ratio", "goal", "met")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table(documents: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    rows = []
    for document in documents:
        for row in document["rows"]:
            reference = (
                f"{_number(row['reference'])} {row['unit']} ({row['reference_name']})"
                if row["reference"] is not None
                else ""
            )
            met = {True: "yes", False: "NO", None: ""}[row["met"]]
            rows.append(
                (
                    document["benchmark"],
                    row["what"],
                    f"{_number(row['ours'])} {row['unit']}",
                    reference,
                    f"{row['ratio']:.2f}x" if row["ratio"] is not None else "",
                    row["goal"] or "",
                    met,
                )
            )
    return rows


def print_text(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def print_markdown(rows: list[tuple[str, ...]]) -> None:
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for row in rows:
        print("| " + " | ".join(v.replace("|", "/") for v in row) + " |")


def scale_plot(documents: list[dict[str, Any]], path: Path) -> bool:
    """Every recorded curve on log-log axes; False when no benchmark recorded one."""
    curves: dict[str, tuple[list[float], list[float]]] = {}
    for document in documents:
        for point in document.get("series", {}).get("scale", []):
            label = f"{document['benchmark']} {point.get('engine', '')}".strip()
            xs, ys = curves.setdefault(label, ([], []))
            xs.append(point["customers"])
            ys.append(point["seconds"])
    if not curves:
        return False
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for label, (xs, ys) in sorted(curves.items()):
        order = sorted(range(len(xs)), key=xs.__getitem__)
        axes.plot([xs[i] for i in order], [ys[i] for i in order], marker="o", label=label)
    axes.set(xscale="log", yscale="log", xlabel="customers", ylabel="seconds")
    axes.set_title("How the batch stages scale on this machine")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    documents = load_all()
    if not documents:
        raise SystemExit(f"no results in {RESULTS_DIR}: run the benchmarks first (make bench)")
    rows = table(documents)
    (print_markdown if args.markdown else print_text)(rows)
    dates = sorted(d["measured_at"] for d in documents)
    print(f"\nmeasured {dates[0]} to {dates[-1]} on {documents[0]['machine']['cpus']} CPUs")
    plot = RESULTS_DIR / "scale.png"
    if scale_plot(documents, plot):
        print(f"scale plot: {plot}")


if __name__ == "__main__":
    main()
