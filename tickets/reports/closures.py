"""How requests closed: how the requests closed in the range ended (resolved, declined per
reason, duplicate, cancelled), and how often deliveries reopen.

(Not to be confused with a follow-up's *outcome*, DESIGN.md: what became of a delivery; the
impact ledger, ``impact``, reports those.)
"""
from sqlalchemy import func, literal_column, select

from .. import settings
from ..extensions import db
from ..models import CLOSED_STATES, DECLINE_REASONS, STATES, Event, Request
from .charts import Series, chart
from .filters import conditions
from .periods import period_of

# Decline reasons in a few words, so chart axes show them whole.
SHORT_REASONS = {
    "self_serve": "self-serve", "out_of_scope": "out of scope", "low_value": "low value",
    "no_data": "no data", "no_capacity": "no capacity", "other": "other",
}


def _short_reason(reason):
    return SHORT_REASONS.get(reason, SHORT_REASONS["other"])


@chart("closures", "How requests closed",
       "Each bar is the requests closed in the range that ended that way; many "
       "\u201cself-serve\u201d declines mean people need to find what exists.")
def closures(spec, filters, now):
    """Requests closed in the range by how they ended: resolved, declined per reason (so
    self-serve answers show), duplicate, cancelled; plus the reopen rate: of the requests
    delivered in the range, the share reopened at least once."""
    period = period_of(filters, now, settings.current())
    narrowing = conditions(filters)
    counts = {("resolved", None): 0, **{("declined", reason): 0 for reason in DECLINE_REASONS},
              ("duplicate", None): 0, ("cancelled", None): 0}
    delivered = reopened = 0
    if period.days:
        for state, reason, count in db.session.execute(
                select(Request.state, Request.decline_reason, func.count())
                .where(period.contains(Request.closed_at), Request.state.in_(CLOSED_STATES),
                       *narrowing)
                .group_by(Request.state, Request.decline_reason)):
            key = ("declined", reason if reason in DECLINE_REASONS else "other") \
                if state == "declined" else (state, None)
            counts[key] += count
        # Read whole from the partial index ix_events_reopen (its condition written as is, so
        # the databases see it applies), not sought once per delivery.
        ever_reopened = select(Event.request_id).where(
            Event.action == literal_column("'reopen'"))
        delivered, reopened = db.session.execute(
            select(func.count(), func.count().filter(Request.id.in_(ever_reopened)))
            .where(period.contains(Request.delivered_at), *narrowing)).one()
    labels = [STATES[state] if reason is None else f"Declined: {_short_reason(reason)}"
              for state, reason in counts]
    closed = sum(counts.values())
    rate = round(reopened / delivered, 3) if delivered else None
    return spec.chart(
        type="bar", labels=labels,
        series=[Series("Requests closed", list(counts.values()))],
        columns=["How it closed", "Requests", "Share"],
        rows=[*([label, count, round(count / closed, 3) if closed else None]
                for label, count in zip(labels, counts.values())),
              ["Reopened at least once (share of delivered)", reopened, rate]],
        x_label="How it closed", y_label="Requests closed",
        notes={"closed": closed, "delivered": delivered, "reopened": reopened,
               "reopen_rate": rate})
