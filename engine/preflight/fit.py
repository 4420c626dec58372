"""Does a model fit the GPUs it asks for? Pure arithmetic over numbers; no I/O but the table.

weights  = parameters x bytes per parameter (the dtype, or the quantization's width)
KV cache = 2 (K and V) x layers x KV heads x head dim x bytes per element x context x sequences
budget   = GPU memory x GPU count x the fraction the engine may use (the server's
           memory_utilization: vLLM's gpu_memory_utilization, SGLang's mem_fraction_static)

Two verdicts, because engines reserve the KV cache up front: if the weights plus the cache of
*one* full-context sequence exceed the budget the server will not start (fail); if they fit but
the configured number of concurrent full-context sequences does not, it starts and serves fewer
of them at once (warn, with how many fit).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from engine.gpus import GPU_TABLE

GIB = 1024**3

# Bytes per element of a dtype as engines spell it ("auto" means the checkpoint's own dtype).
DTYPE_BYTES: dict[str, float] = {
    "float32": 4,
    "fp32": 4,
    "float": 4,
    "bfloat16": 2,
    "bf16": 2,
    "float16": 2,
    "fp16": 2,
    "half": 2,
    "float8": 1,
    "fp8": 1,
    "fp8_e4m3": 1,
    "fp8_e5m2": 1,
    "int8": 1,
}

# Weight width of a quantization method, bytes per parameter (scales and zero points ignored).
QUANTIZATION_BYTES: dict[str, float] = {
    "fp8": 1,
    "int8": 1,
    "w8a8": 1,
    "fbgemm_fp8": 1,
    "compressed-tensors": 1,
    "modelopt": 1,
    "awq": 0.5,
    "awq_marlin": 0.5,
    "gptq": 0.5,
    "gptq_marlin": 0.5,
    "bitsandbytes": 0.5,
    "gguf": 0.5,
    "marlin": 0.5,
    "int4": 0.5,
    "mxfp4": 0.5,
    "nvfp4": 0.5,
}


class UnknownSizeError(ValueError):
    """A dtype, quantization or GPU this table does not know; the message says which."""


@dataclass(frozen=True)
class ModelShape:
    """What the arithmetic needs to know about a model."""

    parameters: int
    layers: int
    kv_heads: int
    head_dim: int
    max_context: int | None = None  # the model's own limit (max_position_embeddings)
    parameters_estimated: bool = False  # True when counted from the config, not the weights


@dataclass(frozen=True)
class FitReport:
    weights_bytes: float
    kv_bytes_per_sequence: float  # at the full configured context
    context: int
    sequences: int  # configured maximum of concurrent sequences
    budget_bytes: float

    @property
    def kv_bytes(self) -> float:
        return self.kv_bytes_per_sequence * self.sequences

    @property
    def starts(self) -> bool:
        return self.weights_bytes + self.kv_bytes_per_sequence <= self.budget_bytes

    @property
    def fits_all_sequences(self) -> bool:
        return self.weights_bytes + self.kv_bytes <= self.budget_bytes

    @property
    def sequences_that_fit(self) -> int:
        """Concurrent full-context sequences the memory left after the weights holds."""
        left = self.budget_bytes - self.weights_bytes
        return max(0, int(left // self.kv_bytes_per_sequence)) if self.kv_bytes_per_sequence else self.sequences


def dtype_bytes(dtype: str) -> float:
    try:
        return DTYPE_BYTES[dtype.lower()]
    except KeyError:
        raise UnknownSizeError(f"unknown dtype {dtype!r} (known: {', '.join(sorted(DTYPE_BYTES))})") from None


def bytes_per_parameter(dtype: str, quantization: str | None = None) -> float:
    """The quantization's width when there is one, else the dtype's."""
    if quantization:
        try:
            return QUANTIZATION_BYTES[quantization.lower()]
        except KeyError:
            known = ", ".join(sorted(QUANTIZATION_BYTES))
            raise UnknownSizeError(f"unknown quantization {quantization!r} (known: {known})") from None
    return dtype_bytes(dtype)


def weights_bytes(parameters: int, bytes_per_param: float) -> float:
    return parameters * bytes_per_param


def kv_cache_bytes(shape: ModelShape, element_bytes: float, context: int, sequences: int = 1) -> float:
    return 2 * shape.layers * shape.kv_heads * shape.head_dim * element_bytes * context * sequences


@cache
def gpu_memory_table() -> dict[str, float]:
    """GiB per GPU, by Modal's name (engine/gpus.py holds the figures and their sources)."""
    return {gpu.name: float(gpu.memory_gib) for gpu in GPU_TABLE}


def gpu_memory_bytes(gpu: str) -> tuple[str, int, float]:
    """A Modal GPU request ("H100:2") -> (type, count, total bytes of GPU memory)."""
    kind, _, count_text = gpu.partition(":")
    count = int(count_text or 1)
    table = gpu_memory_table()
    if kind not in table:
        raise UnknownSizeError(f"no memory size known for GPU {kind!r} (known: {', '.join(sorted(table))})")
    return kind, count, table[kind] * GIB * count


def check_fit(
    shape: ModelShape,
    *,
    weight_bytes_per_param: float,
    kv_element_bytes: float,
    context: int,
    sequences: int,
    gpu_bytes: float,
    memory_fraction: float,
) -> FitReport:
    return FitReport(
        weights_bytes=weights_bytes(shape.parameters, weight_bytes_per_param),
        kv_bytes_per_sequence=kv_cache_bytes(shape, kv_element_bytes, context, 1),
        context=context,
        sequences=sequences,
        budget_bytes=gpu_bytes * memory_fraction,
    )
