import os

import pytest

from engine.errors import UserError
from engine.local.call import (
    call_handler,
    environment,
    find_function,
    import_handler,
    parse_call_arguments,
    result_json,
    user_traceback,
)


def test_positional_json_values():
    assert parse_call_arguments(["3", '"text"', "[1, 2]"]) == ([3, "text", [1, 2]], {})


def test_keyword_json_values():
    assert parse_call_arguments(["1", "limit=10", 'name="x"']) == ([1], {"limit": 10, "name": "x"})


def test_json_string_containing_equals_is_positional():
    assert parse_call_arguments(['"a=b"']) == (["a=b"], {})


def test_bare_word_is_rejected_with_a_quoting_hint():
    with pytest.raises(UserError, match="argument 1 is not JSON.*quotes"):
        parse_call_arguments(["hello"])


def test_positional_after_keyword_is_rejected():
    with pytest.raises(UserError, match="positional"):
        parse_call_arguments(["a=1", "2"])


def test_repeated_keyword_is_rejected():
    with pytest.raises(UserError, match="twice"):
        parse_call_arguments(["a=1", "a=2"])


def test_handler_is_called_with_the_arguments():
    assert call_handler(lambda a, b=0: a + b, [1], {"b": 2}) == 3


def test_async_handler_is_awaited():
    async def handler(x):
        return x * 2

    assert call_handler(handler, [21], {}) == 42


def test_arguments_that_do_not_fit_are_a_user_error():
    with pytest.raises(UserError, match="do not fit"):
        call_handler(lambda a: a, [], {"b": 1})


def test_unserialisable_result_is_a_user_error_naming_the_handler():
    with pytest.raises(UserError, match="the result of jobs.tasks:make .*not JSON"):
        result_json(object(), "jobs.tasks:make")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_nan_or_infinity_in_the_result_is_a_user_error_naming_the_handler(value):
    with pytest.raises(UserError, match="jobs.tasks:score returned NaN or Infinity"):
        result_json({"scores": [1.0, value]}, "jobs.tasks:score")


def test_a_handler_reference_to_a_value_that_is_not_callable_says_so():
    with pytest.raises(UserError, match=r"handler 'math:pi' is not callable: it names a value of type float"):
        import_handler("math:pi")


def _failing_helper():
    raise RuntimeError("broken on purpose")


def _raised_by(handler) -> BaseException:
    with pytest.raises(RuntimeError) as caught:
        call_handler(handler, [], {})
    return caught.value


def _frame_names(text: str) -> list[str]:
    return [line.rsplit(" in ", 1)[1] for line in text.splitlines() if line.startswith('  File "')]


def test_the_traceback_of_a_failing_handler_starts_at_the_handler():
    def handler():
        _failing_helper()

    assert _frame_names(user_traceback(_raised_by(handler))) == ["handler", "_failing_helper"]


def test_the_traceback_of_a_failing_async_handler_starts_at_the_handler():
    async def handler():
        _failing_helper()

    assert _frame_names(user_traceback(_raised_by(handler))) == ["handler", "_failing_helper"]


def test_environment_is_applied_and_restored(monkeypatch):
    monkeypatch.setenv("KEEP", "1")
    with environment({"ONLY": "x"}):
        assert os.environ.get("ONLY") == "x" and "KEEP" not in os.environ
    assert os.environ.get("KEEP") == "1" and "ONLY" not in os.environ


def test_unknown_function_lists_the_available_ones(bp):
    blueprint = bp.blueprint(functions=[bp.function("ingest")])
    with pytest.raises(UserError, match=r"no function 'x' \(functions: ingest\)"):
        find_function(blueprint, "x")


def test_a_service_name_points_to_serve(bp):
    with pytest.raises(UserError, match="mdeploy serve"):
        find_function(bp.blueprint(servers=[bp.server()]), "chat")
