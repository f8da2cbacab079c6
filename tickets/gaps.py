"""Platform gaps (DESIGN.md, Reuse): what was missing for the requester to do it themselves.

The analyst records a gap on a self-serve decline or on a delivery the requester could have
done with the right access, data or skill: a category of the lead-editable taxonomy
(``GapCategory``), a note and the analyst hours it cost. Reports rank gaps by count and hours.
"""
from sqlalchemy import and_, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from .errors import Refusal
from .extensions import db
from .models import (DEFAULT_GAP_CATEGORIES, GAP_CONTEXTS, GapCategory, PlatformGap, name_key,
                     utcnow)
from .policy import allowed
from .queries import MAX_ID

# Analyst hours a delivery of each size costs, to prefill the gap's hours (the analyst may
# change them); a self-serve decline costs the time to find and explain the answer.
HOURS_BY_SIZE = {"S": 4.0, "M": 16.0, "L": 60.0, "XL": 120.0}
DECLINE_HOURS = 1.0
MAX_HOURS = 10000
MAX_NOTE = 2000
NAME_LENGTH = GapCategory.name.type.length
DESCRIPTION_LENGTH = GapCategory.description.type.length


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
    is_id = (isinstance(category_id, int) and not isinstance(category_id, bool)
             and 0 < category_id <= MAX_ID)
    category = db.session.get(GapCategory, category_id) if is_id else None
    if category is None or not category.is_active:
        raise GapRefusal("Choose what was missing for the requester to do it themselves.",
                         "gap_category")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise GapRefusal(f"Keep the note under {MAX_NOTE:,} characters.", "gap_note")
    if "\x00" in note:  # PostgreSQL stores no NUL in text
        raise GapRefusal("Remove the control characters (such as NUL) from the note.", "gap_note")
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


# --- The taxonomy (leads edit it) ---------------------------------------------------------------

class GapNotPermitted(GapRefusal):
    """A change of the taxonomy by someone who may not manage it (403)."""

    status = 403


def _check_manager(actor):
    if actor is not None and not allowed(actor, "manage_gap_categories"):
        raise GapNotPermitted("Only leads change the platform-gap categories.")


def add_defaults(now=None):
    """Give an empty taxonomy the default categories (the migration's), as on a new
    installation; a taxonomy with any category is left alone. Return how many were added."""
    if db.session.scalar(db.select(GapCategory.id).limit(1)) is not None:
        return 0
    for position, (name, description) in enumerate(DEFAULT_GAP_CATEGORIES):
        db.session.add(GapCategory(name=name, description=description, is_active=True,
                                   position=position, created_at=now or utcnow()))
    db.session.flush()
    return len(DEFAULT_GAP_CATEGORIES)


def categories_with_use():
    """Every category, retired ones too, in the lead's order, each with the number of gaps
    recorded under it: [(GapCategory, count)], in one statement."""
    uses = (db.select(PlatformGap.category_id, func.count().label("uses"))
            .group_by(PlatformGap.category_id).subquery("uses"))
    rows = db.session.execute(
        db.select(GapCategory, func.coalesce(uses.c.uses, 0))
        .outerjoin(uses, uses.c.category_id == GapCategory.id)
        .order_by(GapCategory.position, GapCategory.id)).all()
    return [(category, int(count)) for category, count in rows]


def _clean_name(name):
    name = " ".join((name or "").split())
    if "\x00" in name:
        raise GapRefusal("Use one line without control characters.", "name")
    if not name:
        raise GapRefusal("Give the category a name.", "name")
    if len(name) > NAME_LENGTH or len(name_key(name)) > NAME_LENGTH:
        raise GapRefusal(f"Keep the name under {NAME_LENGTH} characters.", "name")
    return name


def _clean_description(description):
    description = " ".join((description or "").split())
    if "\x00" in description:
        raise GapRefusal("Use one line without control characters.", "description")
    if len(description) > DESCRIPTION_LENGTH:
        raise GapRefusal(f"Keep the description under {DESCRIPTION_LENGTH} characters.",
                         "description")
    return description


def _check_unique(name, category=None):
    clash = db.session.scalars(
        db.select(GapCategory).where(GapCategory.name_key == name_key(name))).first()
    if clash is not None and clash is not category:
        raise GapRefusal(f"There is already a category called {clash.name}"
                         f"{'' if clash.is_active else ' (retired: reactivate it instead)'}.",
                         "name")


def _flush_unique(name):
    """Flush; a category of the same name saved meanwhile by someone else is a refusal."""
    try:
        db.session.flush()
    except IntegrityError:
        raise GapRefusal(f"There is already a category called {name}.", "name") from None


def add_category(actor, name, description="", now=None):
    """Add a category at the end of the taxonomy (names are unique, ignoring case); return it."""
    _check_manager(actor)
    name, description = _clean_name(name), _clean_description(description)
    _check_unique(name)
    last = db.session.scalar(db.select(func.max(GapCategory.position)))
    category = GapCategory(name=name, description=description, is_active=True,
                           position=(last if last is not None else -1) + 1,
                           created_at=now or utcnow())
    db.session.add(category)
    _flush_unique(name)
    return category


def update_category(category, actor, name, description=""):
    """Rename a category or change its description; the gaps recorded under it follow."""
    _check_manager(actor)
    name, description = _clean_name(name), _clean_description(description)
    _check_unique(name, category)
    category.name, category.description = name, description
    _flush_unique(name)
    return category


def set_active(category, actor, is_active):
    """Retire a category (no longer offered; its gaps stay in the reports) or reactivate it."""
    _check_manager(actor)
    if not is_active and category.is_active and len(active_categories()) <= 1:
        raise GapRefusal("Keep at least one category to choose from: add another first.")
    category.is_active = bool(is_active)
    db.session.flush()
    return category


def move(category, actor, direction):
    """Move a category one place up (``direction`` -1) or down (+1) in the order analysts see;
    at either end nothing moves. Positions are renumbered 0, 1, 2... on the way."""
    _check_manager(actor)
    if direction not in (-1, 1):
        raise ValueError(f"unknown direction {direction!r}")
    ordered = db.session.scalars(db.select(GapCategory)
                                 .order_by(GapCategory.position, GapCategory.id)).all()
    index = ordered.index(category)
    other = index + direction
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, each in enumerate(ordered):
        if each.position != position:
            each.position = position
    db.session.flush()
    return category


def delete_category(category, actor):
    """Delete a category no gap was recorded under (a mistake); one in use is retired instead."""
    _check_manager(actor)
    in_use = db.session.scalar(db.select(PlatformGap.id)
                               .where(PlatformGap.category_id == category.id).limit(1))
    if in_use is not None:
        raise GapRefusal(f"Gaps were recorded as {category.name}: retire it instead, so they "
                         "stay in the reports.")
    if category.is_active and len(active_categories()) <= 1:
        raise GapRefusal("Keep at least one category to choose from: add another first.")
    db.session.delete(category)
    try:
        db.session.flush()
    except IntegrityError:  # a gap was recorded under it meanwhile
        raise GapRefusal(f"A gap was just recorded as {category.name}: retire it instead.") \
            from None


# --- The week's top gaps (the lead's digest) ---------------------------------------------------

def top_gaps(since, until, limit=5):
    """The categories whose gaps recorded from ``since`` to ``until`` cost the most analyst
    hours: [{category, count, hours, example}], ``example`` the latest non-empty note. One
    statement whatever the number of gaps."""
    in_range = and_(PlatformGap.created_at > since, PlatformGap.created_at <= until)
    latest = aliased(PlatformGap)
    example = (db.select(latest.note)
               .where(latest.category_id == PlatformGap.category_id,
                      latest.created_at > since, latest.created_at <= until, latest.note != "")
               .order_by(latest.created_at.desc(), latest.id.desc()).limit(1)
               .correlate(PlatformGap).scalar_subquery())
    hours = func.sum(PlatformGap.hours)
    rows = db.session.execute(
        db.select(GapCategory.name, func.count(), hours, example)
        .join(GapCategory, GapCategory.id == PlatformGap.category_id)
        .where(in_range)
        .group_by(PlatformGap.category_id, GapCategory.name, GapCategory.position)
        .order_by(hours.desc(), func.count().desc(), GapCategory.position)
        .limit(limit)).all()
    return [{"category": name, "count": count, "hours": _tidy(total),
             "example": " ".join((note or "").split())} for name, count, total, note in rows]


def _tidy(hours):
    """Hours to one decimal, whole hours without ".0"."""
    hours = round(float(hours or 0), 1)
    return int(hours) if hours.is_integer() else hours
