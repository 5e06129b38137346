"""Plot the throughput of ``bench_pool.py``: requests per second against the number of keys.

Reads ``benchmarks/results/pool.json`` (written by a full run of ``bench_pool.py``)
and writes ``docs/img/keypool.png``. Needs matplotlib, which is not a dependency of
the package; use a separate environment::

    python -m venv /tmp/plotvenv && /tmp/plotvenv/bin/pip install matplotlib
    /tmp/plotvenv/bin/python benchmarks/plot_pool.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render to a file
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Read the results and draw one line per client, with the ideal N x one key."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "pool.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "keypool.png")
    args = parser.parse_args()
    data = json.loads(args.json.read_text())
    rows = data["results"]
    clients = list(dict.fromkeys(row["client"] for row in rows))
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for client in clients:
        points = sorted((row["keys"], row["rps"]) for row in rows if row["client"] == client)
        ax.plot([k for k, _ in points], [r for _, r in points], marker="o", label=client)
    base = min(row["rps"] for row in rows if row["keys"] == 1)
    keys = sorted({row["keys"] for row in rows})
    ax.plot(keys, [base * k for k in keys], linestyle=":", color="grey", label="N x one key")
    ax.set_xscale("log", base=2)
    ax.set_xticks(keys, [str(k) for k in keys])
    ax.set_xlabel("keys in the KeyPool")
    ax.set_ylabel("requests per second")
    ax.set_title(f"Ordered requests to a strict server {data['delay_ms']:.0f} ms away (0 rejections)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
