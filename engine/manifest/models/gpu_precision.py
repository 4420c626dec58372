"""Which `engine_args` dtype and quantization each engine can run on which GPU generation.

Every GPU of a service's request is checked, fallback entries too: Modal may place the container
on any of them. The GPU facts (architecture, compute capability) are in `gpus.py`; the rules:

- bfloat16 needs compute capability 8.0 (Ampere) or newer: vLLM refuses it below ("Bfloat16 is
  only supported on GPUs with compute capability of at least 8.0", vllm/platforms/cuda.py), as do
  SGLang and TensorRT-LLM (its support matrix lists BF16 from Ampere on). PyTorch emulates it on a
  T4, slowly, so for `transformers` it is a warning.
- FP8 computes on compute capability 8.9 and newer (Ada Lovelace, Hopper, Blackwell).
  vLLM runs FP8 checkpoints below that as weight-only W8A16 through its FP8 Marlin kernel (from
  7.5, Turing; vLLM's FP8 guide), without FP8 MoE support: a warning. SGLang's FP8 needs 8.0
  (`Fp8Config.get_min_capability`, sglang/srt/layers/quantization/fp8.py) and falls back to
  Marlin weight-only on Ampere: an error on a T4, a warning on Ampere. TensorRT-LLM has no FP8 on
  Ampere or Turing (support matrix: FP8 on Ada Lovelace, Hopper, Blackwell): an error.
- vLLM's Marlin kernels (`marlin`, `gptq_marlin`, `awq_marlin`) need Ampere (vLLM's quantization
  hardware table): an error on a T4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.gpus import GPU_TABLE, GpuType, gpu_type
from engine.manifest.models.base import Finding
from engine.manifest.source import KeyPath

_FP8_GPUS_NEED = 8.9


@dataclass(frozen=True)
class Rule:
    key: str  # of engine_args: "dtype" or "quantization"
    applies: Callable[[str], bool]
    engines: tuple[str, ...]
    runs_from: float  # below: the engine cannot run it (error)
    full_from: float  # between runs_from and this: it runs, degraded (warning)
    needs: str  # what the full feature needs, in words
    degraded: str = ""  # what happens between runs_from and full_from


def _is_fp8(value: str) -> bool:
    return "fp8" in value.lower()


def _is_marlin(value: str) -> bool:
    return "marlin" in value.lower()


RULES: tuple[Rule, ...] = (
    Rule(
        "dtype",
        lambda v: v == "bfloat16",
        ("vllm", "sglang", "trtllm"),
        8.0,
        8.0,
        "compute capability 8.0 (Ampere) or newer",
    ),
    Rule(
        "dtype",
        lambda v: v == "bfloat16",
        ("transformers",),
        0.0,
        8.0,
        "compute capability 8.0 (Ampere) or newer",
        "PyTorch emulates bfloat16 there, slowly",
    ),
    Rule(
        "quantization",
        _is_fp8,
        ("vllm",),
        7.5,
        _FP8_GPUS_NEED,
        "an Ada Lovelace, Hopper or Blackwell GPU",
        "vLLM runs FP8 there as weight-only W8A16 (FP8 Marlin): half the weight memory, no FP8 compute, and FP8 MoE models do not load",
    ),
    Rule(
        "quantization",
        _is_fp8,
        ("sglang",),
        8.0,
        _FP8_GPUS_NEED,
        "an Ada Lovelace, Hopper or Blackwell GPU",
        "SGLang runs FP8 there as weight-only (Marlin): half the weight memory, no FP8 compute",
    ),
    Rule(
        "quantization", _is_fp8, ("trtllm",), _FP8_GPUS_NEED, _FP8_GPUS_NEED, "an Ada Lovelace, Hopper or Blackwell GPU"
    ),
    Rule("quantization", _is_marlin, ("vllm",), 8.0, 8.0, "compute capability 8.0 (Ampere) or newer"),
)

_ENGINE_NAMES = {"vllm": "vLLM", "sglang": "SGLang", "trtllm": "TensorRT-LLM", "transformers": "transformers"}


def _gpus_from(capability: float) -> str:
    names = [g.name for g in GPU_TABLE if g.compute_capability >= capability and not g.name.endswith(("!", "+"))]
    names = [n for n in names if not n.startswith("A100-")] if "A100" in names else names
    return ", ".join(names)


def _entries(gpu: Any) -> list[tuple[KeyPath, str]]:
    """(path below the service, request) for each GPU of `gpu` (a string or a fallback list)."""
    if isinstance(gpu, str):
        return [(("gpu",), gpu)]
    if isinstance(gpu, list):
        return [(("gpu", i), g) for i, g in enumerate(gpu) if isinstance(g, str)]
    return []


def _which(entries: list[tuple[KeyPath, GpuType]]) -> str:
    parts = []
    for path, row in entries:
        where = "gpu" if len(path) == 1 else f"gpu[{path[1]}]"
        parts.append(f"{where} {row.name} is {row.architecture}, {row.compute_capability}")
    return "; ".join(parts)


def _check_service(path: KeyPath, body: dict[str, Any]) -> list[Finding]:
    engine, args = body.get("engine"), body.get("engine_args")
    if not isinstance(engine, str) or not isinstance(args, dict):
        return []
    entries = [(p, row) for p, g in _entries(body.get("gpu")) if (row := gpu_type(g)) is not None]
    findings = []
    for rule in RULES:
        value = args.get(rule.key)
        if engine not in rule.engines or not isinstance(value, str) or not rule.applies(value):
            continue
        cannot = [(p, row) for p, row in entries if row.compute_capability < rule.runs_from]
        degraded = [(p, row) for p, row in entries if rule.runs_from <= row.compute_capability < rule.full_from]
        where = (*path, "engine_args", rule.key)
        label = f"{rule.key} {value!r}"
        instead = "write dtype: float16" if rule.key == "dtype" else "remove quantization"
        fix = f"request a GPU from {_gpus_from(rule.full_from)}, or {instead}"
        if cannot:
            findings.append(
                Finding(
                    where,
                    f"{_ENGINE_NAMES[engine]} cannot run {label} below compute capability {rule.runs_from} ({_which(cannot)})",
                    fix,
                )
            )
        if degraded:
            findings.append(
                Finding(
                    where,
                    f"{label} needs {rule.needs} for full speed ({_which(degraded)}): {rule.degraded}",
                    fix,
                    severity="warning",
                )
            )
    return findings


def check_gpu_precision(data: Any) -> list[Finding]:
    """Every llm service's dtype and quantization against every GPU it may be placed on."""
    services = data.get("services") if isinstance(data, dict) else None
    findings = []
    for key, body in services.items() if isinstance(services, dict) else ():
        if isinstance(body, dict) and body.get("kind") == "llm":
            findings.extend(_check_service(("services", key), body))
    return findings
