"""`mdeploy history`: the app's deployments, newest first, with the commit each one came from.

From `modal app history --json`. An mdeploy tag (`<commit>-<content hash>`, tagging.py) gives the
commit and the content; other deployments show the commit Modal itself recorded (7 hex digits,
`*` when the checkout was dirty) and their tag as it is. The live version is the newest.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.operate.readback import Deployment
from engine.operate.tagging import decode_tag


@dataclass(frozen=True)
class HistoryRow:
    version: int
    live: bool
    deployed_at: str | None
    deployed_by: str | None
    commit: str | None
    dirty: bool
    content_hash: str | None
    matches_manifest: bool  # its content is what the manifest plans now
    tag: str | None


def history_rows(deployments: list[Deployment], planned_hash: str) -> list[HistoryRow]:
    rows = []
    for index, deployment in enumerate(deployments):
        tag = decode_tag(deployment.tag)
        modal_commit = (deployment.commit or "").rstrip("*") or None
        rows.append(
            HistoryRow(
                version=deployment.version,
                live=index == 0,
                deployed_at=deployment.deployed_at,
                deployed_by=deployment.deployed_by,
                commit=tag.commit if tag else modal_commit,
                dirty=tag.dirty if tag else bool(deployment.commit and deployment.commit.endswith("*")),
                content_hash=tag.content_hash if tag else None,
                matches_manifest=bool(tag and tag.content_hash == planned_hash),
                tag=deployment.tag,
            )
        )
    return rows


def render_history(app: str, environment: str | None, rows: list[HistoryRow]) -> str:
    where = f" (environment {environment})" if environment else ""
    if not rows:
        return f"app {app}{where}: no deployments\n"
    table = [["", "version", "deployed", "by", "commit", "content", "tag"]]
    for row in rows:
        commit = (row.commit or "-") + ("*" if row.dirty else "")
        content = (row.content_hash or "-") + (" = manifest now" if row.matches_manifest else "")
        tag = row.tag if row.tag and row.content_hash is None else ""
        live = "*" if row.live else ""
        table.append([live, f"v{row.version}", row.deployed_at or "-", row.deployed_by or "-", commit, content, tag])
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = [f"app {app}{where}: {len(rows)} deployment{'s' if len(rows) != 1 else ''}, newest first"]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    lines.append(
        "  (* live; commit* = deployed with uncommitted changes; "
        "'= manifest now': the same content as the manifest plans now)"
    )
    return "\n".join(lines) + "\n"
