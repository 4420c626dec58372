"""PNG plots of a benchmark report: latency distributions per level, and throughput.

latency.png shows, for TTFT, ITL and E2E, each level's whole distribution as a violin with its
P50/P90/P99 marked, computed from the per-request records in the report (so a bimodal TTFT or a
long ITL tail is visible, not hidden behind three numbers). throughput.png draws output tokens/s
and requests/s against the level. matplotlib with the Agg backend (no display needed); imported
only when plots are written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.bench.report import LevelReport, Report

LATENCY_PANELS = (("ttft", "Time to first token"), ("itl", "Inter-token latency"), ("e2e", "End-to-end latency"))
PERCENTILE_MARKS = (("p50", "o"), ("p90", "s"), ("p99", "^"))


def level_samples(level: LevelReport) -> dict[str, list[float]]:
    """Per-request TTFT and E2E, and every ITL gap, of a level's successful requests (seconds)."""
    samples: dict[str, list[float]] = {"ttft": [], "itl": [], "e2e": []}
    for record in level.get("records", ()):
        if record["status"] != "ok":
            continue
        samples["ttft"].append(record["first_token"] - record["start"])
        samples["e2e"].append(record["last_token"] - record["start"])
        times = record.get("token_times") or []
        samples["itl"].extend(later - earlier for earlier, later in zip(times, times[1:]))
    return samples


def level_name(level: LevelReport) -> str:
    return f"c{level['concurrency']}" if level.get("rate") is None else f"{level['rate']:g}/s"


def write_plots(report: Report, directory: Path) -> list[Path]:
    """Write latency.png and throughput.png into `directory`; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [level for level in report["levels"] if level["succeeded"]]
    names = [level_name(level) for level in levels]
    positions = list(range(1, len(levels) + 1))
    open_loop = any(level.get("rate") is not None for level in levels)
    axis_label = "requests per second sent" if open_loop else "concurrent streams"
    title = f"{report['model']} @ {report['base_url']}"
    directory.mkdir(parents=True, exist_ok=True)

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), constrained_layout=True)
    samples = [level_samples(level) for level in levels]
    for axis, (metric, name) in zip(axes, LATENCY_PANELS):
        data = [[value * 1000 for value in s[metric]] for s in samples]
        drawn = [(p, d) for p, d in zip(positions, data) if len(d) >= 2]
        if drawn:
            parts = axis.violinplot(
                [d for _, d in drawn], positions=[p for p, _ in drawn], showextrema=False, widths=0.8
            )
            for body in parts["bodies"]:
                body.set_alpha(0.35)
        for key, marker in PERCENTILE_MARKS:
            values = [level[metric][key] * 1000 if level[metric] else float("nan") for level in levels]
            axis.plot(positions, values, marker=marker, linestyle="-", linewidth=1, label=key.upper())
        axis.set_title(name)
        axis.set_xlabel(axis_label)
        axis.set_ylabel("milliseconds")
        axis.set_xticks(positions)
        axis.set_xticklabels(names)
        axis.grid(True, alpha=0.3)
        axis.legend()
    fig.suptitle(f"Latency distribution per level — {title}", fontsize=10)
    latency = directory / "latency.png"
    fig.savefig(latency, dpi=90)
    plt.close(fig)

    fig, left = plt.subplots(figsize=(7, 4.2), constrained_layout=True)
    left.plot(
        positions,
        [level["output_tokens_per_second"] for level in levels],
        "-o",
        color="tab:blue",
        linewidth=3,
        markersize=8,
    )
    left.set_xlabel(axis_label)
    left.set_ylabel("output tokens / s", color="tab:blue")
    left.set_xticks(positions)
    left.set_xticklabels(names)
    left.grid(True, alpha=0.3)
    right = left.twinx()
    right.plot(positions, [level["requests_per_second"] for level in levels], "--s", color="tab:orange")
    right.set_ylabel("requests / s", color="tab:orange")
    fig.suptitle(f"Throughput — {title}", fontsize=10)
    throughput = directory / "throughput.png"
    fig.savefig(throughput, dpi=90)
    plt.close(fig)
    return [latency, throughput]
