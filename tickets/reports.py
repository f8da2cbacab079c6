"""Reports for leads: the data behind every chart of /reports, computed in SQL.

Each chart is a function ``chart(filters, now) -> Chart`` registered in ``CHARTS``. The page,
its JSON endpoints and its CSV exports all go through the registry, so a chart is defined once:
what it shows, how to read it, and its data as series (for the chart) and as a table (for the
table and the CSV). Figures are computed by the database (grouped counts, window functions over
the event history), never by looping over requests in Python, so a chart costs a constant number
of SQL statements whatever the number of requests.

(Skeleton: the chart functions are filled in by the reports work of issue 5.)
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

DEFAULT_WEEKS = 12  # the range shown when none is chosen
MAX_DAYS = 366 * 5  # the longest range a chart may cover


@dataclass(frozen=True)
class Filters:
    """What every chart can be narrowed by; all optional but the date range (inclusive)."""

    start: date
    end: date
    team_id: int | None = None
    analyst_id: int | None = None
    kind: str | None = None

    @classmethod
    def default(cls, today):
        """The last DEFAULT_WEEKS weeks up to ``today``."""
        return cls(start=today - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1), end=today)


@dataclass
class Series:
    """One line, bar group or point set of a chart."""

    name: str
    data: list  # numbers aligned with Chart.labels, or {"x": ..., "y": ...} points (scatter)
    extra: dict = field(default_factory=dict)  # e.g. {"status": "breached"} for colouring


@dataclass
class Chart:
    """A chart's data, ready for the page (series) and for the table and CSV (rows)."""

    key: str
    title: str
    how_to_read: str  # one line shown under the title
    type: str  # line, stacked_area, bar, stacked_bar, scatter
    labels: list  # x values (ISO dates or categories); empty for scatter
    series: list  # of Series
    columns: list  # table/CSV header
    rows: list  # table/CSV rows (lists of plain values)
    x_label: str = ""
    y_label: str = ""
    notes: dict = field(default_factory=dict)  # e.g. percentile lines: {"p50": 3.5, ...}

    def as_json(self):
        """The chart as plain JSON-able data (what the page's script draws)."""
        return {
            "key": self.key, "title": self.title, "how_to_read": self.how_to_read,
            "type": self.type, "labels": self.labels,
            "series": [{"name": s.name, "data": s.data, **s.extra} for s in self.series],
            "columns": self.columns, "rows": self.rows, "x_label": self.x_label,
            "y_label": self.y_label, "notes": self.notes,
        }


# key -> function(filters, now) -> Chart, in page order. Filled in by the chart functions below.
CHARTS = {}


def chart(key):
    """Register a chart function under ``key`` (decorator)."""

    def register(function):
        CHARTS[key] = function
        return function

    return register
