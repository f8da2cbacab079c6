"""Platform gaps (DESIGN.md, Reuse): what was missing for requesters to do it themselves, ranked
by how often it happened and by the analyst hours it cost, per team and week by week.

These charts live on /reports/platform-gaps, not on /reports: they are narrowed by the context
the gap was recorded at (a self-serve decline or a delivery) rather than by analyst and kind.
``GapFilters`` holds the reports' ``Filters`` (range and team scoping, parsed by
``parse_filters``) and that context. Every chart costs a constant number of SQL statements
(grouped sums; the latest notes by a window function), whatever the number of gaps.

Series are the categories in one order, most hours first, on every chart, so a category keeps
its colour from one chart to the next. A retired category stays in the figures (its history
is kept), marked "(retired)".
"""
from dataclasses import dataclass, field

from sqlalchemy import false, func, select

from .. import settings
from ..extensions import db
from ..models import GAP_CONTEXTS, GapCategory, PlatformGap, Request, Team
from ..policy import visible_requests
from .charts import Series, chart
from .filters import Filters, filters_query, parse_filters
from .periods import period_of

TEAMS_SHOWN = 3  # the teams most affected named per category
NOTES_SHOWN = 2  # the latest notes quoted per category


@dataclass(frozen=True)
class GapFilters:
    """What the gap charts are narrowed by: the reports' Filters (range, team, the reader's
    teams) and the context (None: both). ``viewer`` is whose visible requests the quoted notes
    may come from (None: any request, as for a lead)."""

    base: Filters
    context: str | None = None
    viewer: object = field(default=None, compare=False)


def parse_gap_filters(args, today, team_ids=None, viewer=None):
    """Read GapFilters from URL arguments (start, end, team, context); never raises: a bad
    value falls back to its default as ``parse_filters`` does, an unknown context to both."""
    context = str(args.get("context") or "").strip()
    return GapFilters(parse_filters(args, today, team_ids),
                      context if context in GAP_CONTEXTS else None, viewer)


def gap_filters_query(filters):
    """The URL arguments that reproduce ``filters`` (start, end, team, context)."""
    query = {name: value for name, value in filters_query(filters.base).items()
             if name in ("start", "end", "team")}
    if filters.context:
        query["context"] = filters.context
    return query


def _conditions(filters, period):
    """SQL conditions on PlatformGap: in the range, the reader's teams, the team, the context."""
    base = filters.base
    found = [period.contains(PlatformGap.created_at)]
    if base.team_ids is not None:
        found.append(PlatformGap.team_id.in_(base.team_ids) if base.team_ids else false())
    if base.team_id is not None:
        found.append(PlatformGap.team_id == base.team_id)
    if filters.context is not None:
        found.append(PlatformGap.context == filters.context)
    return found


def _period(filters, now):
    return period_of(filters.base, now, settings.current())


def _label(name, is_active):
    return name if is_active else f"{name} (retired)"


@dataclass
class CategoryRank:
    """One category's line of the ranking."""

    category_id: int
    name: str  # with "(retired)" when it is no longer offered
    count: int
    hours: float
    share: float | None  # of all the hours shown; None when they add up to nothing
    teams: list  # [(team name, hours, count)], most hours first, at most TEAMS_SHOWN
    notes: list  # the latest non-empty notes, newest first, at most NOTES_SHOWN

    @property
    def teams_text(self):
        """The teams most affected in one line, e.g. 'Marketing (12 h), Finance (4 h)'."""
        return ", ".join(f"{name} ({tidy_hours(hours)} h)" for name, hours, _ in self.teams)


def tidy_hours(value):
    """Hours to one decimal, without a trailing .0."""
    value = round(float(value or 0), 1)
    return int(value) if value.is_integer() else value


def _by_team(filters, period):
    """(category id, label, position, team id, team name, count, hours) rows: one statement."""
    if not period.days:
        return []
    return db.session.execute(
        select(PlatformGap.category_id, GapCategory.name, GapCategory.is_active,
               GapCategory.position, PlatformGap.team_id, Team.name, func.count(),
               func.sum(PlatformGap.hours))
        .join(GapCategory, GapCategory.id == PlatformGap.category_id)
        .join(Team, Team.id == PlatformGap.team_id)
        .where(*_conditions(filters, period))
        .group_by(PlatformGap.category_id, GapCategory.name, GapCategory.is_active,
                  GapCategory.position, PlatformGap.team_id, Team.name)).all()


def _categories_in_order(rows):
    """{category id: label}, most hours first (then most gaps, then the taxonomy's order),
    and {category id: (count, hours)}, from _by_team's rows."""
    totals, labels, positions = {}, {}, {}
    for category_id, name, is_active, position, _, _, count, hours in rows:
        count_, hours_ = totals.get(category_id, (0, 0.0))
        totals[category_id] = (count_ + count, hours_ + float(hours or 0))
        labels[category_id] = _label(name, is_active)
        positions[category_id] = (position, category_id)
    order = sorted(totals, key=lambda c: (-round(totals[c][1], 1), -totals[c][0], positions[c]))
    return {c: labels[c] for c in order}, totals


def _latest_notes(filters, period, category_ids):
    """{category id: [latest distinct notes]}: one statement (a window function numbers each
    category's notes, newest first). Notes come only from requests the viewer may see."""
    if not category_ids:
        return {}
    newest = func.row_number().over(partition_by=PlatformGap.category_id,
                                    order_by=(PlatformGap.created_at.desc(),
                                              PlatformGap.id.desc()))
    query = (select(PlatformGap.category_id, PlatformGap.note, newest.label("n"))
             .where(*_conditions(filters, period), PlatformGap.note != "",
                    PlatformGap.category_id.in_(category_ids)))
    if filters.viewer is not None:
        query = query.join(Request, Request.id == PlatformGap.request_id).where(
            visible_requests(filters.viewer))
    numbered = query.subquery("numbered")
    notes = {}
    # A few more than shown, so a note written twice is quoted once.
    for category_id, note, _ in db.session.execute(
            select(numbered).where(numbered.c.n <= NOTES_SHOWN * 3)
            .order_by(numbered.c.category_id, numbered.c.n)):
        quoted = notes.setdefault(category_id, [])
        if len(quoted) < NOTES_SHOWN and note not in quoted:
            quoted.append(note)
    return notes


def ranking(filters, now):
    """The categories ranked by analyst hours, then gaps: [CategoryRank]. Two statements (and
    the settings' timezone)."""
    period = _period(filters, now)
    rows = _by_team(filters, period)
    labels, totals = _categories_in_order(rows)
    notes = _latest_notes(filters, period, list(labels))
    all_hours = sum(hours for _, hours in totals.values())
    teams = {}
    for category_id, _, _, _, _, team_name, count, hours in rows:
        teams.setdefault(category_id, []).append((team_name, tidy_hours(hours), count))
    ranked = []
    for category_id, label in labels.items():
        count, hours = totals[category_id]
        affected = sorted(teams[category_id], key=lambda t: (-t[1], -t[2], t[0]))
        ranked.append(CategoryRank(
            category_id, label, count, tidy_hours(hours),
            round(hours / all_hours, 3) if all_hours else None, affected[:TEAMS_SHOWN],
            notes.get(category_id, [])))
    return ranked


@chart("ranking", "Platform gaps by cost",
       "Each bar is the analyst hours that what was missing cost: the top of the list is "
       "where a fix (data, access, training, documentation) saves the most work.")
def gap_ranking(spec, filters, now):
    """The categories ranked by the analyst hours their gaps cost, with their counts, share of
    the hours, the teams most affected and the latest notes."""
    ranked = ranking(filters, now)
    return spec.chart(
        type="bar", labels=[rank.name for rank in ranked],
        series=[Series("Analyst hours", [rank.hours for rank in ranked])],
        columns=["Category", "Gaps", "Analyst hours", "Share of hours", "Teams most affected",
                 "Latest notes"],
        rows=[[rank.name, rank.count, rank.hours, rank.share, rank.teams_text,
               " | ".join(rank.notes)] for rank in ranked],
        x_label="What was missing", y_label="Analyst hours",
        notes={"gaps": sum(rank.count for rank in ranked),
               "hours": tidy_hours(sum(rank.hours for rank in ranked))})


@chart("by_team", "Platform gaps per team",
       "Each bar is a team's analyst hours spent on what its people could not do themselves, "
       "stacked by what was missing.")
def gaps_by_team(spec, filters, now):
    """Analyst hours per team (most first), stacked by category; the table has the counts."""
    rows = _by_team(filters, _period(filters, now))
    labels, _ = _categories_in_order(rows)
    team_hours, team_names, cells = {}, {}, {}
    for category_id, _, _, _, team_id, team_name, count, hours in rows:
        team_hours[team_id] = team_hours.get(team_id, 0.0) + float(hours or 0)
        team_names[team_id] = team_name
        cells[category_id, team_id] = (count, tidy_hours(hours))
    teams = sorted(team_hours, key=lambda t: (-round(team_hours[t], 1), team_names[t]))
    return spec.chart(
        type="stacked_bar", labels=[team_names[t] for t in teams],
        series=[Series(label, [cells.get((c, t), (0, 0))[1] for t in teams],
                       {"category_id": c}) for c, label in labels.items()],
        columns=["Team", "Category", "Gaps", "Analyst hours"],
        rows=[[team_names[t], label, *cells[c, t]] for t in teams
              for c, label in labels.items() if (c, t) in cells],
        x_label="Team", y_label="Analyst hours")


@chart("by_week", "Platform gaps week by week",
       "Each bar is the analyst hours of the gaps recorded in a week, stacked by what was "
       "missing; a category that keeps coming back is worth fixing at the source.")
def gaps_by_week(spec, filters, now):
    """Analyst hours per ISO week of the range, stacked by category; the table has the
    counts."""
    period = _period(filters, now)
    recorded = (select(PlatformGap.category_id.label("category_id"),
                       period.week_index(PlatformGap.created_at).label("week"),
                       PlatformGap.hours.label("hours"))
                .where(*_conditions(filters, period)).subquery("recorded"))
    rows = db.session.execute(
        select(recorded.c.category_id, GapCategory.name, GapCategory.is_active,
               GapCategory.position, recorded.c.week, func.count(), func.sum(recorded.c.hours))
        .join(GapCategory, GapCategory.id == recorded.c.category_id)
        .group_by(recorded.c.category_id, GapCategory.name, GapCategory.is_active,
                  GapCategory.position, recorded.c.week)).all() if period.days else []
    labels, _ = _categories_in_order(
        [(c, name, active, position, None, None, count, hours)
         for c, name, active, position, _, count, hours in rows])
    weeks = period.week_labels()
    cells = {(c, week): (count, tidy_hours(hours)) for c, _, _, _, week, count, hours in rows
             if 0 <= week < len(weeks)}
    return spec.chart(
        type="stacked_bar", labels=weeks,
        series=[Series(label, [cells.get((c, i), (0, 0))[1] for i in range(len(weeks))],
                       {"category_id": c}) for c, label in labels.items()],
        columns=["Week of", "Category", "Gaps", "Analyst hours"],
        rows=[[week, label, *cells[c, i]] for i, week in enumerate(weeks)
              for c, label in labels.items() if (c, i) in cells],
        x_label="Week of", y_label="Analyst hours")


# key -> ChartSpec, in page order (the ranking is also the page's own table).
GAP_CHARTS = {spec.key: spec for spec in (gap_ranking, gaps_by_team, gaps_by_week)}
