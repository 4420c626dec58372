"""What a level sends, and when: prompts, output lengths and arrival times, drawn from one seed.

Each shorthand is parsed here, in one place that lists its forms:

- a length (`--prompt-len`, `--max-tokens`): `N` (fixed) or `A:B` (uniform integers A..B);
- a dataset (`--dataset FILE`): JSON Lines, one request per line, `{"prompt": "..."}` or
  `{"prompt_len": N}`, each with an optional `"max_tokens": N`; lines are used in order, cycled;
- levels: `--concurrency 1,4,16` (closed loop: that many streams in flight) or `--rate 2,8`
  (open loop: requests per second, `--arrivals constant` or `poisson`);
- goodput targets (`--goodput`): `ttft:500ms,itl:50ms,tpot:40ms,e2e:5s`.

Everything random comes from `random.Random(seed)`, so a run can be repeated request for request.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from engine.errors import UserError

# Prompts are made of these words, one token each in common tokenizers, so `--prompt-len N` asks
# for about N prompt tokens; the server's own count is recorded per request (prompt_tokens).
PROMPT_WORDS = ("the", "robot", "paints", "a", "small", "red", "house", "near", "blue", "river", "and", "sky")
GOODPUT_METRICS = ("ttft", "itl", "tpot", "e2e")
ARRIVALS = ("constant", "poisson")


@dataclass(frozen=True)
class Length:
    low: int
    high: int

    def draw(self, rng: random.Random) -> int:
        return self.low if self.low == self.high else rng.randint(self.low, self.high)

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}:{self.high}"


@dataclass(frozen=True)
class RequestPlan:
    prompt: str
    max_tokens: int


@dataclass(frozen=True)
class Level:
    """One level of a run: closed loop at `concurrency`, or open loop at `rate` requests/s."""

    concurrency: int | None = None
    rate: float | None = None

    @property
    def label(self) -> str:
        return f"concurrency {self.concurrency}" if self.rate is None else f"rate {self.rate:g}/s"

    @property
    def value(self) -> float:
        return self.streams if self.rate is None else self.rate

    @property
    def streams(self) -> int:
        """A closed-loop level's concurrency (the parsers make every level closed or open)."""
        if self.concurrency is None:
            raise ValueError(f"{self} has no concurrency (an open-loop level has a rate instead)")
        return self.concurrency


def parse_length(flag: str, text: str) -> Length:
    """`N` or `A:B`, positive integers, A <= B."""
    low, sep, high = str(text).partition(":")
    try:
        low_value = int(low)
        high_value = int(high) if sep else low_value
    except ValueError:
        raise UserError(f"{flag} {text!r}: write a number of tokens N, or a range A:B (e.g. 64:256)") from None
    if low_value < 1 or high_value < low_value:
        raise UserError(f"{flag} {text!r}: lengths must be at least 1, and A <= B in A:B")
    return Length(low_value, high_value)


def parse_concurrency(text: str) -> list[Level]:
    """`1,4,16` -> closed-loop levels; each a positive integer, listed once."""
    values: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise UserError(f"--concurrency {text!r}: give positive integers separated by commas, e.g. 1,4,16")
        if int(part) in values:
            raise UserError(f"--concurrency {text!r}: {part} is listed twice")
        values.append(int(part))
    return [Level(concurrency=value) for value in values]


def parse_rates(text: str) -> list[Level]:
    """`0.5,2,8` -> open-loop levels in requests per second."""
    values: list[float] = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            value = 0.0
        if not value > 0 or value == float("inf"):
            raise UserError(f"--rate {text!r}: give request rates per second above 0, separated by commas, e.g. 1,4")
        if value in values:
            raise UserError(f"--rate {text!r}: {part.strip()} is listed twice")
        values.append(value)
    return [Level(rate=value) for value in values]


def parse_goodput(text: str) -> dict[str, float]:
    """`ttft:500ms,itl:50ms` -> {"ttft": 0.5, "itl": 0.05} (seconds)."""
    targets: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition(":")
        name = {"e2el": "e2e"}.get(name, name)  # vLLM's name for it
        if not sep or name not in GOODPUT_METRICS:
            raise UserError(
                f"--goodput {text!r}: write METRIC:TIME pairs, METRIC one of {', '.join(GOODPUT_METRICS)}, "
                "e.g. ttft:500ms,itl:50ms"
            )
        targets[name] = _seconds(f"--goodput {name}", value)
    return targets


def _seconds(flag: str, text: str) -> float:
    text = text.strip()
    for suffix, scale in (("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("s", 1.0)):  # noqa: B007 - used after the break
        if text.endswith(suffix):
            number = text[: -len(suffix)]
            break
    else:
        raise UserError(f"{flag} {text!r}: give a time with its unit, e.g. 500ms or 2s")
    try:
        seconds = float(number) * scale
    except ValueError:
        raise UserError(f"{flag} {text!r}: give a time with its unit, e.g. 500ms or 2s") from None
    if not seconds > 0:
        raise UserError(f"{flag} {text!r}: the target must be above 0")
    return seconds


@dataclass(frozen=True)
class DatasetRow:
    """One checked line of a dataset."""

    prompt: str | int  # the prompt's text, or the words of a synthetic one ("prompt_len")
    max_tokens: int | None = None  # the line's own, else the run's --max-tokens


def read_dataset(path: str) -> list[DatasetRow]:
    """The lines of a JSON Lines dataset, each checked; errors name the line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"--dataset {path}: cannot read it ({exc.strerror})") from None
    rows: list[DatasetRow] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise UserError(f'{where}: not JSON ({exc}); write one object per line, e.g. {{"prompt": "Hi"}}') from None
        if not isinstance(row, dict) or not (
            isinstance(row.get("prompt"), str) or _positive_int(row.get("prompt_len"))
        ):
            raise UserError(f'{where}: each line needs "prompt" (text) or "prompt_len" (a positive integer)')
        if "max_tokens" in row and not _positive_int(row["max_tokens"]):
            raise UserError(f'{where}: "max_tokens" must be a positive integer')
        prompt = row["prompt"] if isinstance(row.get("prompt"), str) else row["prompt_len"]
        rows.append(DatasetRow(prompt, row.get("max_tokens")))
    if not rows:
        raise UserError(f"--dataset {path}: the file holds no request")
    return rows


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def synthetic_prompt(words: int, rng: random.Random) -> str:
    return " ".join(rng.choice(PROMPT_WORDS) for _ in range(words))


def plan_requests(
    count: int,
    *,
    max_tokens: Length,
    prompt: str | None = None,
    prompt_len: Length | None = None,
    dataset: list[DatasetRow] | None = None,
    rng: random.Random,
) -> list[RequestPlan]:
    """`count` requests: from the dataset (cycled), else a fixed prompt or synthetic prompts of a drawn length."""
    plans = []
    for index in range(count):
        tokens = max_tokens.draw(rng)
        if dataset:
            row = dataset[index % len(dataset)]
            text = row.prompt if isinstance(row.prompt, str) else synthetic_prompt(row.prompt, rng)
            plans.append(RequestPlan(text, row.max_tokens if row.max_tokens is not None else tokens))
        elif prompt_len is not None:
            plans.append(RequestPlan(synthetic_prompt(prompt_len.draw(rng), rng), tokens))
        else:
            plans.append(RequestPlan(prompt or "", tokens))
    return plans


def arrival_offsets(count: int, rate: float, arrivals: str, rng: random.Random) -> list[float]:
    """Seconds after the level starts at which each request is sent (the first at 0)."""
    if arrivals == "poisson":
        offsets, now = [], 0.0
        for _ in range(count):
            offsets.append(now)
            now += rng.expovariate(rate)  # exponential gaps: a Poisson process of that rate
        return offsets
    return [index / rate for index in range(count)]


def requests_for(level: Level, requested: int | None) -> int:
    """Requests per level: as asked, else four rounds of streams (closed) or ten seconds of arrivals (open), at least 8."""
    if requested is not None:
        return requested
    if level.rate is None:
        return max(8, 4 * level.streams)
    return max(8, round(10 * level.rate))
