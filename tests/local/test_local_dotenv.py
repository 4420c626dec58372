import pytest

from engine.errors import UserError
from engine.local.dotenv import parse_dotenv, read_dotenv


def test_plain_pairs_comments_and_blank_lines():
    assert parse_dotenv("# c\n\nA=1\nB = two \n") == {"A": "1", "B": "two"}


def test_export_prefix_is_allowed():
    assert parse_dotenv("export HF_TOKEN=abc") == {"HF_TOKEN": "abc"}


def test_single_quotes_are_literal():
    assert parse_dotenv(r"A='x\ny # z'") == {"A": r"x\ny # z"}


def test_double_quotes_unescape():
    assert parse_dotenv(r'A="line\nnext \"q\""') == {"A": 'line\nnext "q"'}


def test_unquoted_trailing_comment_is_dropped():
    assert parse_dotenv("A=value # note") == {"A": "value"}


def test_malformed_line_error_names_the_line_but_not_its_text():
    with pytest.raises(UserError) as info:
        parse_dotenv("A=1\nsecret-looking-line-hf_abcdef\n", ".env")
    assert info.value.message == ".env:2: expected KEY=value"


def test_unclosed_quote_is_an_error_without_the_value():
    with pytest.raises(UserError) as info:
        parse_dotenv('A=1\nB="open-hf_abcdef')
    assert info.value.message == ".env:2: expected KEY=value"


def test_a_key_without_a_value_is_an_error():
    with pytest.raises(UserError, match=r"\.env:1: expected KEY=value"):
        parse_dotenv("HF_TOKEN\n")


def test_a_double_quoted_value_may_span_lines():
    assert parse_dotenv('KEY="first\nsecond"\nB=2\n') == {"KEY": "first\nsecond", "B": "2"}


def test_no_variable_expansion():
    assert parse_dotenv("A=1\nB=${A}-x\n") == {"A": "1", "B": "${A}-x"}


def test_missing_file_is_empty(tmp_path):
    assert read_dotenv(tmp_path / ".env") == {}
