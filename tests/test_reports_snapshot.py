"""Every test of tests/test_reports.py again, with the flow snapshot kept by the flush hook
from the start of each test (reports/snapshot.py), so cumulative flow and backlog by team are
read from it wherever it serves them: the figures computed by hand must not change."""
import pytest

from tests import test_reports
from tickets.extensions import db
from tickets.reports import snapshot

globals().update({name: value for name, value in vars(test_reports).items()
                  if name.startswith("test_") or name in ("desk", "story", "history")})


@pytest.fixture(autouse=True)
def _snapshot_kept_by_the_hook(app):
    """An empty snapshot for the settings' timezone: the hook fills it as the test writes."""
    with app.app_context():
        snapshot.rebuild()
        db.session.commit()
