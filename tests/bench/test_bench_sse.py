from engine.bench.sse import StreamObserver


def _chunk(delta, finish=None):
    import json

    return (
        "data: " + json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"
    ).encode()


def _observe(*pieces):
    observer = StreamObserver()
    for at, piece in enumerate(pieces):
        observer.feed(piece, float(at))
    observer.close(99.0)
    return observer


def test_each_content_chunk_is_a_token_stamped_when_its_bytes_were_read():
    observer = _observe(_chunk({"content": "a"}), _chunk({"content": "b"}, "length"), b"data: [DONE]\n\n")
    assert observer.token_times == [0.0, 1.0]
    assert observer.finish_reason == "length" and observer.saw_done


def test_compact_chunks_take_the_fast_path_and_count_the_same():
    compact = b'data: {"choices":[{"index":0,"delta":{"content":" GP"},"logprobs":null,"finish_reason":null}]}\n\n'
    assert _observe(compact, compact).token_times == [0.0, 1.0]


def test_the_role_announcement_is_not_a_token():
    assert _observe(_chunk({"role": "assistant", "content": ""})).token_times == []
    compact = b'data: {"choices":[{"index":0,"delta":{"content":"","role":"assistant"},"finish_reason":null}]}\n'
    assert _observe(compact).token_times == []


def test_an_empty_content_delta_is_a_token_as_vllm_streams_partial_characters():
    assert _observe(_chunk({"content": ""})).token_times == [0.0]


def test_reasoning_deltas_are_tokens():
    assert _observe(_chunk({"reasoning_content": "hmm"})).token_times == [0.0]


def test_a_line_split_across_reads_is_stamped_when_it_completes():
    line = _chunk({"content": "hello"})
    assert _observe(line[:10], line[10:]).token_times == [1.0]


def test_several_events_in_one_read_share_its_time():
    assert _observe(_chunk({"content": "a"}) + _chunk({"content": "b"})).token_times == [0.0, 0.0]


def test_a_last_line_without_newline_still_counts():
    assert _observe(b"data: [DONE]").saw_done


def test_comments_and_other_fields_are_skipped():
    observer = _observe(b": keep-alive\n\nevent: message\n", _chunk({"content": "x"}))
    assert observer.token_times == [1.0] and observer.error is None


def test_unreadable_data_is_an_error_and_stops_measuring():
    observer = _observe(b"data: {not json\n\n", _chunk({"content": "x"}))
    assert observer.error.startswith("unreadable event") and observer.token_times == []


def test_usage_is_read_from_a_chunk_without_choices():
    observer = _observe(b'data: {"choices":[],"usage":{"completion_tokens":7}}\n\n')
    assert observer.usage == {"completion_tokens": 7} and observer.token_times == []


def test_error_event_carries_its_message():
    assert _observe(b'data: {"error": {"message": "overloaded"}}\n\n').error == "overloaded"


def test_patterns_inside_content_do_not_fool_the_fast_path():
    # Quotes inside a JSON string are escaped, so a content that spells a key is still one token.
    tricky = b'data: {"choices":[{"index":0,"delta":{"content":"\\"usage\\":1 \\"role\\""},"finish_reason":null}]}\n'
    assert _observe(tricky).token_times == [0.0]
