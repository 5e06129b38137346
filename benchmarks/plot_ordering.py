"""Plot the rejection rates of ``bench_ordering.py`` with and without per-key ordering.

Reads ``benchmarks/results/ordering.json`` (written by a full run of
``bench_ordering.py``) and writes ``docs/img/rejections.png``. Needs matplotlib,
which is not a dependency of the package; use a separate environment::

    python -m venv /tmp/plotvenv && /tmp/plotvenv/bin/pip install matplotlib
    /tmp/plotvenv/bin/python benchmarks/plot_ordering.py
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render to a file
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent
MODES = ("ordered", "unordered, re-sign once", "unordered, no re-sign")
LABELS = {
    "ordered": "ordered=True (default)",
    "unordered, re-sign once": "ordered=False, auth re-signs once",
    "unordered, no re-sign": "ordered=False, nonce_error=None",
}
COLOURS = {"ordered": "#2a9d8f", "unordered, re-sign once": "#e9c46a", "unordered, no re-sign": "#e76f51"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "ordering.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "rejections.png")
    args = parser.parse_args()
    data = json.loads(args.json.read_text())
    rows = data["rejections"]
    clients = list(dict.fromkeys(row["client"] for row in rows))

    def rates(client: str, mode: str, field: str, per: str) -> list[float]:
        (row,) = [r for r in rows if r["client"] == client and r["mode"] == mode]
        return [100 * run[field] / run[per] for run in row["runs"]]

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    panels = (
        ("server_rejected", "server_received", "Rejected by the strict server\n(% of requests it received)"),
        ("client_failures", "sent", "Failed for the caller\n(% of requests sent, after any re-sign)"),
    )
    width = 0.26
    for ax, (field, per, title) in zip(axes, panels, strict=True):
        for m, mode in enumerate(MODES):
            xs, heights, low, high = [], [], [], []
            for c, client in enumerate(clients):
                values = rates(client, mode, field, per)
                mid = statistics.median(values)
                xs.append(c + (m - 1) * width)
                heights.append(mid)
                low.append(mid - min(values))
                high.append(max(values) - mid)
            bars = ax.bar(xs, heights, width, label=LABELS[mode], color=COLOURS[mode], yerr=[low, high], capsize=3)
            ax.bar_label(bars, labels=[f"{h:.0f}" for h in heights], padding=2, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(len(clients)), [c.replace(", ", ",\n") for c in clients], fontsize=8)
        ax.set_ylim(0, 100)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("% (median of runs; bars span min..max)")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(
        f"{data['requests']} concurrent requests through one API key ({data['threads']} threads; "
        f"{data['requests']} tasks for AsyncClient), strict nonce server on loopback",
        fontsize=11,
    )
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
