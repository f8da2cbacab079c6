"""What a chart is: its figures (Chart, Series) and its definition in the registry (ChartSpec)."""
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable

from ..extensions import cache

_log = logging.getLogger(__name__)


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
    as_of: datetime | None = None  # when the figures were computed (``computed``)

    def as_json(self):
        """The chart as plain JSON-able data (what the page's script draws)."""
        return {
            "key": self.key, "title": self.title, "how_to_read": self.how_to_read,
            "type": self.type, "labels": self.labels,
            "series": [{"name": s.name, "data": s.data, **s.extra} for s in self.series],
            "columns": self.columns, "rows": self.rows, "x_label": self.x_label,
            "y_label": self.y_label, "notes": self.notes,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }


@dataclass(frozen=True)
class ChartSpec:
    """A chart of the registry: the title and the line on how to read it that its card shows
    before its figures arrive (and without JavaScript), and the function computing them.

    Calling it, ``spec(filters, now)``, computes the Chart; ``compute(spec, filters, now)``
    builds it with ``spec.chart(...)``, so the title is written once.
    """

    key: str
    title: str
    how_to_read: str
    compute: Callable

    def __call__(self, filters, now):
        return self.compute(self, filters, now)

    def chart(self, **fields):
        """A Chart with this spec's key, title and how_to_read (unless ``fields`` give one)."""
        fields.setdefault("how_to_read", self.how_to_read)
        return Chart(key=self.key, title=self.title, **fields)


def chart(key, title, how_to_read):
    """Define a chart: make ``compute(spec, filters, now) -> Chart`` a ChartSpec (decorator)."""

    def define(compute):
        return ChartSpec(key, title, how_to_read, compute)

    return define


def computed(spec, filters, now):
    """``spec(filters, now)`` as of ``now``, or the same chart computed for equal ``filters`` in
    this process at most REPORT_CACHE_SECONDS ago (its ``as_of`` says when).

    The filters hold everything a chart depends on besides the moment, who asks included (an
    analyst's ``team_ids``), so two people with the same filters share the figures, and two
    with different teams never do.
    """
    key = f"chart:{spec.key}:{filters!r}"
    try:
        found = cache.get(key)
    except Exception:  # a store that is down (Redis) costs the minute's figures, not the page
        _log.warning("The chart cache could not be read: %s is computed", spec.key,
                     exc_info=True)
        found = None
    if found is None:
        found = replace(spec(filters, now), as_of=now)
        try:
            cache.set(key, found)
        except Exception:
            _log.warning("The chart cache could not be written", exc_info=True)
    return found
