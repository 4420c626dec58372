"""`mdeploy preflight` asks Modal, through Modal's own client, whether each cache volume holds the
pinned revision: the real CLI in a fresh process against the fake control plane
(tests/support/fake_control_plane.py: VolumeGetOrCreate, VolumeListFiles2), the Hub offline.
Without a Modal token it cannot tell, and says so; a Modal that answers with an error is no
traceback and no failed exit either."""

from __future__ import annotations

from modal_proto import api_pb2

from tests.preflight.test_preflight_cli import OFFLINE
from tests.support.fake_control_plane import client_environment
from tests.support.modal_deploy import fake_modal

WHISPER_REVISION = "afda370583db9c5359511ed5d989400a6199dfe1"
WHISPER_FOLDER = f"hub/models--openai--whisper-large-v3/snapshots/{WHISPER_REVISION}"
PREFLIGHT = ("preflight", "manifests/transcribe.yaml", "--env", "prod")


def _preflight(run_mdeploy, volume_files, *, drop_rpc=None, command=PREFLIGHT):
    with fake_modal() as fake:
        fake.volume_files = volume_files
        if drop_rpc:
            del fake._streams[drop_rpc]  # answered UNIMPLEMENTED, as by a server without it
        env = {**client_environment(fake.socket_path), "HF_HUB_OFFLINE": "1"}
        result = run_mdeploy(*command, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    return result, fake


def _line(stdout: str, check: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if line.strip().split()[1:3] == check.split())
    return [line.split()[0], line.split(check, 1)[1].strip()]


def test_a_cached_revision_is_found_in_the_volume_by_its_modal_name(run_mdeploy):
    files = {"transcribe-weights": (f"{WHISPER_FOLDER}/config.json", f"{WHISPER_FOLDER}/model.safetensors")}
    result, fake = _preflight(run_mdeploy, files)
    assert _line(result.stdout, "cache whisper") == [
        "ok",
        f"cached in volume 'transcribe-weights' (revision {WHISPER_REVISION}, 2 entries); "
        "not compared with the Hub's file list: HF_HUB_OFFLINE is set",
    ]
    # A manifest without llm servers still asks the Hub for its `models:` entries (offline here).
    assert _line(result.stdout, "models whisper") == ["skip", "HF_HUB_OFFLINE is set"]
    gets = [c.request for c in fake.calls if c.method == "VolumeGetOrCreate"]
    assert {(g.deployment_name, g.environment_name) for g in gets} == {("transcribe-weights", "prod")}
    assert all(g.object_creation_type == api_pb2.OBJECT_CREATION_TYPE_UNSPECIFIED for g in gets)  # never creates
    listings = [c.request for c in fake.calls if c.method == "VolumeListFiles2"]
    assert [(r.path, r.recursive) for r in listings] == [(WHISPER_FOLDER, False)]  # one folder, not the volume
    assert fake.unanswered() == []


def test_a_revision_not_in_the_volume_warns_with_the_prefetch_command(run_mdeploy):
    other = "hub/models--openai--whisper-large-v3/snapshots/0000000000000000000000000000000000000000/config.json"
    result, _ = _preflight(run_mdeploy, {"transcribe-weights": (other,)})
    mark, message = _line(result.stdout, "cache whisper")
    assert mark == "warn"
    assert message.startswith("not cached in volume 'transcribe-weights': the first cold start downloads")
    assert "run `mdeploy run --remote manifests/transcribe.yaml prefetch-models --env prod`" in message


def test_a_volume_not_created_yet_is_said_so(run_mdeploy):
    result, _ = _preflight(run_mdeploy, {})
    mark, message = _line(result.stdout, "cache whisper")
    assert mark == "warn"
    assert message.startswith("volume 'transcribe-weights' does not exist yet (it is created at deploy)")


def test_a_modal_error_answer_cannot_tell(run_mdeploy):
    result, fake = _preflight(run_mdeploy, {"transcribe-weights": ()}, drop_rpc="VolumeListFiles2")
    mark, message = _line(result.stdout, "cache whisper")
    assert mark == "skip"
    assert message.startswith("cannot tell: Modal answered UnimplementedError:")
    assert fake.unanswered() == ["VolumeListFiles2"]


def test_without_a_modal_token_it_cannot_tell(run_mdeploy):
    result = run_mdeploy(*PREFLIGHT, env=OFFLINE)
    assert result.returncode == 0, result.stdout + result.stderr
    mark, message = _line(result.stdout, "cache whisper")
    assert mark == "skip"
    assert message.startswith("cannot tell: no Modal credentials")


def test_a_model_every_user_reads_from_its_image_asks_modal_about_no_volume(run_mdeploy):
    """manifests/embeddings-baked.yaml: bge names no volume (ModelSpec.volume None, images
    ["baked"]): no cache line, and Modal is asked about no volume."""
    command = ("preflight", "manifests/embeddings-baked.yaml", "--env", "prod")
    result, fake = _preflight(run_mdeploy, {}, command=command)
    assert not [line for line in result.stdout.splitlines() if "cache bge" in line]
    assert _line(result.stdout, "models bge") == ["skip", "HF_HUB_OFFLINE is set"]
    assert [c.method for c in fake.calls if c.method.startswith("Volume")] == []
