"""PNG plots of a benchmark report: latency percentiles and throughput against concurrency.

matplotlib with the Agg backend (no display needed). Imported only when plots are written.
"""

from __future__ import annotations

from pathlib import Path

LATENCY_PANELS = (("ttft", "Time to first token"), ("itl", "Inter-token latency"), ("ttlt", "Time to last token"))
PERCENTILE_STYLES = (("p50", "-o"), ("p90", "--s"), ("p99", ":^"))


def write_plots(report: dict, directory: Path) -> list[Path]:
    """Write latency.png and throughput.png into `directory`; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [level for level in report["levels"] if level["succeeded"]]
    concurrency = [level["concurrency"] for level in levels]
    title = f"{report['model']} @ {report['base_url']}"
    directory.mkdir(parents=True, exist_ok=True)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True)
    for axis, (metric, name) in zip(axes, LATENCY_PANELS):
        for key, style in PERCENTILE_STYLES:
            values = [level[metric][key] * 1000 if level[metric] else float("nan") for level in levels]
            axis.plot(concurrency, values, style, label=key.upper())
        axis.set_title(name)
        axis.set_xlabel("concurrent streams")
        axis.set_ylabel("milliseconds")
        _concurrency_axis(axis, concurrency)
        axis.grid(True, alpha=0.3)
        axis.legend()
    fig.suptitle(f"Latency — {title}", fontsize=10)
    latency = directory / "latency.png"
    fig.savefig(latency, dpi=90)
    plt.close(fig)

    fig, left = plt.subplots(figsize=(7, 4.2), constrained_layout=True)
    left.plot(concurrency, [level["output_tokens_per_second"] for level in levels], "-o", color="tab:blue", linewidth=3, markersize=8)
    left.set_xlabel("concurrent streams")
    left.set_ylabel("output tokens / s", color="tab:blue")
    _concurrency_axis(left, concurrency)
    left.grid(True, alpha=0.3)
    right = left.twinx()
    right.plot(concurrency, [level["requests_per_second"] for level in levels], "--s", color="tab:orange")
    right.set_ylabel("requests / s", color="tab:orange")
    fig.suptitle(f"Throughput — {title}", fontsize=10)
    throughput = directory / "throughput.png"
    fig.savefig(throughput, dpi=90)
    plt.close(fig)
    return [latency, throughput]


def _concurrency_axis(axis, concurrency: list[int]) -> None:
    # Concurrency levels usually grow geometrically (1, 4, 16, 64): a log axis spaces them evenly.
    if len(concurrency) > 1 and max(concurrency) / max(min(concurrency), 1) >= 8:
        axis.set_xscale("log", base=2)
    axis.set_xticks(concurrency)
    axis.set_xticklabels([str(c) for c in concurrency])
