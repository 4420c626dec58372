"""Hugging Face transformers: `transformers serve`, an OpenAI-compatible server that runs on CPU.

It is the engine for small models, for services without a GPU and for the local runner and the
tests. Flags are those of transformers 5.x `serve` (typer options in transformers/cli/serve.py):
the model is a positional argument that preloads it, written `id@revision` to pin a commit;
`--host`, `--port`, `--device`, `--dtype`. The server is then pinned to that exact string: a
request naming any other "model" gets HTTP 400, so the served name is fixed (`fixed_served_name`).
It checks no API key and has no sleep mode.
"""

from __future__ import annotations

from engine.blueprint.model import ImageSpec, ImageStep
from engine.engines.common import (
    HF_CACHE,
    HF_DOWNLOAD_ENV,
    LISTEN_HOST,
    Engine,
    LaunchParams,
    OptionFlag,
    render_options,
)
from engine.engines.owned_flags import OwnedFlag, option_flags

IMAGE_KEY = "transformers-default"
PYTHON_VERSION = "3.12"
VERSION = "5.24.0"
PACKAGES = (f"transformers[serving]=={VERSION}", "torch==2.13.0", "huggingface-hub==2.4.0")

OPTIONS = (
    OptionFlag("device", "--device"),
    OptionFlag("dtype", "--dtype"),
)


def default_image() -> ImageSpec:
    return ImageSpec(
        key=IMAGE_KEY,
        base="debian_slim",
        python_version=PYTHON_VERSION,
        steps=(ImageStep(op="uv_pip_install", args=PACKAGES),),
    )


# Spellings from `transformers serve`'s typer options (transformers/cli/serve.py); typer takes no prefixes.
OWNED_FLAGS = (
    OwnedFlag(("--host",), None, "the server listens on 0.0.0.0, where Modal's proxy reaches it"),
    OwnedFlag(("--port",), "port"),
    *option_flags(OPTIONS),
)


def model_argument(model: str, revision: str | None) -> str:
    """`transformers serve` pins a Hub revision as `id@revision`; a path has none."""
    return f"{model}@{revision}" if revision else model


def launch_command(p: LaunchParams) -> tuple[str, ...]:
    argv = ["transformers", "serve", model_argument(p.model, p.revision)]
    argv += ["--host", LISTEN_HOST, "--port", str(p.port)]
    argv += render_options(p.options, OPTIONS, "transformers")
    argv += p.extra_args
    return tuple(argv)


ENGINE = Engine(
    name="transformers",
    default_image=default_image,
    caches=(HF_CACHE,),
    launch_command=launch_command,
    runtime_env=HF_DOWNLOAD_ENV,
    needs_gpu=False,
    supports_fast_boot=False,
    fixed_served_name=model_argument,
    owned_flags=OWNED_FLAGS,
    version=VERSION,
)
