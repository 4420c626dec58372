"""`mdeploy bench` through the real CLI against benchmarks/fake_openai_server.py, well and misbehaving."""

import json
import os
import signal
import subprocess
import sys

import pytest

from engine.bench.load import LoadSpec, run_level
from engine.bench.target import discover_model
from engine.bench.workload import RequestPlan

from .conftest import REPO, free_port


def _bench(run_mdeploy, url, tmp_path, *args):
    out = tmp_path / "report"
    done = run_mdeploy("bench", url, "--no-plots", "--output", str(out), *args)
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else None
    return done, report


def test_model_is_discovered_from_v1_models(fake_server):
    assert discover_model(fake_server + "/v1", None) == "fake-model"


def test_every_request_of_a_level_streams_all_tokens(fake_server):
    spec = LoadSpec(base_url=fake_server + "/v1", model="fake-model", ignore_eos=True)
    run = run_level(spec, [RequestPlan("hi", 5)] * 7, concurrency=3)
    assert [r.error for r in run.results] == [None] * 7
    assert [len(r.token_times) for r in run.results] == [5] * 7  # the role chunk is not a token
    assert [r.output_tokens for r in run.results] == [5] * 7  # from the usage chunk
    assert run.cpu_seconds > 0


def test_connections_are_reused_across_requests(fake_server):
    # Closed loop at concurrency 2: every request after the first two rides a kept-alive connection.
    from engine.bench import reactor

    opened = []
    real = reactor.socket.socket

    def counting(*args, **kwargs):
        if args[1:2] == (reactor.socket.SOCK_STREAM,):  # connections, not the UDP socket that keeps stamps on
            opened.append(1)
        return real(*args, **kwargs)

    reactor.socket.socket = counting
    try:
        spec = LoadSpec(base_url=fake_server + "/v1", model="fake-model")
        run = run_level(spec, [RequestPlan("hi", 3)] * 6, concurrency=2)
    finally:
        reactor.socket.socket = real
    assert all(r.ok for r in run.results) and len(opened) == 2


def test_unreachable_server_is_an_error_not_a_crash():
    spec = LoadSpec(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m")
    run = run_level(spec, [RequestPlan("hi", 2)], concurrency=1)
    assert run.results[0].error.startswith("ConnectionRefusedError")


def test_bench_command_writes_report_plots_and_every_request(fake_server, run_mdeploy, tmp_path):
    out = tmp_path / "report"
    done = run_mdeploy(
        "bench", fake_server, "--concurrency", "1,2", "--requests", "4", "--max-tokens", "6", "--output", str(out)
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert [level["concurrency"] for level in report["levels"]] == [1, 2]
    assert report["levels"][1]["succeeded"] == 4 and report["model"] == "fake-model"
    records = report["levels"][1]["records"]
    assert len(records) == 4 and all(len(r["token_times"]) == 6 and r["status"] == "ok" for r in records)
    assert all(r["start"] <= r["first_token"] <= r["last_token"] <= r["end"] for r in records)
    assert (out / "latency.png").exists() and (out / "throughput.png").exists()
    assert f"wrote {out / 'report.json'}" in done.stdout


@pytest.mark.parametrize(
    "mode, reason",
    [
        ("no-done", "stream ended without [DONE] after 20 token chunks"),
        ("no-finish", "stream ended without a finish_reason"),
        ("short", "stream ended after 5 of 20 tokens with ignore_eos set (finish_reason stop)"),
        ("error-500", 'HTTP 500: {"error": {"message": "the engine crashed"}}'),
        ("malformed", 'unreadable event: {"choices": [{"delta": {"content": "tok'),
        ("stall", "timed out after 1s (2 token chunks received)"),
    ],
)
def test_a_misbehaving_stream_is_a_failed_request_with_its_reason(fake_server, run_mdeploy, tmp_path, mode, reason):
    done, report = _bench(
        run_mdeploy,
        f"{fake_server}/{mode}",
        tmp_path,
        "--concurrency",
        "2",
        "--requests",
        "3",
        "--max-tokens",
        "20",
        "--ignore-eos",
        "--timeout",
        "1",
    )
    assert done.returncode == 1
    assert f"c2: 3 failed: {reason}" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "error: no request succeeded; see the errors above"
    level = report["levels"][0]
    assert (level["succeeded"], level["failed"], level["errors"]) == (0, 3, {reason: 3})
    assert [r["status"] for r in level["records"]] == ["failed"] * 3
    assert {r["error"] for r in level["records"]} == {reason}


def test_a_short_stream_without_ignore_eos_is_an_early_stop_not_a_failure(fake_server, run_mdeploy, tmp_path):
    done, report = _bench(
        run_mdeploy, f"{fake_server}/short", tmp_path, "--concurrency", "1", "--requests", "2", "--max-tokens", "20"
    )
    assert done.returncode == 0, done.stderr
    assert [r["output_tokens"] for r in report["levels"][0]["records"]] == [5, 5]


def test_v1_models_answering_html_says_the_server_answered_wrongly(fake_server, run_mdeploy):
    done = run_mdeploy("bench", f"{fake_server}/html-models", "--concurrency", "1")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: GET ") and "answered 200 with something that is not JSON ('<html>" in last
    assert "cannot reach" not in done.stderr


def test_bench_command_reports_an_unreachable_target_in_one_line(run_mdeploy):
    done = run_mdeploy("bench", f"http://127.0.0.1:{free_port()}", "--concurrency", "1")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: cannot reach")


def test_an_output_that_cannot_be_a_folder_is_refused_before_any_request(fake_server, run_mdeploy, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("")
    for output, says in (
        (taken, f"error: --output {taken}: exists and is not a folder; name a folder for the report"),
        (taken / "sub", f"error: --output {taken / 'sub'}: {taken} is not a folder"),
    ):
        done = run_mdeploy("bench", fake_server, "--requests", "2", "--max-tokens", "3", "--output", str(output))
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines()[-1] == says
        assert "benchmarking" not in done.stderr  # refused before the load


def test_a_report_that_cannot_be_written_is_one_line_after_the_table(fake_server, run_mdeploy):
    # /proc takes no new folder, though root may write in it: only the write itself can tell.
    done = run_mdeploy("bench", fake_server, "--requests", "2", "--max-tokens", "3", "--output", "/proc/mdeploy-report")
    assert done.returncode == 1 and "internal error" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: cannot write the report to /proc/mdeploy-report: ")
    assert "TTFT" in done.stdout  # the results were shown all the same


def test_rate_levels_send_at_the_rate_with_seeded_poisson_arrivals(fake_server, run_mdeploy, tmp_path):
    args = ("--rate", "40,80", "--arrivals", "poisson", "--seed", "5", "--requests", "12", "--max-tokens", "3")
    done, report = _bench(run_mdeploy, fake_server, tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert [level["rate"] for level in report["levels"]] == [40.0, 80.0]
    assert report["levels"][0]["arrivals"] == "poisson" and report["levels"][0]["concurrency"] is None
    scheduled = [r["scheduled"] for r in report["levels"][0]["records"]]
    assert sorted(scheduled) == sorted(set(scheduled)) and max(scheduled) > 0
    # The same seed draws the same arrivals again.
    _, again = _bench(run_mdeploy, fake_server, tmp_path, *args)
    assert sorted(r["scheduled"] for r in again["levels"][0]["records"]) == pytest.approx(sorted(scheduled), abs=1e-6)
    assert "40/s" in done.stdout and "80/s" in done.stdout


def test_length_distributions_reach_the_requests(fake_server, run_mdeploy, tmp_path):
    done, report = _bench(
        run_mdeploy,
        fake_server,
        tmp_path,
        "--concurrency",
        "4",
        "--requests",
        "24",
        "--max-tokens",
        "2:9",
        "--prompt-len",
        "5:50",
        "--ignore-eos",
    )
    assert done.returncode == 0, done.stderr
    records = report["levels"][0]["records"]
    asked = [r["max_tokens"] for r in records]
    assert min(asked) >= 2 and max(asked) <= 9 and len(set(asked)) > 2
    assert [r["output_tokens"] for r in records] == asked  # the fake server honours max_tokens
    assert len({r["prompt_tokens"] for r in records}) > 2


def test_a_dataset_file_supplies_prompts_and_lengths(fake_server, run_mdeploy, tmp_path):
    dataset = tmp_path / "requests.jsonl"
    dataset.write_text('{"prompt": "one two three", "max_tokens": 2}\n{"prompt_len": 30, "max_tokens": 4}\n')
    done, report = _bench(
        run_mdeploy, fake_server, tmp_path, "--concurrency", "1", "--requests", "4", "--dataset", str(dataset)
    )
    assert done.returncode == 0, done.stderr
    assert [r["output_tokens"] for r in report["levels"][0]["records"]] == [2, 4, 2, 4]


def test_goodput_reports_share_and_rate_of_requests_meeting_targets(fake_server, run_mdeploy, tmp_path):
    done, report = _bench(
        run_mdeploy,
        fake_server,
        tmp_path,
        "--concurrency",
        "2",
        "--requests",
        "4",
        "--max-tokens",
        "3",
        "--goodput",
        "ttft:60s,itl:60s",
    )
    assert done.returncode == 0, done.stderr
    goodput = report["levels"][0]["goodput"]
    assert (goodput["good_requests"], goodput["share"]) == (4, 1.0)
    assert "c2: goodput 4/4 requests (100%) met ttft ≤ 60000 ms, itl ≤ 60000 ms" in done.stdout
    _, strict = _bench(
        run_mdeploy, fake_server, tmp_path, "--concurrency", "1", "--requests", "2", "--goodput", "itl:1us"
    )
    assert strict["levels"][0]["goodput"]["good_requests"] == 0  # 2 ms between tokens misses 1 µs


@pytest.mark.parametrize(
    "args, says",
    [
        (("--rate", "1", "--concurrency", "2"), "--rate and --concurrency are two kinds of level"),
        (("--arrivals", "poisson"), "--arrivals applies to --rate levels"),
        (("--prompt", "x", "--prompt-len", "4"), "give one source of prompts"),
        (("--max-tokens", "9:3"), "--max-tokens '9:3'"),
        (("--goodput", "ttft"), "--goodput 'ttft': write METRIC:TIME pairs"),
        (("--temperature", "-1"), "--temperature must be a finite number, 0 or above, got -1"),
        (("--temperature", "nan"), "--temperature must be a finite number, 0 or above, got nan"),
        (("--temperature", "inf"), "--temperature must be a finite number, 0 or above, got inf"),
    ],
)
def test_flags_that_contradict_each_other_are_refused(run_mdeploy, args, says):
    done = run_mdeploy("bench", "http://127.0.0.1:9", *args)
    assert done.returncode == 1 and says in done.stderr


def test_help_documents_every_flag(run_mdeploy):
    import argparse

    from engine.cli import bench

    parser = argparse.ArgumentParser()
    bench.register(parser.add_subparsers())
    flags = {
        option
        for action in parser._subparsers._group_actions[0].choices["bench"]._actions
        for option in action.option_strings
    }
    done = run_mdeploy("bench", "--help")
    help_text = " ".join(done.stdout.split())
    for flag in flags:
        assert flag in help_text
    for action in parser._subparsers._group_actions[0].choices["bench"]._actions:
        assert action.help, f"{action.option_strings} has no help"


def test_ctrl_c_keeps_the_finished_levels(fake_server, tmp_path):
    """SIGINT mid-run: the finished level's report and plots are written, their path printed, exit 130."""
    out = tmp_path / "report"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    # Level 1 sends 3 requests within ~0.1 s; level 2 (one every 10 s) is still running when SIGINT comes.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine",
            "bench",
            fake_server,
            "--rate",
            "30,0.1",
            "--requests",
            "3",
            "--max-tokens",
            "3",
            "--output",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    for line in proc.stderr:
        if "rate 0.1/s" in line:  # the second level has started
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted; reporting the 1 finished level(s)" in stderr
    report = json.loads((out / "report.json").read_text())
    assert report["interrupted"] is True
    assert [level["rate"] for level in report["levels"]] == [30.0]
    assert report["levels"][0]["succeeded"] == 3
    for name in ("report.json", "latency.png", "throughput.png"):
        assert f"wrote {out / name}" in stdout


def test_overhead_benchmark_prints_its_figures():
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_overhead.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "µs per token" in done.stdout
    assert "concurrent streams on this machine" in done.stdout
