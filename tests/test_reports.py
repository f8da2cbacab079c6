"""The chart data of /reports (tickets/reports/): every figure computed by hand from a small
history built at exact instants, every filter, empty ranges, local days across a DST change,
and a constant number of SQL statements whatever the number of requests.

The calendar is the default one (UTC, Monday to Friday, 09:00-17:00) unless a test changes it.
Day 0 is Monday 2 March 2026.
"""
import json
import random
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from werkzeug.datastructures import MultiDict

from tests.conftest import count_sql, intake_fields
from tickets import intake, lifecycle, reports, settings
from tickets.extensions import db
from tickets.models import CLOSED_STATES, STATES, Event, Request, Team, User

DAY0 = date(2026, 3, 2)  # a Monday


def at(day, hour=0, minute=0):
    """An instant of March 2026 in UTC: at(0, 10) is Monday 2 March, 10:00."""
    return datetime.combine(DAY0 + timedelta(days=day), time(hour, minute), tzinfo=UTC)


def day(n):
    return DAY0 + timedelta(days=n)


@pytest.fixture
def desk(make):
    """Finance and Marketing, a requester in each, an analyst in each, and a lead."""
    finance = make.team("Finance")
    marketing = make.team("Marketing")
    return SimpleNamespace(
        finance=finance, marketing=marketing,
        requester=make.user("requester", teams=[finance], name="Rita Requester"),
        marketer=make.user("requester", teams=[marketing], name="Max Marketer"),
        analyst=make.user("analyst", teams=[finance], name="Ana Analyst"),
        analyst2=make.user("analyst", teams=[marketing], name="Bo Analyst"),
        lead=make.user("lead", name="Leo Lead"),
    )


class Story:
    """Builds request histories at exact instants, each step committed."""

    def __init__(self, app, desk):
        self.app, self.desk = app, desk

    def submit(self, when, requester=None, team=None, **fields):
        # High impact and no deadline: 6 points, the standard SLA class, whatever the date.
        fields = {"business_impact": 4, "deadline": None, "kind": "ad_hoc", **fields}
        with self.app.app_context():
            user = db.session.get(User, requester or self.desk.requester)
            created = intake.submit_request(
                user, intake_fields(team or self.desk.finance, **fields), now=when,
                today=when.date())
            db.session.commit()
            return created.id

    def step(self, request_id, name, who, when, **inputs):
        """Take transition ``name`` as user id ``who`` at ``when``, with its usual inputs."""
        defaults = {"accept": {"size": "M"}, "approve": {"size": "M"},
                    "ask": {"note": "Which regions?"}, "answer": {"note": "All of them."},
                    "block": {"note": "Waiting for access."},
                    "deliver": {"url": "https://bi.example.com/1", "note": "Here it is."},
                    "reopen": {"note": "The totals are wrong."},
                    "decline": {"reason": "out_of_scope", "note": "Not ours."}}
        inputs = {**defaults.get(name, {}), **inputs}
        with self.app.app_context():
            req = db.session.get(Request, request_id)
            if "assignee" in inputs:
                inputs["assignee"] = db.session.get(User, inputs["assignee"])
            lifecycle.transition(req, name, db.session.get(User, who), when, **inputs)
            db.session.commit()


@pytest.fixture
def story(app, desk):
    return Story(app, desk)


@pytest.fixture
def history(story, desk):
    """Six requests over the first two weeks of March 2026 (day 0 is Monday 2 March):

    A  Finance, ad hoc: submitted d0 10:00, accepted d0 14:00, claimed by Ana d1 10:00,
       delivered d3 10:00, reopened d4 10:00, delivered again d5 10:00, confirmed d6 10:00.
    B  Finance: submitted d1 10:00, asked d1 12:00, waits in needs_info until answered
       d8 10:00, accepted d8 11:00 (still accepted).
    C  Marketing, project: submitted d2 09:00, accepted d2 10:00, assigned to Bo d2 11:00,
       delivered d9 11:00, confirmed d10 10:00.
    D  Finance: submitted d3 10:00, declined as self-serve d3 12:00.
    E  Finance: submitted d4 10:00, cancelled d5 10:00.
    F  Finance, data issue: submitted d8 09:00 (still submitted).
    """
    d = desk
    a = story.submit(at(0, 10))
    story.step(a, "accept", d.lead, at(0, 14))
    story.step(a, "claim", d.analyst, at(1, 10))
    story.step(a, "deliver", d.analyst, at(3, 10))
    story.step(a, "reopen", d.requester, at(4, 10))
    story.step(a, "deliver", d.analyst, at(5, 10))
    story.step(a, "confirm", d.requester, at(6, 10))
    b = story.submit(at(1, 10))
    story.step(b, "ask", d.lead, at(1, 12))
    c = story.submit(at(2, 9), requester=d.marketer, team=d.marketing, kind="project")
    story.step(c, "accept", d.lead, at(2, 10))
    story.step(c, "assign", d.lead, at(2, 11), assignee=d.analyst2)
    dd = story.submit(at(3, 10))
    story.step(dd, "decline", d.lead, at(3, 12), reason="self_serve",
               url="https://bi.example.com/churn")
    e = story.submit(at(4, 10))
    story.step(e, "cancel", d.requester, at(5, 10))
    f = story.submit(at(8, 9), kind="data_issue")
    story.step(b, "answer", d.requester, at(8, 10))
    story.step(b, "accept", d.lead, at(8, 11))
    story.step(c, "deliver", d.analyst2, at(9, 11))
    story.step(c, "confirm", d.marketer, at(10, 10))
    return SimpleNamespace(a=a, b=b, c=c, d=dd, e=e, f=f)


def draw(app, key, filters, now):
    """Compute chart ``key`` as the page would."""
    with app.app_context():
        return reports.CHARTS[key](filters, now)


def statements_of(app, key, filters, now):
    """How many SQL statements chart ``key`` runs."""
    return count_sql(app, lambda: reports.CHARTS[key](filters, now))[0]


def weeks(first=0, last=13, **fields):
    """Filters for days ``first`` to ``last`` (default: the first two weeks of March)."""
    return reports.Filters(start=day(first), end=day(last), **fields)


def series(chart):
    return {s.name: s.data for s in chart.series}


def on(chart, label):
    """{series name: value} at x label ``label``."""
    index = chart.labels.index(label)
    return {s.name: s.data[index] for s in chart.series}


LATER = at(30, 12)


# --- The registry -------------------------------------------------------------------------

def test_the_registry_holds_the_nine_charts_in_page_order():
    assert list(reports.CHARTS) == [
        "cumulative_flow", "backlog_by_team", "demand_by_team", "ageing_wip", "throughput",
        "lead_time", "sla_attainment", "ad_hoc_vs_planned", "closures"]


def test_every_chart_is_plain_json_with_a_title_a_way_to_read_it_and_a_table(
        app, history):
    for key in reports.CHARTS:
        chart = draw(app, key, weeks(), LATER)
        data = json.loads(json.dumps(chart.as_json()))
        assert data["key"] == key and data["title"] and data["how_to_read"]
        assert data["type"] in ("line", "stacked_area", "bar", "stacked_bar", "scatter")
        assert data["columns"] and all(len(row) == len(data["columns"])
                                       for row in data["rows"])
        if chart.type != "scatter":
            assert all(len(s["data"]) == len(data["labels"]) for s in data["series"])


# --- Cumulative flow ----------------------------------------------------------------------

def test_cumulative_flow_counts_each_open_state_at_the_end_of_each_past_day(app, history):
    chart = draw(app, "cumulative_flow", weeks(1, 9), LATER)
    assert chart.labels == [day(n).isoformat() for n in range(1, 10)]
    zero = dict.fromkeys((STATES[s] for s in reports.FLOW_STATES), 0)
    # Day 1: A, accepted before the range started, is claimed; B waits for an answer.
    assert on(chart, "2026-03-03") == {**zero, "In progress": 1, "Needs info": 1}
    assert on(chart, "2026-03-04") == {**zero, "In progress": 2, "Needs info": 1}
    # Day 3: A delivered; D submitted and declined the same day leaves no trace.
    assert on(chart, "2026-03-05") == {**zero, "Delivered": 1, "In progress": 1,
                                       "Needs info": 1}
    # Day 4: A reopened, E submitted.
    assert on(chart, "2026-03-06") == {**zero, "Submitted": 1, "In progress": 2,
                                       "Needs info": 1}
    assert on(chart, "2026-03-07") == {**zero, "Delivered": 1, "In progress": 1,
                                       "Needs info": 1}
    # Day 8: B answered and accepted, F submitted; A closed on day 6.
    assert on(chart, "2026-03-10") == {**zero, "Submitted": 1, "Accepted": 1,
                                       "In progress": 1}
    assert on(chart, "2026-03-11") == {**zero, "Submitted": 1, "Accepted": 1, "Delivered": 1}
    assert chart.series[0].name == "Delivered"  # the bottom band first
    assert chart.rows[3] == ["2026-03-06", 1, 1, 0, 0, 2, 0, 0]
    assert chart.columns == ["Day", "Submitted", "Needs info", "Waitlisted", "Accepted",
                             "In progress", "Blocked", "Delivered"]


def test_cumulative_flow_of_a_past_day_does_not_change_with_later_events(app, history, story,
                                                                        desk):
    before = draw(app, "cumulative_flow", weeks(1, 9), LATER).rows
    story.step(history.b, "claim", desk.analyst, at(20, 9))
    assert draw(app, "cumulative_flow", weeks(1, 9), LATER).rows == before


def test_cumulative_flow_stops_at_now(app, history):
    chart = draw(app, "cumulative_flow", weeks(1, 9), at(4, 9))
    assert chart.labels[-1] == "2026-03-06"
    # At 09:00 on day 4, A is not reopened yet and E not submitted.
    assert on(chart, "2026-03-06") == {**dict.fromkeys(chart.columns[1:], 0), "Delivered": 1,
                                       "In progress": 1, "Needs info": 1}


def test_cumulative_flow_carries_states_from_before_the_range_and_forgets_closed_requests(
        app, history):
    # From day 7: A, D and E closed before it; B waits in needs_info since day 1, C is in
    # progress since day 2.
    chart = draw(app, "cumulative_flow", weeks(7, 10), LATER)
    zero = dict.fromkeys(chart.columns[1:], 0)
    assert on(chart, "2026-03-09") == {**zero, "Needs info": 1, "In progress": 1}
    assert on(chart, "2026-03-10") == {**zero, "Submitted": 1, "Accepted": 1, "In progress": 1}
    assert on(chart, "2026-03-11") == {**zero, "Submitted": 1, "Accepted": 1, "Delivered": 1}
    assert on(chart, "2026-03-12") == {**zero, "Submitted": 1, "Accepted": 1}


def test_cumulative_flow_filters_by_current_assignee_kind_and_teams(app, history, desk):
    def flow(**fields):
        return series(draw(app, "cumulative_flow", weeks(1, 9, **fields), LATER))

    # Ana is A's assignee now: A's whole history counts, from before she claimed it.
    ana = flow(analyst_id=desk.analyst)
    assert ana["In progress"] == [1, 1, 0, 1, 0, 0, 0, 0, 0]
    assert ana["Delivered"] == [0, 0, 1, 0, 1, 0, 0, 0, 0]
    assert ana["Needs info"] == ana["Accepted"] == ana["Submitted"] == [0] * 9
    assert flow(kind="project") == flow(team_id=desk.marketing)
    assert all(data == [0] * 9 for data in flow(team_ids=()).values())
    everything, finance = flow(), flow(team_ids=(desk.finance,))
    marketing = flow(team_ids=(desk.finance, desk.marketing), team_id=desk.marketing)
    assert marketing == flow(team_id=desk.marketing)
    for name, data in everything.items():
        assert data == [f + m for f, m in zip(finance[name], marketing[name], strict=True)]


def _local_day_counts(app, zone, days, now):
    """The expected cumulative flow: each request's state replayed from its events at each
    local midnight, in Python."""
    with app.app_context():
        events = db.session.execute(
            db.select(Event.request_id, Event.to_state, Event.created_at)
            .where(Event.kind.in_(("created", "transition"))).order_by(Event.id)).all()
    expected = []
    for local_day in days:
        end = min(now, datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone)
                  .astimezone(UTC))
        states = {}
        for request_id, to_state, created_at in events:
            if created_at < end:
                states[request_id] = to_state
        expected.append([local_day.isoformat(), *(
            sum(1 for state in states.values() if state == flow)
            for flow in reports.FLOW_STATES)])
    return expected


def test_cumulative_flow_puts_events_in_the_local_days_of_the_settings_timezone(app, story,
                                                                             desk):
    with app.app_context():
        settings.update({"timezone": "Europe/Berlin"}, None, at(0))
        db.session.commit()
    # Summer time starts on Sunday 29 March 2026 at 01:00 UTC. 23:30 UTC on the 28th is
    # 00:30 on the 29th in Berlin; 22:30 UTC on the 29th is 00:30 on the 30th.
    story.submit(datetime(2026, 3, 28, 23, 30, tzinfo=UTC))
    story.submit(datetime(2026, 3, 29, 22, 30, tzinfo=UTC))
    story.submit(datetime(2026, 3, 29, 21, 59, tzinfo=UTC))  # 23:59 on the 29th
    filters = reports.Filters(start=date(2026, 3, 28), end=date(2026, 3, 30))
    chart = draw(app, "cumulative_flow", filters, LATER)
    assert series(chart)["Submitted"] == [0, 2, 3]


def test_cumulative_flow_matches_a_replay_of_random_histories_across_summer_time(
        app, story, desk, make):
    """Thirty random histories around the DST change, checked day by day against a replay
    of their events in Python."""
    with app.app_context():
        settings.update({"timezone": "Europe/Berlin"}, None, at(0))
        db.session.commit()
    make.wip_limit(desk.lead, 50)
    rng = random.Random(5)
    moves = {
        "submitted": [("accept", desk.lead), ("ask", desk.lead), ("decline", desk.lead),
                      ("cancel", desk.requester)],
        "needs_info": [("answer", desk.requester)],
        "accepted": [("claim", desk.lead), ("ask", desk.lead)],
        "in_progress": [("deliver", desk.lead), ("block", desk.lead)],
        "blocked": [("unblock", desk.lead)],
        "delivered": [("confirm", desk.requester), ("reopen", desk.requester)],
    }
    for _ in range(30):
        when = datetime(2026, 3, 22, tzinfo=UTC) + timedelta(minutes=rng.randrange(14 * 1440))
        request_id = story.submit(when)
        state = "submitted"
        for _ in range(rng.randrange(7)):
            if state not in moves:
                break
            name, who = rng.choice(moves[state])
            when += timedelta(minutes=rng.randrange(30, 48 * 60))
            story.step(request_id, name, who, when)
            state = make.state(request_id)
    zone = ZoneInfo("Europe/Berlin")
    filters = reports.Filters(start=date(2026, 3, 24), end=date(2026, 4, 12))
    now = datetime(2026, 4, 10, 15, 17, tzinfo=UTC)  # the range ends after today
    chart = draw(app, "cumulative_flow", filters, now)
    days = [date(2026, 3, 24) + timedelta(days=n) for n in range(18)]
    assert chart.rows == _local_day_counts(app, zone, days, now)


# --- Backlog and demand -------------------------------------------------------------------

def test_backlog_by_team_counts_open_requests_at_the_end_of_each_week(app, history):
    # The range starts on a Thursday: requests submitted before it still count.
    chart = draw(app, "backlog_by_team", weeks(3, 13), LATER)
    assert chart.labels == ["2026-03-02", "2026-03-09"]
    # Week 1 ends: A resolved, D declined, E cancelled; B (Finance) and C (Marketing) open.
    # Week 2 ends: C resolved; B and F (Finance) open.
    assert series(chart) == {"Finance": [1, 2], "Marketing": [1, 0]}
    assert chart.rows == [["2026-03-02", "Finance", 1], ["2026-03-02", "Marketing", 1],
                          ["2026-03-09", "Finance", 2], ["2026-03-09", "Marketing", 0]]


def test_demand_by_team_counts_requests_submitted_per_iso_week(app, history):
    chart = draw(app, "demand_by_team", weeks(), LATER)
    assert chart.type == "stacked_bar"
    assert series(chart) == {"Finance": [4, 1], "Marketing": [1, 0]}
    # The range cuts the first week: only days 3 to 13 count.
    assert series(draw(app, "demand_by_team", weeks(3, 13), LATER)) == {"Finance": [2, 1]}


# --- Ageing WIP ---------------------------------------------------------------------------

def test_ageing_wip_shows_every_open_request_by_state_and_age(app, history):
    now = at(12, 12)  # Saturday 14 March, noon
    chart = draw(app, "ageing_wip", weeks(), now)
    assert chart.type == "scatter"
    assert chart.labels == [STATES[s] for s in reports.FLOW_STATES]
    points = {p["id"]: (p, s.extra["status"]) for s in chart.series for p in s.data}
    assert set(points) == {history.b, history.f}
    b, _ = points[history.b]
    f, _ = points[history.f]
    assert b["y"] == round((now - at(1, 10)).total_seconds() / 86400, 2) == 11.08
    assert f["y"] == 4.12
    accepted, submitted = reports.FLOW_STATES.index("accepted"), 0
    assert abs(b["x"] - accepted) <= 0.25 and abs(f["x"] - submitted) <= 0.25
    # The jitter is the same on every draw.
    assert draw(app, "ageing_wip", weeks(), now).series == chart.series
    # Oldest first in the table.
    assert [row[0] for row in chart.rows] == [history.b, history.f]
    assert chart.rows[0][2] == "Accepted"


def test_ageing_wip_colours_points_by_sla_status(app, story, desk):
    # Standard class: first response within 8 business hours, at risk from 6.
    fresh = story.submit(at(0, 9))
    waiting = story.submit(at(0, 13))
    asked = story.submit(at(0, 9))
    story.step(asked, "ask", desk.lead, at(0, 10))
    delivered = story.submit(at(0, 9))
    story.step(delivered, "accept", desk.lead, at(0, 9, 30))
    story.step(delivered, "claim", desk.lead, at(0, 10))
    story.step(delivered, "deliver", desk.lead, at(0, 11))

    def statuses(now):
        chart = draw(app, "ageing_wip", weeks(), now)
        return {point["id"]: s.extra["status"] for s in chart.series for point in s.data}

    assert statuses(at(0, 15, 30)) == {fresh: "at_risk", waiting: "on_track", asked: "paused",
                                       delivered: "stopped"}
    assert statuses(at(1, 17, 30)) == {fresh: "breached", waiting: "breached",
                                       asked: "paused", delivered: "stopped"}
    chart = draw(app, "ageing_wip", weeks(), at(0, 15, 30))
    assert [s.name for s in chart.series] == ["At risk", "On track", "Paused", "Stopped"]


def test_ageing_wip_notes_cycle_time_percentiles_of_the_range(app, history):
    chart = draw(app, "ageing_wip", weeks(), at(12, 12))
    # Cycle times: A claimed d1 10:00, delivered d5 10:00 (4 days); C assigned d2 11:00,
    # delivered d9 11:00 (7 days). Interpolated: 4 + 3 * 0.5, 4 + 3 * 0.85, 4 + 3 * 0.95.
    assert {k: chart.notes[k] for k in ("p50", "p85", "p95")} == {
        "p50": 5.5, "p85": 6.55, "p95": 6.85}
    assert chart.notes["capped"] is False and chart.notes["total"] == 2


def test_ageing_wip_caps_its_points_at_the_oldest(app, history, monkeypatch):
    monkeypatch.setattr(reports.ageing, "AGEING_CAP", 1)
    chart = draw(app, "ageing_wip", weeks(), at(12, 12))
    assert [row[0] for row in chart.rows] == [history.b]
    assert chart.notes["capped"] is True
    assert (chart.notes["shown"], chart.notes["total"]) == (1, 2)
    assert "Showing the 1 oldest of 2." in chart.how_to_read


def test_ageing_wip_hides_the_titles_of_confidential_requests(app, story):
    story.submit(at(0, 9), is_confidential=True, title="Layoff costs")
    chart = draw(app, "ageing_wip", weeks(), at(1, 9))
    assert chart.rows[0][1] == "(confidential)"
    assert "Layoff" not in json.dumps(chart.as_json())


# --- Throughput and lead time -------------------------------------------------------------

def test_throughput_counts_deliveries_per_week_at_their_last_delivery(app, history):
    chart = draw(app, "throughput", weeks(), LATER)
    assert series(chart) == {"Delivered": [1, 1]}  # A (delivered twice in week 1), C
    assert chart.rows == [["2026-03-02", 1], ["2026-03-09", 1]]


def test_lead_time_buckets_lead_and_cycle_time_of_deliveries_in_the_range(app, history):
    chart = draw(app, "lead_time", weeks(), LATER)
    assert chart.labels == ["0\u20131 days", "1\u20132 days", "2\u20135 days", "5\u201310 days",
                            "10\u201320 days", "20\u201340 days", "40+ days"]
    # A: lead 5 days (d0 10:00 to d5 10:00), cycle 4; C: lead 7 d 2 h, cycle 7.
    assert series(chart) == {"Lead time": [0, 0, 0, 2, 0, 0, 0],
                             "Cycle time": [0, 0, 1, 1, 0, 0, 0]}
    lead_c = 7 + 2 / 24
    assert chart.notes["lead_time_p50"] == round(5 + (lead_c - 5) * 0.5, 2) == 6.04
    assert chart.notes["lead_time_p85"] == round(5 + (lead_c - 5) * 0.85, 2)
    assert chart.notes["cycle_time_p95"] == 6.85
    assert chart.notes["delivered"] == 2


def test_lead_time_percentiles_interpolate_between_ranks(app, story, desk):
    for n, days in enumerate((1, 2, 3, 4, 10)):
        request_id = story.submit(at(0, 9, n))
        story.step(request_id, "accept", desk.lead, at(0, 10))
        story.step(request_id, "claim", desk.analyst, at(0, 11))
        story.step(request_id, "deliver", desk.analyst, at(days, 9, n))
    chart = draw(app, "lead_time", weeks(), LATER)
    # Ranks 0..4 of [1, 2, 3, 4, 10]: p50 at 2 -> 3; p85 at 3.4 -> 4 + 0.4 * 6;
    # p95 at 3.8 -> 4 + 0.8 * 6.
    assert (chart.notes["lead_time_p50"], chart.notes["lead_time_p85"],
            chart.notes["lead_time_p95"]) == (3.0, 6.4, 8.8)
    assert series(chart)["Lead time"] == [0, 1, 3, 0, 1, 0, 0]  # 1 | 2, 3, 4 | 10


@pytest.mark.parametrize("values, share, expected", [
    ([], 0.5, None),
    ([7], 0.95, 7),
    ([6, 7], 0.5, 6.5),  # 6 + 0.5 x (7 - 6)
    ([6, 7], 0.85, 6 + 0.85),
    ([1, 2, 3, 4], 0.5, 2.5),  # position 1.5: halfway from 2 to 3
    ([1, 2, 3, 4, 10], 0.95, 4 + 0.8 * 6),  # position 3.8
    ([1, 2, 3, 4, 10], 1, 10),
    ([1, 2, 3, 4, 10], 0, 1),
])
def test_percentile_interpolates_between_ranks_as_percentile_cont(values, share, expected):
    assert reports.stats.percentile(values, share) == pytest.approx(expected)


# --- SLA attainment -----------------------------------------------------------------------

def test_sla_attainment_counts_clock_pauses_out(app, story, desk):
    """Standard class: first response within 8 business hours, resolution within 80."""
    paused = story.submit(at(0, 9))
    story.step(paused, "ask", desk.lead, at(0, 10))  # responded after 1 h
    story.step(paused, "answer", desk.requester, at(14, 9))  # paused for two weeks
    story.step(paused, "accept", desk.lead, at(14, 9, 30))
    story.step(paused, "claim", desk.analyst, at(14, 10))
    story.step(paused, "deliver", desk.analyst, at(16, 17))  # 1 h + 3 days of 8 h = 25 h
    straight = story.submit(at(0, 9))
    story.step(straight, "accept", desk.lead, at(0, 9, 30))  # responded after 30 min
    story.step(straight, "claim", desk.lead, at(0, 10))
    story.step(straight, "deliver", desk.lead, at(16, 17))  # 13 days of 8 h = 104 h: late
    slow = story.submit(at(0, 9))
    story.step(slow, "accept", desk.lead, at(2, 10))  # 2 days and 1 h = 17 h: late
    with app.app_context():
        stored = {r.id: (r.sla_class, r.first_response_seconds, r.resolution_seconds)
                  for r in db.session.scalars(db.select(Request))}
    assert stored[paused] == ("standard", 3600, 25 * 3600)
    assert stored[straight][2] == 104 * 3600
    chart = draw(app, "sla_attainment", weeks(0, 20), LATER)
    assert chart.labels == ["2026-03-02", "2026-03-09", "2026-03-16"]
    assert series(chart) == {"First response, standard": [66.7, None, None],
                             "Resolution, standard": [None, None, 50.0]}
    assert chart.rows == [["2026-03-02", "Standard", "Finance", 2, 3, 0, 0],
                          ["2026-03-16", "Standard", "Finance", 0, 0, 1, 2]]


def test_sla_attainment_uses_each_class_target(app, story, desk):
    with app.app_context():
        settings.update({"sla_targets": {
            "high": {"first_response_hours": 1, "resolution_hours": 10},
            "standard": {"first_response_hours": 8, "resolution_hours": 80},
            "low": {"first_response_hours": 16, "resolution_hours": 160}}}, None, at(0))
        db.session.commit()
    high = story.submit(at(0, 9), business_impact=5, deadline=day(2))  # 8 + 7 points
    story.step(high, "accept", desk.lead, at(0, 11))  # 2 h: late for high
    standard = story.submit(at(0, 9))
    story.step(standard, "accept", desk.lead, at(0, 11))  # 2 h: in time for standard
    chart = draw(app, "sla_attainment", weeks(), LATER)
    assert series(chart) == {"First response, high": [0.0, None],
                             "First response, standard": [100.0, None]}


# --- Ad-hoc vs planned, how requests closed -----------------------------------------------

def test_ad_hoc_vs_planned_shows_deliveries_by_kind_against_the_budget(app, history, desk):
    with app.app_context():
        settings.set_team_budget(db.session.get(Team, desk.finance), 3, None, at(0))
        db.session.commit()
    chart = draw(app, "ad_hoc_vs_planned", weeks(), LATER)
    assert chart.labels == ["Finance", "Marketing"]
    assert series(chart) == {"Ad-hoc": [1, 0], "Project": [0, 1], "Data issue": [0, 0]}
    assert chart.rows == [["Finance", 1, 0, 0, 1, 6.0], ["Marketing", 0, 1, 0, 1, None]]
    assert chart.notes == {"weeks": 2.0}


def test_closures_show_closed_requests_by_how_they_ended_and_the_reopen_rate(app, history):
    chart = draw(app, "closures", weeks(), LATER)
    counts = dict(zip(chart.labels, chart.series[0].data))
    assert counts == {
        "Resolved": 2, "Declined: self-serve": 1,
        "Declined: out of scope": 0, "Declined: low value": 0,
        "Declined: no data": 0,
        "Declined: no capacity": 0, "Declined: other": 0,
        "Duplicate": 0, "Cancelled": 1}
    # A and C delivered in the range; A was reopened once.
    assert chart.notes == {"closed": 4, "delivered": 2, "reopened": 1, "reopen_rate": 0.5}
    assert chart.rows[0] == ["Resolved", 2, 0.5]
    assert chart.rows[-1] == ["Reopened at least once (share of delivered)", 1, 0.5]


def test_closures_find_the_reopened_requests_in_their_partial_index(app, history):
    """The reopen rate reads the few reopen transitions from ix_events_reopen instead of
    seeking each delivery's events (which costs a seek per delivery)."""
    with app.app_context():
        engine = db.engine
    seen = []

    def keep(connection, cursor, statement, parameters, context, executemany):
        if "reopen" in statement:
            seen.append((statement, parameters))

    sqlalchemy.event.listen(engine, "before_cursor_execute", keep)
    try:
        draw(app, "closures", weeks(), LATER)
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", keep)
    [(statement, parameters)] = seen
    with app.app_context():
        if engine.dialect.name == "sqlite":
            plan = db.session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters).all()
            assert any("ix_events_reopen" in row[-1] for row in plan)
        else:  # a handful of rows: the planner may rightly prefer reading the table
            db.session.execute(sqlalchemy.text("SET LOCAL enable_seqscan = off"))
            plan = db.session.connection().exec_driver_sql(
                "EXPLAIN " + statement, parameters).all()
            assert any("ix_events_reopen" in row[0] for row in plan)
        db.session.rollback()


# --- Filters ------------------------------------------------------------------------------

def test_every_filter_narrows_the_charts(app, history, desk):
    def throughput(**fields):
        return series(draw(app, "throughput", weeks(**fields), LATER))["Delivered"]

    assert throughput() == [1, 1]
    assert throughput(team_id=desk.marketing) == [0, 1]
    assert throughput(analyst_id=desk.analyst) == [1, 0]
    assert throughput(analyst_id=desk.lead) == [0, 0]
    assert throughput(kind="project") == [0, 1]
    assert throughput(team_ids=(desk.finance,)) == [1, 0]
    assert throughput(team_ids=()) == [0, 0]
    flow = draw(app, "cumulative_flow", weeks(1, 9, team_id=desk.marketing), LATER)
    assert series(flow)["In progress"] == [0, 1, 1, 1, 1, 1, 1, 1, 0]
    assert series(flow)["Needs info"] == [0] * 9
    demand = draw(app, "demand_by_team", weeks(kind="data_issue"), LATER)
    assert series(demand) == {"Finance": [0, 1]}
    closures = draw(app, "closures", weeks(analyst_id=desk.analyst), LATER)
    assert closures.notes == {"closed": 1, "delivered": 1, "reopened": 1, "reopen_rate": 1.0}
    ageing = draw(app, "ageing_wip", weeks(team_id=desk.marketing), at(12))
    assert ageing.rows == [] and ageing.notes["total"] == 0


def test_a_range_without_data_gives_empty_charts(app, history):
    quiet = reports.Filters(start=date(2026, 1, 5), end=date(2026, 1, 18))
    for key in reports.CHARTS:
        chart = draw(app, key, quiet, LATER)
        if key == "ageing_wip":  # open requests now; no deliveries in January
            assert chart.notes["p50"] is None
            continue
        assert all(not value for s in chart.series for value in s.data), key
    flow = draw(app, "cumulative_flow", quiet, LATER)
    assert len(flow.labels) == 14


def test_a_range_after_today_has_no_days(app, history):
    future = reports.Filters(start=day(40), end=day(50))
    for key in reports.CHARTS:
        chart = draw(app, key, future, LATER)
        if key in ("cumulative_flow", "backlog_by_team", "demand_by_team", "throughput",
                   "sla_attainment"):
            assert chart.labels == [] and chart.rows == [], key
        elif key != "ageing_wip":
            assert all(not value for s in chart.series for value in s.data), key


# --- SQL statements -----------------------------------------------------------------------

def _build(app, desk, count, first_day):
    """``count`` requests with short histories: delivered, reopened, asked, declined, open."""
    with app.app_context():
        requester = db.session.get(User, desk.requester)
        lead = db.session.get(User, desk.lead)
        for n in range(count):
            when = at(first_day + n % 10, 9, n % 60)
            req = intake.submit_request(requester, intake_fields(
                desk.finance, deadline=None, kind=("ad_hoc", "project")[n % 2]), now=when,
                today=when.date())
            step = n % 4
            if step == 3:
                lifecycle.transition(req, "decline", lead, when + timedelta(hours=1),
                                     reason="low_value", note="Not now.")
                continue
            lifecycle.transition(req, "accept", lead, when + timedelta(hours=1), size="S")
            if step >= 1:
                lifecycle.transition(req, "claim", lead, when + timedelta(hours=2))
                lifecycle.transition(req, "deliver", lead, when + timedelta(days=2),
                                     url="https://bi.example.com/x", note="Done.")
            if step == 2:
                lifecycle.transition(req, "reopen", requester, when + timedelta(days=3),
                                     note="Missing a column.")
                lifecycle.transition(req, "deliver", lead, when + timedelta(days=4),
                                     url="https://bi.example.com/x", note="Done.")
        db.session.commit()


@pytest.mark.parametrize("key", list(reports.CHARTS))
def test_each_chart_runs_the_same_number_of_statements_for_5_and_for_50_requests(
        app, desk, key):
    filters = reports.Filters(start=day(0), end=day(27))
    _build(app, desk, 5, 0)
    few = statements_of(app, key, filters, LATER)
    _build(app, desk, 45, 3)
    many = statements_of(app, key, filters, LATER)
    assert few == many <= 4


# --- Filters from the URL -----------------------------------------------------------------

LEAD = None  # the team ids of a reader who sees every team
ANALYST = [4, 2]
TODAY = date(2026, 11, 25)


def parse(team_ids=LEAD, **args):
    return reports.parse_filters(MultiDict(args), TODAY, team_ids)


def test_parse_filters_defaults_to_the_last_twelve_weeks_and_everything():
    assert parse() == reports.Filters(start=date(2026, 9, 3), end=TODAY)
    assert parse() == reports.Filters.default(TODAY)


def test_parse_filters_reads_every_argument():
    filters = parse(start="2026-01-01", end="2026-03-31", team="3", analyst="7",
                    kind="project")
    assert filters == reports.Filters(start=date(2026, 1, 1), end=date(2026, 3, 31),
                                      team_id=3, analyst_id=7, kind="project")
    assert reports.filters_query(filters) == {"start": "2026-01-01", "end": "2026-03-31",
                                              "team": 3, "analyst": 7, "kind": "project"}
    assert reports.parse_filters(MultiDict(reports.filters_query(filters)), TODAY,
                                 LEAD) == filters


@pytest.mark.parametrize("args", [
    {"start": "yesterday"}, {"start": "2026-02-30"}, {"end": "31/12/2026"}, {"team": "x"},
    {"team": "-1"}, {"team": "0"}, {"team": "99999999999"}, {"analyst": "1e3"},
    {"kind": "everything"}, {"start": "1066-10-14"}, {"end": "9999-12-31"},
    {"team": "\u0661"}, {"analyst": "9" * 5000}, {"start": "2026-01-01\x00"}, {"kind": "AD_HOC"},
])
def test_parse_filters_falls_back_to_defaults_on_bad_values(args):
    assert parse(**args) == reports.Filters.default(TODAY)


def test_parse_filters_puts_a_reversed_range_the_right_way_round():
    assert (parse(start="2026-06-30", end="2026-06-01").start,
            parse(start="2026-06-30", end="2026-06-01").end) == (date(2026, 6, 1),
                                                                date(2026, 6, 30))


def test_parse_filters_cuts_a_range_longer_than_five_years_to_its_last_days():
    filters = parse(start="2010-01-01", end="2026-06-30")
    assert filters.end == date(2026, 6, 30)
    assert (filters.end - filters.start).days + 1 == reports.MAX_DAYS


def test_parse_filters_keeps_analysts_to_their_teams():
    assert parse(ANALYST, team="2").team_id == 2
    assert parse(ANALYST, team="3").team_id is None
    assert parse(ANALYST).team_ids == (2, 4)
    assert parse(LEAD, team="3").team_ids is None
    assert parse([]).team_ids == ()


def test_filters_query_leaves_out_what_is_not_set():
    assert reports.filters_query(reports.Filters(start=date(2026, 1, 1),
                                                 end=date(2026, 1, 31))) == {
        "start": "2026-01-01", "end": "2026-01-31"}


def test_flow_states_are_the_states_not_closed_in_lifecycle_order():
    assert set(reports.FLOW_STATES) == set(STATES) - CLOSED_STATES
    assert reports.FLOW_STATES[0] == "submitted" and reports.FLOW_STATES[-1] == "delivered"
