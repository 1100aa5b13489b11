"""The overview: messages per day in and out, opt-ins and opt-outs, intents, delivery failures and reply
time over the last two weeks, drawn as inline SVG charts."""

from __future__ import annotations

from flask import render_template

from bot.extensions import db_session
from dashboard import charts, stats, sync
from dashboard.blueprint import blueprint
from dashboard.work import work

DAYS = 14


@blueprint.get("/")
def overview() -> str:
    """The overview page."""
    with work() as db:
        sync.sync(db)
    figures = stats.overview(db_session(), DAYS)
    return render_template(
        "dashboard/overview.html",
        figures=figures,
        days=DAYS,
        messages=charts.columns(figures.days, [("in", figures.inbound), ("out", figures.outbound)]),
        consent=charts.columns(figures.days, [("opt-ins", figures.opt_ins), ("opt-outs", figures.opt_outs)]),
        failures=charts.columns(figures.days, [("delivery failures", figures.failures)]),
        reply=charts.columns(
            figures.days, [("average", figures.reply_avg_ms), ("slowest", figures.reply_max_ms)], unit=" ms"
        ),
        intents=charts.rows(figures.intents),
    )
