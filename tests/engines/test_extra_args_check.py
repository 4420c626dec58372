"""extra_args read as the engine's parser reads them, against the real checked-in catalogues."""

from __future__ import annotations

from engine.engines.extra_args_check import check_extra_args
from engine.engines.registry import ENGINES


def problems(engine: str, *args: str, owned=lambda _arg: False) -> list[tuple[int, str, str | None]]:
    e = ENGINES[engine]
    return [(p.index, p.message, p.hint) for p in check_extra_args(e.name, e.version, e.flag_syntax, args, owned)]


def test_flags_of_the_pinned_version_pass_in_every_spelling_the_parser_takes():
    assert (
        problems(
            "vllm",
            "--max-num-batched-tokens",
            "8k",  # a human-readable integer: vLLM's own type, unchecked
            "--max_num_seqs",
            "8",  # underscores read as dashes
            "--max-num-bat=8192",  # a unique prefix (argparse abbreviation) with its value attached
            "--seed",
            "-1",  # a negative number is a value, not a flag
            "--trust-remote-code",
            "--no-enable-log-requests",
            "--disable-log-requests",
            "--compilation-config.mode",
            "3",  # one key of a JSON argument
            "-O3",
            "-O",
            "2",  # --optimization-level 3, then 2
            "--served-model-name",
            "a",
            "b",  # nargs "+"
            "--moe-backend",
            "DEEP-GEMM",  # vLLM folds case and dashes before the choice check
            "--kv-offloading-size",
            "None",  # optional_type: "None" is no value
        )
        == []
    )


def test_an_unknown_flag_is_named_with_the_version_and_a_did_you_mean():
    ((index, message, hint),) = problems("vllm", "--seed", "0", "--max-num-batch-tokens", "4096")
    assert index == 2
    assert message == "--max-num-batch-tokens is not an option of vllm 0.33.0 (the version mdeploy runs)"
    assert hint == "did you mean --max-num-batched-tokens?"


def test_an_unknown_flag_with_its_value_attached_is_found_too():
    ((index, message, hint),) = problems("vllm", "--cpu-offload-gib=4")
    assert (index, message.split()[0], hint) == (0, "--cpu-offload-gib", "did you mean --cpu-offload-gb?")


def test_a_flag_an_older_catalogue_knows_is_reported_as_removed():
    ((index, message, hint),) = problems("vllm", "--swap-space", "4")
    assert index == 0
    assert message == "--swap-space was removed from vllm: 0.15.0 had it, 0.33.0 (the version mdeploy runs) does not"
    assert hint.startswith("remove it")


def test_a_value_the_flags_type_refuses_is_an_error_at_the_value():
    assert problems("vllm", "--max-num-seqs", "lots", "--cpu-offload-gb", "4GB") == [
        (1, "--max-num-seqs takes an integer in vllm 0.33.0; 'lots' is not one", None),
        (3, "--cpu-offload-gb takes a number in vllm 0.33.0; '4GB' is not one", None),
    ]


def test_a_choice_outside_the_choices_gets_the_closest_one():
    ((index, message, hint),) = problems("sglang", "--schedule-policy=fcfs-weight")
    assert (index, message) == (
        0,
        "--schedule-policy takes one of its values in sglang 0.5.23; 'fcfs-weight' is not one",
    )
    assert hint.startswith("did you mean ")


def test_a_switch_takes_no_value():
    assert problems("vllm", "--trust-remote-code=true") == [
        (
            0,
            "--trust-remote-code is a switch in vllm 0.33.0 and takes no value",
            "write --trust-remote-code alone; its other spellings are --no-trust-remote-code",
        ),
    ]
    ((index, message, _hint),) = problems("sglang", "--trust-remote-code", "true")
    assert index == 1 and message.startswith("'true' follows --trust-remote-code, a switch that takes no value")


def test_a_flag_without_its_value_and_a_stray_value_are_errors():
    assert [p[:2] for p in problems("sglang", "--random-seed", "--disable-radix-cache", "7")] == [
        (0, "--random-seed needs a value"),
        (
            2,
            "'7' follows --disable-radix-cache, a switch that takes no value: sglang would refuse it as an "
            "unrecognized argument",
        ),
    ]
    assert problems("vllm", "0")[0][:2] == (0, "'0' is not a flag, and no flag before it takes a value")


def test_click_takes_no_abbreviations():
    ((index, message, hint),) = problems("transformers", "--compil")
    assert (index, message, hint) == (
        0,
        "--compil is not an option of transformers 5.24.0 (the version mdeploy runs)",
        "did you mean --compile?",
    )


def test_an_ambiguous_abbreviation_is_an_error():
    ((_index, message, hint),) = problems("vllm", "--max-num", "4")
    assert message.startswith("--max-num is ambiguous for vllm 0.33.0: it abbreviates --max-num-")
    assert hint == "write the whole flag"


def test_owned_flags_are_read_past_not_reported_here():
    """owned_flags.py reports them; their values are still consumed, so nothing else is reported."""
    assert problems("vllm", "--port", "9000", "-tp4", "--seed", "1", owned=lambda a: a in ("--port", "-tp4")) == []


def test_an_engine_without_a_catalogue_is_not_checked():
    assert (
        check_extra_args(
            "trtllm", ENGINES["trtllm"].version, ENGINES["trtllm"].flag_syntax, ("--anything",), lambda _a: False
        )
        == []
    )
