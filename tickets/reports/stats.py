"""Percentiles: the one definition every page, digest, forecast and benchmark uses.

A percentile is interpolated between ranks as PostgreSQL's ``percentile_cont`` does: the
``share`` percentile of n sorted numbers lies at position ``share * (n - 1)``, between the two
numbers around it. On PostgreSQL the charts let the database compute it (``percentiles``);
everywhere else, SQLite included, ``percentile`` computes the same number in Python.
"""
import math

from sqlalchemy import func, select

from ..extensions import db

# The percentiles the charts report, by the name their notes give them.
PERCENTILES = {"p50": 0.5, "p85": 0.85, "p95": 0.95}


def percentile(sorted_values, share):
    """Return the ``share`` (0 to 1) percentile of ``sorted_values``, interpolated between
    ranks as ``percentile_cont`` does; None when there are no values."""
    if not sorted_values:
        return None
    position = share * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def rounded(value, digits=2):
    """``value`` as a float rounded to ``digits`` (None stays None)."""
    return None if value is None else round(float(value), digits)


def percentiles(subquery, names):
    """Return {name: {"p50": ..., "p85": ..., "p95": ...}} of the columns ``names`` of
    ``subquery`` (None where there are no numbers), in one statement. PostgreSQL computes them
    with ``percentile_cont``; SQLite has none, so there the columns' numbers are fetched, sorted
    and given to ``percentile``."""
    result = {}
    if db.session.get_bind().dialect.name == "postgresql":
        columns = [func.percentile_cont(share).within_group(subquery.c[name])
                   for name in names for share in PERCENTILES.values()]
        values = iter(db.session.execute(select(*columns)).one())
        for name in names:
            result[name] = {key: rounded(next(values)) for key in PERCENTILES}
        return result
    # Through the connection: the ORM's result machinery costs as much as SQLite's own work
    # for the tens of thousands of numbers of five years.
    rows = db.session.connection().execute(
        select(*(subquery.c[name] for name in names))).all()
    for index, name in enumerate(names):
        ordered = sorted(row[index] for row in rows if row[index] is not None)
        result[name] = {key: rounded(percentile(ordered, share))
                        for key, share in PERCENTILES.items()}
    return result
