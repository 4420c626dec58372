from pathlib import Path

from engine.local.mounts import LocalMount, hf_home, local_mounts, rewrite_path

MOUNTS = [
    LocalMount("/models", Path("/w/.mdeploy/volumes/weights"), "volume"),
    LocalMount("/models/base", Path("/w/.mdeploy/volumes/base"), "volume"),
]


def test_volume_maps_to_its_modal_name_under_mdeploy(bp, tmp_path):
    blueprint = bp.blueprint(volumes=[bp.VolumeSpec("hf-cache", "huggingface-cache")])
    container = bp.server(mounts=(bp.MountSpec("/root/.cache/huggingface", "volume", "hf-cache"),)).container
    (mount,) = local_mounts(blueprint, container, tmp_path)
    assert mount.local_path == (tmp_path / ".mdeploy" / "volumes" / "huggingface-cache").resolve()


def test_bucket_maps_to_a_bucket_folder(bp, tmp_path):
    container = bp.server(mounts=(bp.MountSpec("/data", "bucket", "raw"),)).container
    (mount,) = local_mounts(bp.blueprint(), container, tmp_path)
    assert mount.local_path == (tmp_path / ".mdeploy" / "buckets" / "raw").resolve()


def test_path_under_a_mount_is_rewritten():
    assert rewrite_path("/models/llama/config.json", MOUNTS) == "/w/.mdeploy/volumes/weights/llama/config.json"


def test_the_longest_mount_wins():
    assert rewrite_path("/models/base/x", MOUNTS) == "/w/.mdeploy/volumes/base/x"


def test_flag_equals_path_form_is_rewritten():
    assert rewrite_path("--download-dir=/models/x", MOUNTS) == "--download-dir=/w/.mdeploy/volumes/weights/x"


def test_a_path_that_only_shares_a_prefix_is_kept():
    assert rewrite_path("/modelsXYZ/a", MOUNTS) == "/modelsXYZ/a"


def test_non_paths_are_kept():
    assert rewrite_path("meta-llama/Llama-3.1-8B", MOUNTS) == "meta-llama/Llama-3.1-8B"


def test_hf_cache_mount_becomes_hf_home():
    mounts = [LocalMount("/root/.cache/huggingface", Path("/w/hf"), "volume")]
    assert hf_home(mounts) == Path("/w/hf")
    assert hf_home(MOUNTS) is None
