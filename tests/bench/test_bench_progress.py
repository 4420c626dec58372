import io

from engine.bench.progress import ProgressBar


def test_progress_in_a_log_prints_about_ten_lines():
    stream = io.StringIO()
    bar = ProgressBar(100, "level", stream=stream)
    for _ in range(100):
        bar.advance()
    lines = stream.getvalue().splitlines()
    assert 10 <= len(lines) <= 11
    assert lines[-1].startswith("level [" + "#" * 30 + "] 100/100")


def test_progress_counts_failures():
    stream = io.StringIO()
    bar = ProgressBar(2, "level", stream=stream)
    bar.advance(ok=False)
    assert "1 failed" in bar.render()
