"""Charts' figures kept in a real Redis, shared by workers (REPORT_CACHE_URL; issue 15).

Two apps built by create_app stand for two worker processes. Redis must answer at
TEST_REDIS_URL (default database 15 of the local server; .ci/run starts it): these tests fail,
never skip, when it does not.
"""
import pytest

from tests.conftest import REDIS_URL
from tests.smtp import free_port
from tests.test_reports_page import _flow_total, _history, lead_browser


@pytest.fixture
def desk(make):
    """What ``_history`` makes requests with: Marketing, its requester and analyst, a lead."""
    marketing = make.team("Marketing")
    return {"marketing": marketing, "requester": make.user("requester", teams=[marketing]),
            "analyst": make.user("analyst", teams=[marketing]), "lead": make.user("lead")}


def worker(make_app, desk, **config):
    return lead_browser(make_app, desk, REPORT_CACHE_SECONDS=60, **config)


def test_workers_share_the_figures_kept_in_redis(make_app, make, desk, redis_prefix):
    first = worker(make_app, desk, REPORT_CACHE_URL=REDIS_URL, REPORT_CACHE_PREFIX=redis_prefix + ":")
    second = worker(make_app, desk, REPORT_CACHE_URL=REDIS_URL, REPORT_CACHE_PREFIX=redis_prefix + ":")
    _history(make, desk, 1)
    figures = _flow_total(first)
    _history(make, desk, 1)
    assert _flow_total(second) == figures == (1, figures[1])  # the first worker's, as of then
    assert figures[1] is not None
    # Another installation (another prefix) on the same Redis computes its own.
    other = worker(make_app, desk, REPORT_CACHE_URL=REDIS_URL,
                   REPORT_CACHE_PREFIX=redis_prefix + ":other:")
    assert _flow_total(other)[0] == 2


def test_a_redis_that_is_down_costs_the_kept_figures_not_the_chart(make_app, make, desk):
    browser = worker(make_app, desk, REPORT_CACHE_URL=f"redis://127.0.0.1:{free_port()}/0")
    _history(make, desk, 1)
    assert _flow_total(browser)[0] == 1
    _history(make, desk, 1)
    assert _flow_total(browser)[0] == 2  # computed again: nothing could be kept
    export = browser.get("/reports/cumulative_flow.csv")  # streamed: read to its end
    assert export.status_code == 200 and export.get_data(as_text=True).count("\n") > 1
