from engine.bench.sse import DONE, parse_event_line, read_chunk


def test_data_line_decodes_json():
    assert parse_event_line(b'data: {"a": 1}\n') == {"a": 1}


def test_done_marker_ends_the_stream():
    assert parse_event_line("data: [DONE]") is DONE


def test_blank_lines_comments_and_other_fields_are_skipped():
    assert parse_event_line(b"\n") is None
    assert parse_event_line(b": keep-alive\n") is None
    assert parse_event_line(b"event: message\n") is None


def test_unreadable_data_becomes_an_error_chunk():
    chunk = read_chunk(parse_event_line(b"data: {not json"))
    assert chunk.error.startswith("unreadable event")


def test_content_delta_counts_as_text():
    assert read_chunk({"choices": [{"delta": {"content": "hi"}}]}).has_text


def test_reasoning_delta_counts_as_text():
    assert read_chunk({"choices": [{"delta": {"reasoning_content": "hmm"}}]}).has_text


def test_role_only_and_empty_deltas_are_not_text():
    assert not read_chunk({"choices": [{"delta": {"role": "assistant"}}]}).has_text
    assert not read_chunk({"choices": [{"delta": {"content": ""}, "finish_reason": "stop"}]}).has_text


def test_usage_is_read_from_a_chunk_without_choices():
    chunk = read_chunk({"choices": [], "usage": {"completion_tokens": 7}})
    assert chunk.usage == {"completion_tokens": 7}
    assert not chunk.has_text


def test_error_event_carries_its_message():
    assert read_chunk({"error": {"message": "overloaded"}}).error == "overloaded"
