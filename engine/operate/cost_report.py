"""`mdeploy cost`: the plan's estimate, priced live when possible, beside what the app cost."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

from engine.blueprint.codec import to_data
from engine.blueprint.model import Blueprint
from engine.blueprint.origins import NO_ORIGINS, Origins
from engine.errors import UserError
from engine.operate import billing, modal_cli
from engine.operate.names import ModalNames
from engine.plan.cost import CostEstimate, estimate_cost, format_money, load_price_table
from engine.plan.render_plan import render_cost


@dataclass(frozen=True)
class CostReport:
    blueprint: Blueprint
    estimate: CostEstimate
    prices: str  # where the prices came from, for humans
    notes: tuple[str, ...]
    window: billing.Window | None
    actual: billing.ActualCost | None
    # Where each Blueprint value came from: a value from a variable is shown as its `${VAR}`.
    origins: Origins = NO_ORIGINS

    @property
    def app_shown(self) -> str:
        return self.origins.text(("app",), self.blueprint.app)


def cost_report(
    blueprint: Blueprint,
    names: ModalNames,
    *,
    live_rates: bool,
    window: billing.Window | None,
    origins: Origins = NO_ORIGINS,
) -> CostReport:
    table = load_price_table()
    notes: list[str] = []
    calls = ([billing.rates_call()] if live_rates else []) + (
        [billing.report_call(window, sorted(blueprint.tags))] if window else []
    )
    replies = modal_cli.read_all(calls)
    prices = f"the price table of {table.as_of} (engine/plan/prices.json)"
    if live_rates:
        reply = replies.pop(0)
        if reply.ok and isinstance(reply.data, dict):
            today = datetime.datetime.now(datetime.UTC).date().isoformat()
            rates = billing.live_price_table(reply.data, table, today)
            table = rates.table
            if rates.used:
                taken = f"{len(rates.used)} from {billing.RATES_SOURCE}, {today}"
                prices = f"Modal's live rates ({taken}), the table's for the rest"
            notes += [f"live rate not used: {why}" for why in rates.ignored]
        else:
            notes.append(f"live rates unavailable ({reply.error or 'not a mapping'}): {prices}")
    else:
        notes.append("offline or no Modal credentials: prices from the table, not live")
    actual = None
    if window is not None:
        report = replies.pop(0)
        if not report.ok:
            raise UserError(report.error or "")
        actual = billing.app_actual_cost(report.data, names.app, names.env)
    return CostReport(blueprint, estimate_cost(blueprint, table), prices, tuple(notes), window, actual, origins)


def _actual_lines(report: CostReport) -> list[str]:
    actual, window = report.actual, report.window
    if actual is None or window is None:
        return []
    if not actual.rows:
        return [f"actual, {window.shown}: no billing rows for app {report.app_shown}"]
    average = f", {format_money(actual.total / window.hours)} on average" if window.hours else ""
    lines = [
        f"actual, {window.shown} (full {'days' if window.resolution == 'd' else 'hours'}): "
        f"${actual.total:,.2f}{average}"
    ]
    lines += [f"  {resource}: ${cost:,.2f}" for resource, cost in actual.by_resource.items()]
    estimate = report.estimate
    lines.append(
        f"estimate per hour: idle {format_money(estimate.idle_per_hour)}, "
        f"peak {format_money(estimate.peak_per_hour, unbounded=estimate.peak_unbounded)}"
    )
    if actual.tags:
        lines.append("tags: " + ", ".join(f"{k}={v}" for k, v in sorted(actual.tags.items())))
    return lines


def render_cost_report(report: CostReport, fmt: str) -> str:
    if fmt == "json":
        window = report.window
        per_hour = report.actual.total / window.hours if report.actual and window and window.hours else None
        data = {
            "app": report.blueprint.app,
            "environment": report.blueprint.environment,
            "prices": report.prices,
            "estimate": to_data(report.estimate),
            "notes": list(report.notes),
            "actual": None
            if report.actual is None
            else {
                **to_data(report.actual),
                "window": window.shown if window else None,
                "per_hour": per_hour,
            },
        }
        return json.dumps(data, indent=2) + "\n"
    text = render_cost(report.blueprint, report.estimate, fmt, report.origins)
    extra = [f"prices: {report.prices}", *report.notes, *_actual_lines(report)]
    if fmt == "markdown":
        return text + "\n" + "\n".join(f"- {line.strip()}" for line in extra) + "\n"
    return text + "\n" + "\n".join(extra) + "\n"
