"""Values that would validate and fail later (at image build, at engine start, at deploy) or do
something absurd: each is an error (or a warning) at the offending value, in the file that set
it, with the fix. Written as a newcomer would write them: one data file per rule under
`data/values/` and one overlay per rule under `data/overlays/`.

Through the real CLI: one `mdeploy validate` process checks the whole folder (as CI would), and
each test reads the lines printed under its file.
"""

from __future__ import annotations

import pytest

VALUES = "tests/manifest/data/values"
OVERLAYS = "tests/manifest/data/overlays"
HUGE = "is far too large: no Modal setting takes a number beyond 2147483647 (check for a stray digit or a wrong unit)"
NOT_FINITE = "is not a finite number (YAML's .inf and .nan, TOML's inf and nan) (write the number you mean)"
PYTHONS = '"3.11", "3.12", "3.13", "3.14", "3.15"'
FP8_GPUS = "L4, L40S, RTX-PRO-6000, H100, H200, B200, B300"
BF16_GPUS = "L4, A10, L40S, A100, RTX-PRO-6000, H100, H200, B200, B300"


def _by_check(stdout: str) -> dict[str, list[str]]:
    """`path [env]` -> the lines printed under its ok/FAIL line (the summary line left out)."""
    groups: dict[str, list[str]] = {}
    current = None
    for line in stdout.splitlines():
        if line.startswith(("ok ", "FAIL ")):
            current = line.split(" ", 1)[1].split("]:", 1)[0] + "]"
            groups[current] = [line]
        elif current is not None and not line[0].isdigit():
            groups[current].append(line)
    return groups


@pytest.fixture(scope="module")
def checked():
    """Every data file validated by one `mdeploy validate` per folder: {`path [env]`: lines}."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("MODAL_ENVIRONMENT", None)
    out: dict[str, list[str]] = {}
    for args in ([VALUES], [OVERLAYS, "--all-envs"]):
        done = subprocess.run(
            [sys.executable, "-m", "engine", "validate", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1 and done.stderr == "", done.stdout + done.stderr
        out.update(_by_check(done.stdout))
    return out


def lines(checked, name: str, env: str = "base") -> list[str]:
    """What was printed under `name` (a file of data/values/, or the overlays' base `svc.yaml`)."""
    folder = OVERLAYS if name == "svc.yaml" else VALUES
    key = f"{folder}/{name} [{env}]"
    assert key in checked, sorted(checked)
    return checked[key][1:]


def only(checked, name: str, env: str = "base") -> str:
    found = lines(checked, name, env)
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------------------------------------
# Numbers no setting can mean


def test_infinity_is_refused(checked):
    assert only(checked, "cpu_inf.yaml") == f"{VALUES}/cpu_inf.yaml:7:10: functions.work.cpu: {NOT_FINITE}"


def test_nan_is_refused_in_place_of_the_bound_that_misreads_it(checked):
    assert only(checked, "nan_engine_arg.yaml") == (
        f"{VALUES}/nan_engine_arg.yaml:13:31: services.llama.engine_args.gpu_memory_utilization: {NOT_FINITE}"
    )


def test_toml_inf_is_refused(checked):
    assert only(checked, "toml_inf.toml") == f"{VALUES}/toml_inf.toml:7:7: functions.work.cpu: {NOT_FINITE}"


def test_thirty_digit_integer_is_refused(checked):
    assert only(checked, "thirty_digit_integer.yaml") == (
        f"{VALUES}/thirty_digit_integer.yaml:8:23: functions.work.scaling.max_containers: {HUGE}"
    )


def test_huge_integer_under_a_bounded_field_keeps_the_field_bound(checked):
    assert only(checked, "huge_port.yaml") == (
        f"{VALUES}/huge_port.yaml:12:11: services.llama.port: must be at most 65535 (got 99999999999999999999)"
    )


def test_absurd_duration_is_refused(checked):
    assert only(checked, "huge_duration.yaml") == (
        f"{VALUES}/huge_duration.yaml:8:14: functions.work.schedule.every: is far too long: no Modal setting takes "
        "more than 2147483647 seconds (check for a stray digit or a wrong unit)"
    )


def test_petabytes_of_memory_are_refused(checked):
    assert only(checked, "memory_petabytes.yaml") == (
        f"{VALUES}/memory_petabytes.yaml:7:13: functions.work.memory: is far too large: no Modal setting takes more "
        "than 2147483647 MiB (check for a stray digit or a wrong unit)"
    )


# ---------------------------------------------------------------------------------------------
# Ranges Modal enforces, or that its client would quietly misread


def test_memory_beyond_any_machine_is_refused(checked):
    assert only(checked, "memory_beyond_any_machine.yaml") == (
        f"{VALUES}/memory_beyond_any_machine.yaml:7:13: functions.work.memory: 1953125 GiB is more than any one "
        'machine has (mdeploy\'s limit is 4 TiB) (check the unit: a number is MiB; write e.g. "16GiB")'
    )


def test_cpu_below_a_milli_core_is_refused(checked):
    assert only(checked, "cpu_below_a_milli_core.yaml") == (
        f"{VALUES}/cpu_below_a_milli_core.yaml:7:10: functions.work.cpu: is less than a thousandth of a core: Modal "
        "would send 0 milli-cores, which means its default (write at least 0.001, e.g. 0.25)"
    )


def test_cpu_finer_than_milli_cores_is_refused(checked):
    assert only(checked, "cpu_finer_than_milli_cores.yaml") == (
        f"{VALUES}/cpu_finer_than_milli_cores.yaml:7:10: functions.work.cpu: is finer than Modal counts CPU "
        "(thousandths of a core) (write 0.002)"
    )


def test_cpu_beyond_any_machine_is_refused(checked):
    assert only(checked, "cpu_beyond_any_machine.yaml") == (
        f"{VALUES}/cpu_beyond_any_machine.yaml:7:10: functions.work.cpu: is more CPU cores than one machine has "
        "(mdeploy's limit is 512) (CPU is counted in physical cores, e.g. 8)"
    )


def test_ephemeral_disk_beyond_modal_maximum_is_refused(checked):
    assert only(checked, "ephemeral_disk_beyond_modal.yaml") == (
        f"{VALUES}/ephemeral_disk_beyond_modal.yaml:7:21: functions.work.ephemeral_disk: 100 TiB is more than Modal's "
        'largest ephemeral disk (3 TiB) (check the unit: a number is MiB; write e.g. "16GiB")'
    )


def test_buffer_containers_above_max_containers_is_refused(checked):
    assert only(checked, "buffer_above_max_containers.yaml") == (
        f"{VALUES}/buffer_above_max_containers.yaml:9:26: functions.work.scaling.buffer_containers: buffer_containers (5) "
        "is above max_containers (2) (raise max_containers or lower buffer_containers)"
    )


def test_memory_below_the_default_reservation_is_a_warning(checked):
    assert only(checked, "memory_below_default.yaml") == (
        f"{VALUES}/memory_below_default.yaml:7:13: functions.work.memory: warning: 1 MiB is less than Modal's default "
        'reservation (128 MiB) (memory is counted in MiB: did you mean "1GiB"?)'
    )


# ---------------------------------------------------------------------------------------------
# Python and pip


def test_python_no_image_builder_supports_is_refused(checked):
    assert only(checked, "python_no_builder_supports.yaml") == (
        f"{VALUES}/python_no_builder_supports.yaml:6:13: images.base.python: Python 3.9 is not supported by any image "
        f"builder of Modal 1.6 (write one of: {PYTHONS})"
    )


def test_python_310_is_a_warning(checked):
    assert only(checked, "python_end_of_life.yaml") == (
        f"{VALUES}/python_end_of_life.yaml:6:13: images.base.python: warning: Python 3.10 is end of life: Modal's latest "
        "image builder (2026.10) does not offer it, and Modal 1.7 will not run apps whose images use it "
        f"(write one of: {PYTHONS})"
    )


def test_pip_entry_that_is_not_a_requirement_is_refused(checked):
    assert only(checked, "pip_not_a_requirement.yaml") == (
        f"{VALUES}/pip_not_a_requirement.yaml:9:9: images.base.pip[1]: is not a pip requirement: Expected semicolon "
        '(after name with no version specifier) or end (write a requirement like "vllm==0.11.0" or "name @ https://...")'
    )


def test_pip_option_is_not_a_package(checked):
    assert only(checked, "pip_option.yaml") == (
        f"{VALUES}/pip_option.yaml:7:9: images.base.pip[0]: is not a pip requirement: Expected package name at the start "
        "of dependency specifier (pip options are not packages: give an index with index_url, extra_index_url or "
        "find_links, pre-releases with pre: true)"
    )


# ---------------------------------------------------------------------------------------------
# Regions and buckets


def test_region_modal_does_not_have_is_refused_with_did_you_mean(checked):
    assert only(checked, "region_unknown.yaml") == (
        f"{VALUES}/region_unknown.yaml:7:23: functions.work.region[1]: is not a region Modal has "
        "(did you mean 'eu-north'?)"
    )


def test_region_of_a_cloud_provider_is_a_warning(checked):
    assert only(checked, "region_of_a_cloud_provider.yaml") == (
        f"{VALUES}/region_of_a_cloud_provider.yaml:7:13: functions.work.region: warning: is not one of "
        "Modal's regions; it looks like a cloud provider's region, which Modal accepts only where it enabled granular "
        "regions for the workspace (if yours has them, keep it; otherwise name one of Modal's regions, e.g. 'us-east' or 'us')"
    )


def test_routing_region_modal_does_not_have_is_refused(checked):
    assert only(checked, "routing_region_unknown.yaml") == (
        f"{VALUES}/routing_region_unknown.yaml:12:21: services.llama.routing_region: is not a routing "
        "region Modal has (routing regions: us-east, us-west, eu-west, ap-south)"
    )


def test_bucket_written_as_a_url_is_refused(checked):
    assert only(checked, "bucket_as_url.yaml") == (
        f"{VALUES}/bucket_as_url.yaml:6:13: buckets.raw.bucket: a bucket is given by its name, not by a URL (s3://...) "
        "(write bucket: acme-raw and key_prefix: incoming/)"
    )


def test_bucket_name_with_a_slash_is_refused(checked):
    assert only(checked, "bucket_name_with_slash.yaml") == (
        f"{VALUES}/bucket_name_with_slash.yaml:6:13: buckets.raw.bucket: a bucket name cannot contain '/' "
        "(write bucket: acme-raw and key_prefix: incoming/)"
    )


# ---------------------------------------------------------------------------------------------
# GPUs: the names Modal serves, and what each generation runs


def test_b300_is_a_gpu_modal_serves(checked):
    assert lines(checked, "gpu_b300.yaml") == []


def test_unknown_gpu_in_a_fallback_list_is_refused_at_its_entry(checked):
    assert only(checked, "gpu_unknown_in_fallback.yaml") == (
        f"{VALUES}/gpu_unknown_in_fallback.yaml:11:17: services.llama.gpu[1]: unknown GPU type 'V100' (did you mean 'H100'?)"
    )


def test_fp8_on_ampere_is_refused_for_tensorrt_llm(checked):
    assert only(checked, "fp8_on_ampere_trtllm.toml") == (
        f"{VALUES}/fp8_on_ampere_trtllm.toml:10:32: services.llama.engine_args.quantization: TensorRT-LLM cannot run "
        "quantization 'fp8' below compute capability 8.9 (gpu A100 is Ampere, 8.0) "
        f"(request a GPU from {FP8_GPUS}, or remove quantization)"
    )


def test_fp8_on_turing_is_refused_for_sglang(checked):
    assert only(checked, "fp8_on_turing_sglang.yaml") == (
        f"{VALUES}/fp8_on_turing_sglang.yaml:13:21: services.llama.engine_args.quantization: SGLang cannot run "
        "quantization 'fp8' below compute capability 8.0 (gpu T4 is Turing, 7.5) "
        f"(request a GPU from {FP8_GPUS}, or remove quantization)"
    )


def test_fp8_on_an_ampere_fallback_gpu_is_a_warning_for_vllm(checked):
    assert only(checked, "fp8_on_ampere_vllm_fallback.yaml") == (
        f"{VALUES}/fp8_on_ampere_vllm_fallback.yaml:13:21: services.llama.engine_args.quantization: warning: quantization "
        "'fp8' needs an Ada Lovelace, Hopper or Blackwell GPU for full speed (gpu[1] A100-80GB is Ampere, 8.0): vLLM runs "
        "FP8 there as weight-only W8A16 (FP8 Marlin): half the weight memory, no FP8 compute, and FP8 MoE models do not "
        f"load (request a GPU from {FP8_GPUS}, or remove quantization)"
    )


def test_bfloat16_on_turing_is_refused_for_vllm(checked):
    assert only(checked, "bfloat16_on_turing_vllm.yaml") == (
        f"{VALUES}/bfloat16_on_turing_vllm.yaml:13:14: services.llama.engine_args.dtype: vLLM cannot run dtype "
        f"'bfloat16' below compute capability 8.0 (gpu T4 is Turing, 7.5) (request a GPU from {BF16_GPUS}, or write dtype: float16)"
    )


def test_bfloat16_on_turing_is_a_warning_for_transformers(checked):
    assert only(checked, "bfloat16_on_turing_transformers.yaml") == (
        f"{VALUES}/bfloat16_on_turing_transformers.yaml:13:14: services.llama.engine_args.dtype: warning: dtype "
        "'bfloat16' needs compute capability 8.0 (Ampere) or newer for full speed (gpu T4 is Turing, 7.5): PyTorch "
        f"emulates bfloat16 there, slowly (request a GPU from {BF16_GPUS}, or write dtype: float16)"
    )


# ---------------------------------------------------------------------------------------------
# Paths


def test_workdir_with_dotdot_is_refused(checked):
    assert only(checked, "workdir_with_dotdot.yaml") == (
        f"{VALUES}/workdir_with_dotdot.yaml:6:14: images.base.workdir: workdir cannot contain '..' (write the folder it means: '/etc')"
    )


def test_model_path_with_dotdot_is_refused(checked):
    assert only(checked, "model_path_with_dotdot.yaml") == (
        f"{VALUES}/model_path_with_dotdot.yaml:10:13: services.llama.model.path: a model path cannot contain '..' "
        "(write the folder it means: an absolute path in a mounted volume, or a folder below the one you run mdeploy in)"
    )


def test_volume_named_dotdot_is_refused(checked):
    assert only(checked, "volume_name_dotdot.yaml") == (
        f"{VALUES}/volume_name_dotdot.yaml:6:11: volumes.cache.name: '..' is a path, not a name "
        "(name it with letters or digits, e.g. 'cache')"
    )


# ---------------------------------------------------------------------------------------------
# Overlays: every problem in the file that set the value


def test_overlay_entry_the_base_lacks_gets_did_you_mean_at_the_overlay_key(checked):
    assert lines(checked, "svc.yaml", "typo") == [
        f"{OVERLAYS}/svc.typo.yaml:3:3: services.lama: the base manifest has no service 'lama', so this overlay declares "
        "a new one (did you mean 'llama'? an overlay changes an entry by its exact key)",
        f"{OVERLAYS}/svc.typo.yaml:3:3: services.lama.kind: missing required key 'kind' (add kind: llm | server | web)",
    ]


def test_overlay_null_deleting_a_required_key_points_at_the_null(checked):
    assert only(checked, "svc.yaml", "nullgpu") == (
        f"{OVERLAYS}/svc.nullgpu.yaml:4:5: services.llama.gpu: `null` deletes the required key 'gpu' (remove the null to "
        'keep the base\'s value, or set a new one: GPU request (required): "H100", "H100:2", "A100-80GB", or a fallback list)'
    )


def test_overlay_number_is_refused_in_the_overlay(checked):
    assert only(checked, "svc.yaml", "inf") == f"{OVERLAYS}/svc.inf.yaml:3:10: services.llama.cpu: {NOT_FINITE}"


def test_overlay_quantization_is_checked_against_the_base_gpu_and_located_in_the_overlay(checked):
    assert only(checked, "svc.yaml", "fp8") == (
        f"{OVERLAYS}/svc.fp8.yaml:5:21: services.llama.engine_args.quantization: TensorRT-LLM cannot run quantization "
        f"'fp8' below compute capability 8.9 (gpu A100 is Ampere, 8.0) (request a GPU from {FP8_GPUS}, or remove quantization)"
    )


def test_overlay_key_unknown_to_the_schema_gets_did_you_mean_in_the_overlay(checked):
    assert only(checked, "svc.yaml", "badkey") == (
        f"{OVERLAYS}/svc.badkey.yaml:3:5: services.llama.scalng: unknown key 'scalng' (did you mean 'scaling'?)"
    )


def test_the_base_itself_is_clean(checked):
    assert lines(checked, "svc.yaml") == []
