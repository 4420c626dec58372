"""A key that takes `false` or a mapping (`warmup`) given a wrong mapping or a list: one located
problem about what was written, not one per member of the union pydantic tried."""

from __future__ import annotations

import textwrap

import pytest

MANIFEST = """\
version: 1
app: union-messages
services:
  chat:
    kind: llm
    engine: vllm
    model: {id: Qwen/Qwen2.5-0.5B-Instruct, revision: 7ae557604adf67be50417f59c2c2f167def9a775}
    gpu: L4
    warmup: WARMUP
"""


@pytest.mark.parametrize(
    ("warmup", "expected"),
    [
        (
            "{path: /v1/models, status: ok}",
            "m.yaml:9:40: services.chat.warmup.status: expected a number, got the text 'ok'",
        ),
        ("[1, 2]", "m.yaml:9:13: services.chat.warmup: expected a mapping (key: value), got a list"),
    ],
)
def test_a_wrong_warmup_is_one_problem_at_what_was_written(run_mdeploy, tmp_path, warmup, expected):
    (tmp_path / "m.yaml").write_text(textwrap.dedent(MANIFEST).replace("WARMUP", warmup))
    done = run_mdeploy("validate", "m.yaml", cwd=tmp_path)
    assert done.returncode == 1
    lines = [line for line in done.stdout.splitlines() if line.startswith("m.yaml:")]
    assert lines == [expected], done.stdout
    assert "literal[" not in done.stdout and "function-after" not in done.stdout
