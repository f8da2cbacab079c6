"""A chart's period in SQL (tickets/reports/periods.py): whole seconds since 1970 of a stored
timestamp, however the database computes them."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import BigInteger, cast, func, literal_column, select

from tickets.extensions import db
from tickets.models import Event
from tickets.reports.periods import Epoch

# Whole milliseconds: SQLite reads a timestamp to the millisecond (so do both its functions).
INSTANTS = [datetime(2000, 1, 1, tzinfo=UTC),
            datetime(2026, 3, 29, 0, 59, 59, 999000, tzinfo=UTC),
            datetime(2026, 3, 29, 1, 0, 0, 1000, tzinfo=UTC),
            datetime(2199, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)]
# And finer: both SQLite functions round alike.
FINER = [datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),
         datetime(2026, 3, 29, 0, 59, 59, 999400, tzinfo=UTC)]


@pytest.mark.parametrize("instant", INSTANTS)
def test_epoch_is_the_whole_seconds_of_a_stored_timestamp(app, make, instant):
    team = make.team("Finance")
    request_id = make.request(make.user("requester", teams=[team]), team)
    with app.app_context():
        db.session.add(Event(request_id=request_id, kind="comment", created_at=instant))
        db.session.flush()
        found = db.session.execute(select(Epoch(Event.created_at))
                                   .where(Event.created_at == instant)).scalar_one()
        db.session.rollback()
    assert found == int(instant.timestamp())


def test_on_sqlite_unixepoch_and_strftime_agree(app, make):
    """Epoch compiles to unixepoch() where SQLite has it: the same seconds as strftime('%s')."""
    team = make.team("Finance")
    request_id = make.request(make.user("requester", teams=[team]), team)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        for instant in INSTANTS + FINER:
            db.session.add(Event(request_id=request_id, kind="comment", created_at=instant))
        db.session.flush()
        rows = db.session.execute(select(
            Epoch(Event.created_at),
            cast(func.strftime(literal_column("'%s'"), Event.created_at), BigInteger))
            .where(Event.kind == "comment")).all()
        db.session.rollback()
    assert len(rows) == len(INSTANTS + FINER)
    assert all(epoch == seconds for epoch, seconds in rows)
