"""Platform gaps (DESIGN.md, Reuse): what was missing for the requester to do it themselves.

The analyst records a gap on a self-serve decline or on a delivery the requester could have
done with the right access, data or skill: a category of the lead-editable taxonomy
(``GapCategory``), a note and the analyst hours it cost. Reports rank gaps by count and hours.
"""
from .errors import Refusal
from .extensions import db
from .models import GAP_CONTEXTS, GapCategory, PlatformGap, utcnow
from .policy import allowed

# Analyst hours a delivery of each size costs, to prefill the gap's hours (the analyst may
# change them); a self-serve decline costs the time to find and explain the answer.
HOURS_BY_SIZE = {"S": 4.0, "M": 16.0, "L": 60.0, "XL": 120.0}
DECLINE_HOURS = 1.0
MAX_HOURS = 10000


class GapRefusal(Refusal):
    """A platform gap that cannot be recorded as given; ``field`` names the input (400)."""


def active_categories():
    """The taxonomy's categories an analyst may choose now, in the lead's order."""
    return db.session.scalars(db.select(GapCategory).where(GapCategory.is_active.is_(True))
                              .order_by(GapCategory.position, GapCategory.id)).all()


def default_hours(request, context):
    """The hours to prefill for a gap on ``request`` recorded at ``context``."""
    if context == "decline":
        return DECLINE_HOURS
    return HOURS_BY_SIZE.get(request.size, HOURS_BY_SIZE["M"])


def record(request, actor, category_id, note, hours, context, now=None):
    """Record a platform gap on ``request`` (flush; the caller commits); return it.

    Field names of refusals: ``gap_category``, ``gap_hours``, ``gap_note``.
    """
    if context not in GAP_CONTEXTS:
        raise ValueError(f"unknown gap context {context!r}")
    if actor is not None and not allowed(actor, "record_gap"):
        raise GapRefusal("Only the data team records platform gaps.", "gap_category")
    category = db.session.get(GapCategory, category_id) if isinstance(category_id, int) else None
    if category is None or not category.is_active:
        raise GapRefusal("Choose what was missing for the requester to do it themselves.",
                         "gap_category")
    note = (note or "").strip()
    if len(note) > 2000:
        raise GapRefusal("Keep the note under 2,000 characters.", "gap_note")
    if hours is None:
        hours = default_hours(request, context)
    try:
        hours = float(hours)
    except (TypeError, ValueError):
        raise GapRefusal("Give the analyst hours as a number.", "gap_hours") from None
    if not 0 <= hours <= MAX_HOURS or hours != hours:
        raise GapRefusal(f"Give between 0 and {MAX_HOURS:,} hours.", "gap_hours")
    gap = PlatformGap(request=request, team_id=request.team_id, category=category, note=note,
                      hours=round(hours, 1), context=context, recorded_by=actor,
                      created_at=now or utcnow())
    db.session.add(gap)
    db.session.flush()
    return gap
