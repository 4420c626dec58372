"""`mdeploy validate` checks extra_args against the flags of the pinned engine version, through the
real CLI: each problem at its own list item, `file:line:col`, before anything is deployed."""

from __future__ import annotations

MANIFEST = """\
version: 1
app: chat
services:
  chat:
    kind: llm
    engine: {engine}
    model:
      id: meta-llama/Llama-3.1-8B-Instruct
      revision: 0e9e39f249a16976918f6564b8830bc894c89659
    gpu: H100
{image}    engine_args:
      extra_args:
{args}"""


def write(tmp_path, *args: str, engine: str = "vllm", image: str = ""):
    path = tmp_path / "chat.yaml"
    items = "".join(f"        - {a!r}\n" for a in args)
    path.write_text(MANIFEST.format(engine=engine, image=image, args=items))
    return path


def test_typo_removed_and_mistyped_flags_are_located_errors(run_mdeploy, tmp_path):
    path = write(tmp_path, "--max-num-batch-tokens", "4096", "--swap-space", "4", "--max-loras", "lots", "--seed", "0")
    result = run_mdeploy("validate", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:4] == [
        f"{path}:13:11: services.chat.engine_args.extra_args[0]: --max-num-batch-tokens is not an option of vllm "
        "0.33.0 (the version mdeploy runs) (did you mean --max-num-batched-tokens?)",
        f"{path}:15:11: services.chat.engine_args.extra_args[2]: --swap-space was removed from vllm: 0.15.0 had it, "
        "0.33.0 (the version mdeploy runs) does not (remove it; the engine's release notes say what replaced it)",
        f"{path}:18:11: services.chat.engine_args.extra_args[5]: --max-loras takes an integer in vllm 0.33.0; "
        "'lots' is not one",
    ]
    assert "3 problems" in result.stdout.splitlines()[0]


def test_plan_refuses_them_too(run_mdeploy, tmp_path):
    path = write(tmp_path, "--schedule-policy", "fcfs-weight", engine="sglang")
    result = run_mdeploy("plan", str(path))
    assert result.returncode == 1
    assert f"{path}:14:11: services.chat.engine_args.extra_args[1]: --schedule-policy takes one of its values" in (
        result.stdout + result.stderr
    )


def test_flags_of_the_pinned_version_validate(run_mdeploy, tmp_path):
    path = write(tmp_path, "--max-num-batched-tokens=8k", "--enable-chunked-prefill", "--seed", "0")
    result = run_mdeploy("validate", str(path))
    assert result.returncode == 0, result.stdout


def test_a_named_image_runs_a_version_mdeploy_does_not_know_so_its_flags_pass(run_mdeploy, tmp_path):
    image = "    image: mine\n"
    path = write(tmp_path, "--flag-of-a-newer-vllm", image=image)
    path.write_text(path.read_text() + "images:\n  mine:\n    registry: vllm/vllm-openai:v0.40.0\n")
    result = run_mdeploy("validate", str(path))
    assert result.returncode == 0, result.stdout
