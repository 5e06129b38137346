"""Plot ``bench_overview.py``'s results: each auth's cost per request as a ratio to the seed auth.

Reads ``benchmarks/results/overview.json`` (written by a full run of ``bench_overview.py``)
and writes ``docs/img/overview.png``: one horizontal bar per subject, grouped by client,
ours highlighted. Needs matplotlib, which is not a dependency of the package; use a
separate environment::

    python3 -m venv /tmp/plotvenv && /tmp/plotvenv/bin/pip install matplotlib
    /tmp/plotvenv/bin/python benchmarks/plot_overview.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render to a file
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent
OURS, OTHERS = "#1f77b4", "#b0b0b0"


def label(row: dict[str, object]) -> str:
    """The subject and its client, as in the docs table."""
    return f"{row['subject']} ({row['client']})" if row["client"] != "none" else str(row["subject"])


def main() -> None:
    """Read the results and draw one bar per subject, top to bottom in the table's order."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "overview.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "overview.png")
    args = parser.parse_args()
    data = json.loads(args.json.read_text())
    rows = data["results"]
    labels = [label(row) for row in rows]
    ratios = [row["ratio"] for row in rows]
    colours = [OURS if str(row["subject"]).startswith("hmac_body_auth") else OTHERS for row in rows]

    fig, ax = plt.subplots(figsize=(8, 0.42 * len(rows) + 1.3), dpi=120)
    positions = list(range(len(rows)))[::-1]  # the first row on top
    bars = ax.barh(positions, ratios, color=colours, height=0.65)
    for bar, row in zip(bars, rows, strict=True):
        ax.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {row['ratio']:.2f}x  ({row['median_us']:.1f} us)",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(positions, labels, fontsize=8.5)
    ax.axvline(1.0, color="black", linewidth=0.8, linestyle=":")
    ax.set_xlim(0, max(ratios) * 1.3)
    ax.set_xlabel("time per request / the seed auth's (lower is faster)")
    ax.set_title("Signing one small form POST, as each client drives the auth", fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
