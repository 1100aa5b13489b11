"""The overview's figures over the last days: each one query over an indexed time range."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session, aliased

from storage.models import ConsentEvent, ConsentKind, Direction, Exchange, QueueItem, QueueKind, utcnow


@dataclass
class Overview:
    """Per-day series (oldest day first) and totals for the overview page."""

    days: list[str]
    inbound: list[int]
    outbound: list[int]
    opt_ins: list[int]
    opt_outs: list[int]
    failures: list[int]
    reply_avg_ms: list[float]
    reply_max_ms: list[float]
    intents: list[tuple[str, int]]
    open_items: dict[str, int]


def _day(value: object) -> str:
    return str(value)[:10]


def _reply_ms(session: Session, reply: object, inbound: object) -> object:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", reply.occurred_at - inbound.occurred_at) * 1000
    return (func.julianday(reply.occurred_at) - func.julianday(inbound.occurred_at)) * literal_column(
        "86400000.0"
    )


def overview(session: Session, days: int = 14) -> Overview:
    """Messages in and out, opt-ins and opt-outs, failures and reply times per day; intents; open queue."""
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(), tzinfo=UTC)
    labels = [(first + timedelta(days=i)).isoformat() for i in range(days)]
    index = {label: i for i, label in enumerate(labels)}

    def series() -> list:
        return [0] * days

    inbound, outbound = series(), series()
    day = func.date(Exchange.occurred_at)
    for d, direction, n in session.execute(
        select(day, Exchange.direction, func.count())
        .where(Exchange.occurred_at >= start)
        .group_by(day, Exchange.direction)
    ):
        if _day(d) in index:
            (inbound if direction == Direction.INBOUND.value else outbound)[index[_day(d)]] = n

    opt_ins, opt_outs = series(), series()
    cday = func.date(ConsentEvent.occurred_at)
    for d, kind, n in session.execute(
        select(cday, ConsentEvent.kind, func.count())
        .where(
            ConsentEvent.occurred_at >= start,
            ConsentEvent.kind.in_([ConsentKind.OPT_IN.value, ConsentKind.OPT_OUT.value]),
        )
        .group_by(cday, ConsentEvent.kind)
    ):
        if _day(d) in index:
            (opt_ins if kind == ConsentKind.OPT_IN.value else opt_outs)[index[_day(d)]] = n

    failures = series()
    qday = func.date(QueueItem.occurred_at)
    for d, n in session.execute(
        select(qday, func.count())
        .where(QueueItem.kind == QueueKind.DELIVERY_FAILURE.value, QueueItem.occurred_at >= start)
        .group_by(qday)
    ):
        if _day(d) in index:
            failures[index[_day(d)]] = n

    inbound_row, reply_row = aliased(Exchange), aliased(Exchange)
    delay = _reply_ms(session, reply_row, inbound_row)
    iday = func.date(inbound_row.occurred_at)
    reply_avg, reply_max = [0.0] * days, [0.0] * days
    for d, avg, peak in session.execute(
        select(iday, func.avg(delay), func.max(delay))
        .join(reply_row, reply_row.reply_to_seq == inbound_row.chain_seq)
        .where(inbound_row.occurred_at >= start)
        .group_by(iday)
    ):
        if _day(d) in index:
            reply_avg[index[_day(d)]] = round(float(avg or 0), 1)
            reply_max[index[_day(d)]] = round(float(peak or 0), 1)

    intents = [
        (intent or "(none)", n)
        for intent, n in session.execute(
            select(Exchange.intent, func.count())
            .where(Exchange.occurred_at >= start, Exchange.direction == Direction.INBOUND.value)
            .group_by(Exchange.intent)
            .order_by(func.count().desc())
            .limit(14)
        )
    ]
    open_items: dict[str, int] = defaultdict(int)
    for kind, n in session.execute(
        select(QueueItem.kind, func.count()).where(QueueItem.handled_at.is_(None)).group_by(QueueItem.kind)
    ):
        open_items[kind] = n
    return Overview(
        labels,
        inbound,
        outbound,
        opt_ins,
        opt_outs,
        failures,
        reply_avg,
        reply_max,
        intents,
        dict(open_items),
    )
