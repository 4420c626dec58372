import http.server
import json
import re
import threading

import pytest

from engine.bench.target import discover_model, normalise_base_url, parse_target
from engine.bench.workload import Level, parse_concurrency, requests_for
from engine.errors import UserError


def test_base_url_gets_v1_appended():
    assert normalise_base_url("http://localhost:8000") == "http://localhost:8000/v1"


def test_base_url_with_v1_and_slash_is_kept():
    assert normalise_base_url("https://x--chat.modal.run/v1/") == "https://x--chat.modal.run/v1"


def test_url_target_is_a_base_url():
    target = parse_target("http://127.0.0.1:9000")
    assert target.base_url == "http://127.0.0.1:9000/v1"
    assert target.manifest is None


def test_manifest_colon_service_target():
    target = parse_target("manifests/local-chat.yaml:chat")
    assert (target.manifest, target.service) == ("manifests/local-chat.yaml", "chat")


def test_manifest_alone_means_its_only_service():
    assert parse_target("manifests/local-chat.yaml").service is None


def test_other_url_schemes_are_rejected():
    with pytest.raises(UserError, match="http"):
        parse_target("ftp://host/x")


@pytest.mark.parametrize(
    "url, says",
    [
        ("http://[::1", "is not a valid URL: Invalid IPv6 URL"),
        ("http://localhost:abc", "is not a valid URL: Port could not be cast"),
        ("http://localhost:70000", "is not a valid URL: Port out of range"),
        ("http://", "names no host"),
        ("https://:8000/v1", "names no host"),
    ],
)
def test_url_that_cannot_be_requested_is_rejected_with_the_reason(url, says):
    with pytest.raises(UserError, match=f"^bench target {re.escape(repr(url))} {re.escape(says)}"):
        parse_target(url)


@pytest.mark.parametrize(
    "text, says",
    [
        ("localhost:8000", "bench target 'localhost:8000': a URL needs its scheme, e.g. http://localhost:8000"),
        (
            "127.0.0.1:8000/v1",
            "bench target '127.0.0.1:8000/v1': a URL needs its scheme, e.g. http://127.0.0.1:8000/v1",
        ),
        (
            "not-a-url",
            "bench target 'not-a-url' is neither a URL (http://HOST:PORT) nor a manifest "
            "(.yaml, .yml or .toml, or a Blueprint's .json; optionally :SERVICE)",
        ),
    ],
)
def test_a_target_that_is_neither_form_says_what_it_lacks(run_mdeploy, text, says):
    done = run_mdeploy("bench", text)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"error: {says}"


def test_a_blueprint_file_and_an_upper_case_suffix_are_manifest_targets():
    assert parse_target("plan.json:chat").manifest == "plan.json"
    assert parse_target("CHAT.YAML").manifest == "CHAT.YAML"


def test_empty_service_after_colon_is_rejected():
    with pytest.raises(UserError, match="MANIFEST:SERVICE"):
        parse_target("manifests/x.yaml:")


def test_concurrency_levels_parse_in_order():
    assert [level.concurrency for level in parse_concurrency("1, 4,16")] == [1, 4, 16]


@pytest.mark.parametrize("text", ["0", "1,,4", "a", "-1", "2,2"])
def test_bad_concurrency_levels_are_rejected(text):
    with pytest.raises(UserError, match="--concurrency"):
        parse_concurrency(text)


def test_default_requests_are_four_rounds_at_least_eight():
    assert requests_for(Level(concurrency=1), None) == 8
    assert requests_for(Level(concurrency=16), None) == 64
    assert requests_for(Level(concurrency=16), 5) == 5


def test_default_requests_at_a_rate_are_ten_seconds_of_arrivals():
    assert requests_for(Level(rate=4.0), None) == 40
    assert requests_for(Level(rate=0.1), None) == 8


@pytest.mark.parametrize("listing", [{"data": 5}, {"data": True}, {"data": {"id": "m"}}, {"data": None}, [1, 2], {}])
def test_a_model_listing_of_another_shape_lists_no_model(listing):
    # {"data": 5} used to be iterated as it came and raised TypeError (an internal error).
    body = json.dumps(listing).encode()

    class Listing(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(UserError, match="lists no model: pass --model NAME"):
            discover_model(f"http://127.0.0.1:{server.server_port}/v1", None, timeout=10)
    finally:
        server.shutdown()
        server.server_close()


def test_the_target_suffixes_are_the_loaders_and_a_blueprints():
    from engine.bench.target import SERVABLE_SUFFIXES
    from engine.manifest.load import MANIFEST_SUFFIXES

    assert set(SERVABLE_SUFFIXES) == {*MANIFEST_SUFFIXES, ".json"}
