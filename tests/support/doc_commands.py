"""The commands a Markdown page shows, as the docs tests find them.

A shown command is a line of a fenced code block or of a 4-space indented block (list items nest
those deeper) that starts with `mdeploy ` (after an optional `$ ` prompt), indented less than 8
spaces past its block, and whose next word is a subcommand or a flag: so a table of figures whose
column says "mdeploy", or a diagram's "mdeploy (or the container's Python)", is not one.
`[--flag value]` marks an option: the command is exercised with it. A word in capitals is a
placeholder (MANIFEST, ENV, ...): such a line shows syntax, and is parsed but not run.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
from pathlib import Path

from engine.cli.main import COMMANDS

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]+(\.\.\.)?$")


def pages() -> list[Path]:
    """The README and every docs page."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def page_name(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


def code_lines(text: str) -> list[str]:
    """Lines inside fenced code blocks and indented blocks, without their block's indentation
    (the indentation past it is kept, so nested table columns stay apart from commands)."""
    lines, fence = [], None
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("```"):
            fence = None if fence is not None else len(line) - len(stripped)
            continue
        if fence is not None:
            lines.append(line[fence:])
        elif line.startswith("    "):
            lines.append(re.sub(r"^ {4,7}", "", line) if not line.startswith(" " * 8) else line)
    return lines


def strip_comment(line: str) -> str:
    return re.sub(r"\s+#\s.*$", "", line).strip()


def shown_mdeploy_commands(text: str) -> list[str]:
    found = []
    for line in code_lines(text):
        line = line.removeprefix("$ ")
        if not line.startswith("mdeploy "):
            continue
        command = strip_comment(line)
        words = command.split()
        if len(words) < 2 or not re.match(r"^(-|\[?-|[a-z])", words[1]):
            continue
        found.append(re.sub(r"\[([^\]]+)\]", r"\1", command).replace("  ", " "))
    return sorted(set(found))


def shown_scripts(text: str) -> set[str]:
    """`python SCRIPT.py` and `python -m engine.MODULE` a page shows."""
    return set(re.findall(r"python (\S+\.py)", text)) | set(re.findall(r"python (-m engine\.\S+)", text))


def is_template(command: str) -> bool:
    return any(PLACEHOLDER.match(word) for word in shlex.split(command)[1:])


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse `mdeploy ARGV` with the real parser of its subcommand (raises on anything it refuses)."""
    parser = argparse.ArgumentParser(prog="mdeploy", exit_on_error=False)
    sub = parser.add_subparsers(dest="command")
    importlib.import_module(COMMANDS[argv[0]][0]).register(sub)
    return parser.parse_args(argv)


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    found, fenced = set(), False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"^#{1,6} ", line):
            found.add(slug(line.lstrip("#")))
    return found
