"""No command prints a secret: tokens in the process environment, interpolated into a manifest,
or written into an invalid manifest never appear in anything any command writes (stdout, stderr,
errors, plans, diffs, JSON, ejected source)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

TOKENS = {
    "HF_TOKEN": "hf_FakeTokenForTestsOnly0001abcdefghijklmnop",
    "OPENAI_API_KEY": "sk-FakeKeyForTestsOnly0002abcdefghijkl",
    "AWS_ACCESS_KEY_ID": "AKIAFAKE0003TESTONLY",
    "GITHUB_TOKEN": "ghp_FakeTokenForTestsOnly0004abcdefghijklmn",
    "GH_PAT": "github_pat_FakeForTestsOnly0005abcdefgh",
    "SLACK_TOKEN": "xoxb-fake-0006-testsonly",
    "DB_PASSWORD": "q8ZfT3vLw0XyP2mNc7RbK5sJd1HgA9eU0007",
}

# Runs each command in this process with file descriptors 1 and 2 redirected, so whatever any
# layer writes (print, logging, a child process) is caught; prints {command: output} as JSON.
_DRIVER = r"""
import json, os, sys, tempfile
from engine.cli.main import main
outputs = {}
for argv in json.loads(sys.argv[1]):
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as capture:
        sys.stdout.flush(); sys.stderr.flush()
        os.dup2(capture.fileno(), 1); os.dup2(capture.fileno(), 2)
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(saved[0], 1); os.dup2(saved[1], 2)
        capture.seek(0)
        outputs[" ".join(argv)] = f"exit {code}\n" + capture.read().decode("utf-8", "replace")
print(json.dumps(outputs))
"""


def _every_command(manifest: str, key: str) -> list[list[str]]:
    return [
        ["validate", "--all-envs", manifest],
        *[["plan", manifest, "--env", "prod", "--format", fmt] for fmt in ("text", "markdown", "json")],
        *[["diff", manifest, "--env", "prod", "--against-env", "main", "--format", fmt] for fmt in ("text", "markdown", "json")],
        ["explain", manifest, "--env", "prod", key],
        ["eject", manifest, "--env", "prod"],
        ["schema"],
        ["deploy", manifest, "--env", "prod", "--dry-run"],
        ["preflight", manifest, "--env", "prod"],
    ]


def _run_all(commands: list[list[str]], cwd: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MODAL_", "MDEPLOY_"))}
    env.update(TOKENS, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(commands)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not any(token in proc.stderr for token in TOKENS.values())
    return json.loads(proc.stdout)


def _assert_no_token_printed(outputs: dict[str, str]):
    for command, output in outputs.items():
        assert "exit" in output and len(output) > len("exit 0\n"), f"{command} printed nothing"
        for name, token in TOKENS.items():
            assert token not in output, f"`mdeploy {command}` printed {name}'s value"
            assert token[:16] not in output, f"`mdeploy {command}` printed part of {name}'s value"


def test_tokens_in_the_environment_are_never_printed(tmp_path):
    for name in ("chat.yaml", "chat.prod.yaml"):
        shutil.copy(REPO / "manifests" / name, tmp_path / name)
    outputs = _run_all(_every_command("chat.yaml", "services.llama.gpu"), tmp_path)
    assert outputs["validate --all-envs chat.yaml"].startswith("exit 0")
    _assert_no_token_printed(outputs)


def test_tokens_interpolated_into_a_manifest_are_rejected_and_never_printed(tmp_path):
    text = (REPO / "manifests" / "chat.yaml").read_text()
    text = text.replace("description: Llama 3.1 8B Instruct on vLLM, OpenAI-compatible.",
                        "description: ${HF_TOKEN}\n"
                        "defaults:\n  env:\n" + "".join(f"    {name}: ${{{name}}}\n" for name in TOKENS))
    (tmp_path / "chat.yaml").write_text(text)
    (tmp_path / "chat.prod.yaml").write_text("services:\n  llama:\n    gpu: ${OPENAI_API_KEY}\n    region: ${AWS_ACCESS_KEY_ID}\n")
    outputs = _run_all(_every_command("chat.yaml", "defaults.env.HF_TOKEN"), tmp_path)
    assert outputs["validate --all-envs chat.yaml"].startswith("exit 1")
    _assert_no_token_printed(outputs)


def test_tokens_written_into_an_invalid_manifest_are_never_printed(tmp_path):
    body = "".join(f"    {name}: {token}\n" for name, token in TOKENS.items())
    (tmp_path / "bad.yaml").write_text(
        "version: 1\napp: bad\n"
        f"description: {TOKENS['GITHUB_TOKEN']}\n"
        f"volumes: {{{TOKENS['HF_TOKEN']}: {{}}}}\n"
        "functions:\n"
        "  job:\n"
        f"    handler: {TOKENS['SLACK_TOKEN']}\n"
        f"    gpu: {TOKENS['OPENAI_API_KEY']}\n"
        f"    image: {TOKENS['AWS_ACCESS_KEY_ID']}\n"
        f"    secrets: [{TOKENS['GH_PAT']}]\n"
        f"    volumes: {{/data: {TOKENS['HF_TOKEN']}}}\n"
        "    env:\n" + body
    )
    (tmp_path / "bad.prod.yaml").write_text(f"functions:\n  job:\n    region: {TOKENS['DB_PASSWORD']}\n")
    outputs = _run_all(_every_command("bad.yaml", "functions.job.gpu"), tmp_path)
    assert outputs["validate --all-envs bad.yaml"].startswith("exit 1")
    _assert_no_token_printed(outputs)
