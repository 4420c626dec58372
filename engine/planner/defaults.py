"""Every default the planner decides, in one place, each with the reason for its value.

Backends never apply defaults: whatever is not in the manifest is decided here and written into
the Blueprint explicitly. Documented for users in docs/plan-and-diff.md ("What mdeploy decides for you").
"""

from __future__ import annotations

import engine.blueprint.model as blueprint_model

# Modal's default environment is called "main"; `--env` or MODAL_ENVIRONMENT override it.
DEFAULT_ENVIRONMENT = "main"

# Functions and web apps: Modal's own defaults (5 min per input, 60 s idle before scale-down).
# LLM services have no timeout: `app.server` takes none (the manifest refuses the key).
FUNCTION_TIMEOUT = 300
FUNCTION_SCALEDOWN_WINDOW = 60

# Every HTTP endpoint (LLM server, web service, function endpoint) requires Modal proxy auth unless
# the manifest turns it off: a GPU endpoint should not be public by accident.
PROXY_AUTH = True
# A function endpoint or `fastapi_endpoint` web service answers GET unless told otherwise (Modal's default).
HTTP_METHOD = "GET"

# LLM servers. A GPU cold start costs minutes (weights, compilation), so an idle container waits
# 15 min before it goes, as in Modal's vLLM examples; the manifest sets less for dev.
SERVER_SCALEDOWN_WINDOW = 15 * 60
# Requests per container the autoscaler aims for: Modal's vLLM example value. Engines batch
# continuously, so more in flight is cheaper per token; tune per model with `mdeploy bench`.
SERVER_TARGET_CONCURRENCY = 32
# The port the engine listens on inside the container: vLLM's own default, and Modal's vLLM example's.
SERVER_PORT = 8000
# Start-up covers downloading weights, loading them and compiling (CUDA graphs): minutes for a
# large model, and a first start without a warm cache volume is the slowest.
SERVER_STARTUP_TIMEOUT = 20 * 60
# The variable of `auth.api_key_secret` that holds the key: one conventional name, so a team's
# API-key secrets look alike; `auth.api_key_env` names another.
SERVER_API_KEY_ENV = "API_KEY"
# Seconds Modal lets a draining container finish in-flight requests (Modal's example value);
# `exit_grace_period` sets more for servers that drain slowly (large MoE models: 15-25 s).
SERVER_EXIT_GRACE_PERIOD = 5
# Where Modal routes a server's requests when the manifest does not say: `app.server`'s own default,
# written out so the plan shows what the app gets.
SERVER_ROUTING_REGION = "us-east"
# One request compiles the kernels real traffic needs: what `warmup: true` sends, and what a memory
# snapshot gets when the manifest leaves `warmup` out (a snapshot should capture a warmed-up
# engine); `warmup: false` means no request at all.
WARMUP_REQUESTS = 1
# A warm-up that fails means the server is not fit for traffic: fail the start, and Modal starts
# another container (`warmup.fatal: false` serves anyway, the failure logged).
WARMUP_FATAL = True
# A warm-up with a body is a POST (the chat request is one); without, a GET.
WARMUP_METHOD_WITH_BODY = "POST"
WARMUP_METHOD_WITHOUT_BODY = "GET"

# `kind: server`: the health path most servers (TEI, Infinity, llama.cpp, vLLM) answer on, and
# readiness on a 2xx answer (`health.ready: any` for a server whose path answers 404 once up).
SERVER_HEALTH_PATH = "/health"
SERVER_READY_ON_ANY_ANSWER = False

# Images. A debian_slim image's Python is pinned so the image does not change with the Python of
# whoever deploys (Modal would take the deploying machine's); a registry image gets none added
# unless the manifest asks, since most ML registry images bring their own.
IMAGE_PYTHON_VERSION = "3.12"
# Image for functions that name none and have no defaults.image: Modal's debian_slim with the
# Python above (a `-2`, `-3`... suffix when the manifest has an image of that key).
FALLBACK_IMAGE_KEY = "default"
# uv resolves and installs much faster than pip; `installer: pip` is there for indexes uv rejects.
IMAGE_INSTALLER = "uv"
# An image's `run_function` step may run this long (Modal's own default for Image.run_function).
BUILD_FUNCTION_TIMEOUT = 60 * 60
# NVIDIA's registry images print a banner from their entrypoint on every container start.
REGISTRY_CLEAR_ENTRYPOINT = True

# Every container learns its app's name, so handlers can find sibling functions with
# `modal.Function.from_name(os.environ["MDEPLOY_APP"], key)` in any environment.
APP_ENV_VAR = "MDEPLOY_APP"

# The local package every image carries: the container imports engine/entry.py's dependencies.
ENGINE_PACKAGE = "engine"

# Models (`models:`). A model's cache volume is mounted here unless the object mounts it itself,
# one folder per volume key, so two volumes never share a path.
MODEL_MOUNT_ROOT = "/models"
# Where a `run_function` build step finds the hub models it reads: fetched into the image (a layer)
# by a build step of mdeploy's own just before it, in huggingface_hub's cache layout. Not a volume:
# a layer persists by construction, and the next step's container sees it.
BUILD_MODEL_ROOT = "/opt/mdeploy/models"
# The variable that gives a handler a model's path: this prefix + the key (MDEPLOY_MODEL_WHISPER).
MODEL_ENV_PREFIX = "MDEPLOY_MODEL_"
# The function that fetches every used hub model into its cache volume ahead of the first cold
# start (`mdeploy run --remote MANIFEST prefetch-models`); a `-2` suffix when the manifest has that key.
PREFETCH_FUNCTION_KEY = "prefetch-models"
PREFETCH_HANDLER = blueprint_model.PREFETCH_HANDLER
PREFETCH_ENV_VAR = "MDEPLOY_PREFETCH"
PREFETCH_IMAGE_KEY = "mdeploy-prefetch"
# The huggingface_hub the engines' images pin, so the cache layout written is the one they read.
PREFETCH_PACKAGES = ("huggingface-hub==2.4.0",)
# A large model is tens of GiB: an hour leaves room for a slow first download.
PREFETCH_TIMEOUT = 3600
