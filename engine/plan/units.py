"""How the plan and diff renderers write durations, memory and GPU requests for humans."""

from __future__ import annotations


def format_duration(seconds: int) -> str:
    """900 -> "15m", 5400 -> "1h30m", 45 -> "45s", 0 -> "0s" (the manifest's own shorthand)."""
    if seconds <= 0:
        return f"{seconds}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def format_memory(mib: int) -> str:
    """32768 -> "32GiB", 1536 -> "1536MiB"."""
    if mib and mib % 1024 == 0:
        return f"{mib // 1024}GiB"
    return f"{mib}MiB"


def format_gpu(gpu: tuple[str, ...]) -> str:
    """() -> "none"; ("H100:2",) -> "H100:2"; a fallback list -> "H100, A100-80GB (fallback order)"."""
    if not gpu:
        return "none"
    if len(gpu) == 1:
        return gpu[0]
    return f"{', '.join(gpu)} (fallback order)"
