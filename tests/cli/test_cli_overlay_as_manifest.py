"""Every command taking one MANIFEST refuses an overlay in its place with the command to type.

Planned alone, an overlay reports each key it leaves to its base as missing, which points the
user at the wrong file; the error names the base and the environment instead.
"""

from __future__ import annotations

import pytest

OVERLAY = "manifests/chat.prod.yaml"
EXPECTED_BASE = "manifests/chat.yaml --env prod"


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", OVERLAY],
        ["deploy", OVERLAY, "--dry-run"],
        ["eject", OVERLAY],
        ["preflight", OVERLAY],
        ["diff", OVERLAY, "--against-env", "main"],
        ["serve", OVERLAY],
        ["run", OVERLAY, "anything"],
    ],
    ids=lambda argv: argv[0],
)
def test_an_overlay_named_as_manifest_is_one_error_naming_its_base(run_mdeploy, argv):
    result = run_mdeploy(*argv)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {OVERLAY} is the 'prod' overlay of manifests/chat.yaml, not a manifest; "
        f"name the base: mdeploy {argv[0]} {EXPECTED_BASE}\n"
    )


def test_explain_with_an_overlay_suggests_the_base_with_the_same_key(run_mdeploy):
    result = run_mdeploy("explain", OVERLAY, "services.llama.gpu")
    assert result.returncode == 1
    assert result.stderr.endswith(f"name the base: mdeploy explain {EXPECTED_BASE} services.llama.gpu\n")
