"""The GPU types Modal serves, with what each is: one table, with its sources, below every package
(the manifest checks names and counts, preflight sizes models, engines pick their defaults).

- Names and per-container counts: Modal's GPU guide (modal.com/docs/guide/gpu): "T4, L4, A10,
  L40S, A100, A100-40GB, A100-80GB, RTX-PRO-6000, H100/H100!, H200, B200/B200+, B300"; "B300,
  B200, H200, H100, A100, L4, T4 and L40S instances support up to 8 GPUs, and A10 instances up
  to 4". The guide gives no count for RTX-PRO-6000; 8 is assumed like its peers (Modal's server
  has the last word). Modal's client checks only the `TYPE:COUNT` form, so this list is what
  catches "H110" before a deploy.
- Architecture and compute capability: NVIDIA's (Transformer Engine's support matrix,
  nvidia.github.io/TransformerEngine/support_matrix.html: Ampere 8.0/8.6 = A100, A10; Ada 8.9 =
  L4, L40S; Hopper 9.0 = H100, H200; Blackwell 10.0/10.3 = B200, B300; Blackwell workstation
  12.0 = RTX PRO 6000) and Turing 7.5 for the T4. Modal may serve `H100` on an H200, `A100` on an
  80 GB A100 and `B200+` on a B300 (the guide): same architecture, so the same rules hold.
- Memory per GPU, in GiB as the device reports it: Modal's GPU guide and NVIDIA's data sheets.
  `A100` without a size may be served by a 40 GB or an 80 GB card: the smaller is assumed.
  `H100!` and `B200+` have the memory of H100 and B200. B300: 288 GB (the guide: 8 GPUs hold
  2,304 GB), 268 GiB.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuType:
    name: str  # as Modal spells it
    max_per_container: int
    architecture: str
    compute_capability: float  # the lowest of the cards Modal may serve for this name
    memory_gib: int  # per GPU; the smallest of the cards Modal may serve for this name


GPU_TABLE: tuple[GpuType, ...] = (
    GpuType("T4", 8, "Turing", 7.5, 16),
    GpuType("L4", 8, "Ada Lovelace", 8.9, 24),
    GpuType("A10", 4, "Ampere", 8.6, 24),
    GpuType("L40S", 8, "Ada Lovelace", 8.9, 48),
    GpuType("A100", 8, "Ampere", 8.0, 40),
    GpuType("A100-40GB", 8, "Ampere", 8.0, 40),
    GpuType("A100-80GB", 8, "Ampere", 8.0, 80),
    GpuType("RTX-PRO-6000", 8, "Blackwell", 12.0, 96),
    GpuType("H100", 8, "Hopper", 9.0, 80),
    GpuType("H100!", 8, "Hopper", 9.0, 80),
    GpuType("H200", 8, "Hopper", 9.0, 141),
    GpuType("B200", 8, "Blackwell", 10.0, 180),
    GpuType("B200+", 8, "Blackwell", 10.0, 180),
    GpuType("B300", 8, "Blackwell", 10.3, 268),
)
GPUS: dict[str, GpuType] = {gpu.name: gpu for gpu in GPU_TABLE}
GPU_ALIASES = {"A10G": "A10"}
_LOOKUP = {name.upper(): name for name in GPUS} | {alias.upper(): name for alias, name in GPU_ALIASES.items()}


def gpu_type(text: str) -> GpuType | None:
    """The table row for a request ("h100:2", "A10G"), or None for a name Modal does not serve."""
    return GPUS.get(_LOOKUP.get(text.strip().partition(":")[0].upper(), ""))


def spelled(name: str) -> str | None:
    """Modal's spelling of a GPU name ("a10g" -> "A10"), or None."""
    return _LOOKUP.get(name.upper())


def lookup_names() -> list[str]:
    """Every accepted spelling, upper-cased (for "did you mean")."""
    return list(_LOOKUP)
