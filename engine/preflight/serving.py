"""How much a server asks of its GPUs, read from its launch command in the Blueprint.

The planner wrote every engine setting into `ServerSpec.command` (docs/architecture.md: the Blueprint is the
contract), so this reads flags back rather than re-reading the manifest. Unset flags get the
engine's own default, named here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.blueprint.model import ServerSpec

# Engine defaults when the command does not set a value.
DEFAULT_MEMORY_FRACTION = {"vllm": 0.9, "sglang": 0.88, "trtllm": 0.9, "transformers": 1.0}
DEFAULT_MAX_SEQUENCES = {"vllm": 256, "sglang": 256, "trtllm": 256, "transformers": 1}

_CONTEXT_FLAGS = ("--max-model-len", "--context-length", "--max_seq_len")
_FRACTION_FLAGS = ("--gpu-memory-utilization", "--mem-fraction-static")
_SEQUENCE_FLAGS = ("--max-num-seqs", "--max-running-requests", "--max_batch_size")
_KV_DTYPE_FLAGS = ("--kv-cache-dtype", "--kv_cache_dtype")


@dataclass(frozen=True)
class ServingLimits:
    context: int | None  # None: the model's own maximum
    max_sequences: int
    memory_fraction: float
    dtype: str  # "auto": the checkpoint's dtype
    quantization: str | None
    kv_cache_dtype: str  # "auto": the dtype of the weights as served


def serving_limits(server: ServerSpec) -> ServingLimits:
    flags = command_flags(server.command)
    context = _first(flags, _CONTEXT_FLAGS)
    sequences = _first(flags, _SEQUENCE_FLAGS)
    fraction = _first(flags, _FRACTION_FLAGS)
    return ServingLimits(
        context=int(context) if context else None,
        max_sequences=int(sequences) if sequences else DEFAULT_MAX_SEQUENCES.get(server.engine, 1),
        memory_fraction=float(fraction) if fraction else DEFAULT_MEMORY_FRACTION.get(server.engine, 0.9),
        dtype=flags.get("--dtype", "auto"),
        quantization=flags.get("--quantization"),
        kv_cache_dtype=_first(flags, _KV_DTYPE_FLAGS) or "auto",
    )


def command_flags(command: tuple[str, ...]) -> dict[str, str]:
    """`--flag value` and `--flag=value` pairs of an argv (the last one wins, as in argparse)."""
    flags: dict[str, str] = {}
    for i, arg in enumerate(command):
        if not arg.startswith("--"):
            continue
        if "=" in arg:
            name, value = arg.split("=", 1)
            flags[name] = value
        elif i + 1 < len(command) and not command[i + 1].startswith("--"):
            flags[arg] = command[i + 1]
    return flags


def _first(flags: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((flags[n] for n in names if n in flags), None)
