import pytest

from engine.bench.http import Endpoint, HTTPError, ResponseParser, request_bytes


def _parse(*pieces):
    got = []
    parser = ResponseParser(lambda data, now: got.append((data, now)))
    for at, piece in enumerate(pieces):
        parser.feed(piece, float(at))
    return parser, got


HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def test_chunked_body_is_dechunked_with_the_time_of_each_read():
    parser, got = _parse(HEAD + b"5\r\nhello\r\n", b"3\r\nabc\r\n0\r\n\r\n")
    assert got == [(b"hello", 0.0), (b"abc", 1.0)]
    assert parser.complete and parser.keep_alive


def test_chunk_boundaries_may_fall_anywhere_in_the_reads():
    stream = HEAD + b"5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n"
    parser, got = _parse(*[stream[i : i + 3] for i in range(0, len(stream), 3)])
    assert b"".join(data for data, _ in got) == b"helloabc" and parser.complete


def test_content_length_body_ends_at_its_length():
    parser, got = _parse(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nab", b"cd")
    assert b"".join(d for d, _ in got) == b"abcd" and parser.complete


def test_close_delimited_body_ends_when_the_connection_closes():
    parser, _ = _parse(b"HTTP/1.0 200 OK\r\n\r\nabc")
    assert not parser.complete and not parser.keep_alive
    parser.connection_closed()
    assert parser.complete


def test_a_chunked_body_cut_short_is_an_error():
    parser, _ = _parse(HEAD + b"5\r\nhel")
    with pytest.raises(HTTPError, match="closed the connection"):
        parser.connection_closed()


def test_a_non_200_body_is_kept_for_the_message_not_streamed():
    parser, got = _parse(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\nboom")
    assert got == [] and parser.status == 500 and parser.error_body == b"boom"


def test_garbage_is_not_http():
    with pytest.raises(HTTPError, match="not an HTTP response"):
        _parse(b"SSH-2.0-OpenSSH\r\n\r\n")


def test_request_bytes_carry_host_path_and_length():
    endpoint = Endpoint.from_url("http://127.0.0.1:8000/v1")
    data = request_bytes(endpoint, "POST", "/chat/completions", {"A": "b"}, b"{}")
    assert data.startswith(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nA: b\r\n")
    assert data.endswith(b"Content-Length: 2\r\n\r\n{}")


def test_https_default_port_is_left_out_of_the_host_header():
    endpoint = Endpoint.from_url("https://x--chat.modal.run/v1")
    assert (endpoint.port, endpoint.tls, endpoint.host_header) == (443, True, "x--chat.modal.run")
