"""Delivery forecasts (issue 5, Forecasts): the Monte Carlo core on fixed seeds, throughput per
ISO week in the settings' timezone, each state's forecast and its sentence, the SQL cost of
forecasting many requests, the request page's line, the requester digest's line, and the
leads' backlog forecast with its what-if."""
import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from tests.conftest import AuthActions, count_sql
from tickets import digest, forecast, settings
from tickets.extensions import db
from tickets.models import Request, User, utcnow

# A Wednesday. The 8 full weeks before its week run from Mon 28 Sep to Sun 22 Nov 2026.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(make):
    """Marketing (Ana serves it), Finance (Fay), Sales (nobody delivered there), a lead."""
    marketing, finance, sales = make.team("Marketing"), make.team("Finance"), make.team("Sales")
    return SimpleNamespace(
        marketing=marketing, finance=finance, sales=sales,
        rita=make.user("requester", teams=[marketing], name="Rita Requester"),
        fred=make.user("requester", teams=[finance], name="Fred Finance"),
        sid=make.user("requester", teams=[sales], name="Sid Sales"),
        ana=make.user("analyst", teams=[marketing], name="Ana Analyst"),
        fay=make.user("analyst", teams=[finance], name="Fay Finance-Analyst"),
        lead=make.user("lead", name="Leo Lead"),
    )


def set_columns(app, request_id, **values):
    """Change stored columns directly: delivery history the factories would take long to build."""
    with app.app_context():
        db.session.execute(update(Request).where(Request.id == request_id).values(**values))
        db.session.commit()


def history(app, make, desk, team, per_week, now=NOW, weeks=8):
    """``per_week[k]`` resolved requests delivered in the k-th full week before ``now``'s week
    (oldest first), each on the Tuesday at noon."""
    monday = now.date() - timedelta(days=now.weekday())
    for index, count in enumerate(per_week):
        tuesday = monday - timedelta(weeks=weeks - index) + timedelta(days=1)
        for _ in range(count):
            request_id = make.request(desk.rita if team == desk.marketing else desk.fred, team,
                                      title="Done before")
            set_columns(app, request_id, state="resolved",
                        delivered_at=datetime(tuesday.year, tuesday.month, tuesday.day, 12,
                                              tzinfo=UTC), closed_at=now - timedelta(days=1))


def accepted(make, desk, team=None, **fields):
    request_id = make.request(desk.rita, team or desk.marketing, **fields)
    make.act(request_id, "accept", desk.lead, size="M")
    return request_id


def working(make, desk, team=None, **fields):
    request_id = accepted(make, desk, team, **fields)
    make.act(request_id, "claim", desk.lead)
    return request_id


def forecast_of(app, request_id, now=NOW, values=None):
    with app.app_context():
        return forecast.for_request(db.session.get(Request, request_id), now, values)


# --- The simulation -------------------------------------------------------------------------

def test_a_steady_two_a_week_clears_four_requests_in_exactly_two_weeks():
    result = forecast.simulate(4, [2], trials=500, seed=7)
    assert result.weeks == (2, 2, 2)


def test_mixed_throughput_gives_ordered_percentiles_within_hand_checked_bounds():
    # Weeks of 1, 2 or 4 deliveries, four needed: 1 week with chance 1/3 (a 4), 2 weeks 1/3,
    # 3 weeks 8/27, 4 weeks 1/27 (1, 1, 1 first). So P(<= 1) = .33, P(<= 2) = .67,
    # P(<= 3) = .96: the median is 2 weeks and the 85th percentile 3.
    result = forecast.simulate(4, [1, 2, 4], seed="fixed")
    assert result.p50 <= result.p85 <= result.p95
    assert result.p50 == 2 and result.p85 == 3
    assert result.p95 in (3, 4)
    # Never fewer weeks than the best week allows, nor more than the worst.
    many = forecast.simulate(10, [1, 5], seed=3)
    assert 2 <= many.p50 <= many.p85 <= many.p95 <= 10


def test_the_same_seed_gives_the_same_forecast():
    samples = [0, 3, 1, 4, 2, 0, 5, 1]
    assert forecast.simulate(9, samples, seed="r1:2026-W48") == \
        forecast.simulate(9, samples, seed="r1:2026-W48")


def test_no_throughput_at_all_gives_no_forecast():
    assert forecast.simulate(3, [0, 0, 0, 0]) is None
    assert forecast.simulate(3, []) is None


def test_more_than_two_years_of_work_is_reported_as_such():
    result = forecast.simulate(500, [1, 2], seed=1)
    assert result.weeks == (None, None, None)


def test_a_fractional_what_if_throughput_is_simulated_too():
    assert forecast.simulate(5, [2.5], seed=1).weeks == (2, 2, 2)


def test_a_week_counted_from_today_ends_on_the_last_working_day_of_its_calendar_week():
    weekdays = [0, 1, 2, 3, 4]
    monday, wednesday = date(2026, 11, 23), date(2026, 11, 25)
    assert forecast.week_end(monday, 1, weekdays) == date(2026, 11, 27)  # this Friday
    assert forecast.week_end(wednesday, 1, weekdays) == date(2026, 12, 4)  # next Friday
    assert forecast.week_end(wednesday, 2, weekdays) == date(2026, 12, 11)
    assert forecast.week_end(wednesday, 1, [0, 1, 2, 3, 4, 5]) == date(2026, 12, 5)


# --- Throughput -------------------------------------------------------------------------------

def test_throughput_counts_each_full_week_zero_weeks_included(app, make, desk):
    history(app, make, desk, desk.marketing, [0, 2, 0, 0, 1, 0, 3, 1])
    history(app, make, desk, desk.finance, [1, 0, 0, 0, 0, 0, 0, 0])
    this_week = make.request(desk.rita, desk.marketing)
    set_columns(app, this_week, state="resolved", delivered_at=NOW - timedelta(hours=1))
    with app.app_context():
        assert forecast.throughput_by_team([desk.marketing], NOW) == {
            desk.marketing: [0, 2, 0, 0, 1, 0, 3, 1]}
        assert forecast.throughput_by_team(None, NOW) == {
            desk.marketing: [0, 2, 0, 0, 1, 0, 3, 1], desk.finance: [1, 0, 0, 0, 0, 0, 0, 0]}
        assert forecast.throughput_by_team([desk.sales], NOW, weeks=4) == {
            desk.sales: [0, 0, 0, 0]}


def test_weeks_start_on_monday_midnight_in_the_settings_timezone(app, make, desk):
    # Sunday 15 Nov, 21:00 in New York is Monday 16 Nov, 02:00 UTC.
    late_sunday = make.request(desk.rita, desk.marketing)
    set_columns(app, late_sunday, state="resolved",
                delivered_at=datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    with app.app_context():
        values = settings.current()
        assert forecast.throughput_by_team([desk.marketing], NOW, weeks=2,
                                           values=values) == {desk.marketing: [0, 1]}
        values["timezone"] = "America/New_York"
        assert forecast.throughput_by_team([desk.marketing], NOW, weeks=2,
                                           values=values) == {desk.marketing: [1, 0]}


# --- A request's forecast, state by state ------------------------------------------------------

def test_an_accepted_request_counts_the_work_being_done_and_the_queue_above_it(
        app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    working(make, desk)
    accepted(make, desk, business_impact=5, title="Higher")
    mine = accepted(make, desk, business_impact=1, title="Mine")

    found = forecast_of(app, mine)

    # One being worked + one above + itself = 3 deliveries at 2 a week: 2 weeks from Wed 25 Nov.
    assert found.position == 3 and found.weeks == (2, 2, 2)
    assert found.p85_date == date(2026, 12, 11)
    assert found.text == "likely by 11 Dec (85% confidence)"
    assert found.explanation == (
        "Based on Marketing delivering 2 requests a week over the last 8 weeks and 2 requests "
        "ahead of this one in its queue (1 being worked on, 1 higher in the queue).")


def test_a_request_in_progress_or_blocked_needs_only_itself(app, make, desk):
    history(app, make, desk, desk.marketing, [1, 3, 0, 2, 1, 4, 0, 2])
    accepted(make, desk)  # waits in the queue: not ahead of work already started
    started = working(make, desk)
    blocked = working(make, desk)
    make.act(blocked, "block", desk.lead, note="Waiting for the warehouse")

    in_progress, stuck = forecast_of(app, started), forecast_of(app, blocked)

    assert in_progress.position == 1 and stuck.position == 1
    assert in_progress.explanation == ("Based on Marketing delivering 0 to 4 requests a week "
                                       "over the last 8 weeks; it is being worked on now.")
    assert "blocked, which may delay it" in stuck.explanation
    assert in_progress.p50_date <= in_progress.p85_date <= in_progress.p95_date


def test_a_submitted_request_joins_the_back_of_the_queue_once_triaged(app, make, desk):
    history(app, make, desk, desk.marketing, [1] * 8)
    working(make, desk)
    accepted(make, desk)
    accepted(make, desk)
    fresh = make.request(desk.rita, desk.marketing)

    found = forecast_of(app, fresh)

    assert found.position == 4 and found.weeks == (4, 4, 4)
    assert found.explanation.endswith(
        "and 3 requests ahead of it once triaged (assuming it joins the back of the team's "
        "queue).")


def test_requests_waiting_on_an_answer_on_budget_or_already_delivered_have_none(
        app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    asked = make.request(desk.rita, desk.marketing)
    make.act(asked, "ask", desk.ana, note="Which regions?")
    waitlisted = make.request(desk.rita, desk.marketing)
    set_columns(app, waitlisted, state="waitlisted")
    delivered = working(make, desk)
    make.act(delivered, "deliver", desk.lead, url="https://bi.example.com/1", note="Done")

    assert [forecast_of(app, r) for r in (asked, waitlisted, delivered)] == [None] * 3


def test_a_team_without_deliveries_has_no_forecast(app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    queued = accepted(make, desk, team=desk.sales)
    assert forecast_of(app, queued) is None


def test_a_queue_too_long_for_two_years_says_so(app, make, desk):
    history(app, make, desk, desk.marketing, [0, 0, 0, 0, 0, 0, 0, 1])  # 1 in 8 weeks
    for _ in range(30):
        accepted(make, desk)
    found = forecast_of(app, make.request(desk.rita, desk.marketing))  # 31 needed
    assert found.p85_date is None and found.p95_date is None
    assert found.text == "more than 2 years away (85% confidence)"


def test_forecast_dates_count_from_today_in_the_settings_timezone(app, make, desk):
    history(app, make, desk, desk.marketing, [3] * 8)
    queued = accepted(make, desk)
    tuesday_early = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # still Monday in New York
    with app.app_context():
        settings.update({"timezone": "America/New_York"}, None, NOW)
        db.session.commit()
    assert forecast_of(app, queued, now=tuesday_early).p85_date == date(2026, 11, 27)
    with app.app_context():
        settings.update({"timezone": "UTC"}, None, NOW)
        db.session.commit()
    assert forecast_of(app, queued, now=tuesday_early).p85_date == date(2026, 12, 4)


def test_the_forecast_stays_the_same_within_a_week(app, make, desk):
    history(app, make, desk, desk.marketing, [0, 3, 1, 0, 2, 5, 0, 1])
    for _ in range(4):
        accepted(make, desk)
    queued = accepted(make, desk)
    found = forecast_of(app, queued)
    assert found == forecast_of(app, queued, now=NOW + timedelta(hours=5))
    assert found.explanation.endswith(
        "and 4 requests ahead of this one in its queue (4 higher in the queue).")


def test_forecasting_many_requests_costs_the_same_statements_as_a_few(app, make, desk):
    history(app, make, desk, desk.marketing, [2, 3] * 4)
    history(app, make, desk, desk.finance, [1] * 8)

    def add(count):
        for n in range(count):
            team = desk.marketing if n % 2 else desk.finance
            request_id = make.request(desk.rita if n % 2 else desk.fred, team)
            if n % 3 == 1:
                make.act(request_id, "accept", desk.lead, size="S")
            elif n % 3 == 2:
                set_columns(app, request_id, state="in_progress")

    def forecast_all():
        values = settings.current()
        requests = db.session.scalars(db.select(Request).where(
            Request.state.in_(forecast.FORECAST_STATES))).all()
        return len(forecast.for_requests(requests, NOW, values))

    add(5)
    few, forecasts = count_sql(app, forecast_all)
    assert forecasts == 5
    add(45)
    many, forecasts = count_sql(app, forecast_all)
    assert forecasts == 50
    assert few == many


# --- Backlog clearance -----------------------------------------------------------------------

def test_backlog_clearance_per_team_and_overall(app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    history(app, make, desk, desk.finance, [1] * 8)
    for _ in range(3):
        make.request(desk.rita, desk.marketing)
    working(make, desk)  # 4 open in Marketing
    done = working(make, desk, team=desk.finance)
    make.act(done, "deliver", desk.lead, url="https://bi.example.com/2", note="Done")
    make.request(desk.fred, desk.finance)  # 1 open in Finance; the delivered one is not

    with app.app_context():
        report = forecast.backlog_clearance(None, NOW)
        doubled = forecast.backlog_clearance(desk.marketing, NOW, multiplier=2)

    rows = {row.name: row for row in report.teams}
    assert list(rows) == ["Finance", "Marketing", "Sales"]
    assert (rows["Marketing"].backlog, rows["Marketing"].forecast.weeks) == (4, (2, 2, 2))
    assert rows["Marketing"].forecast.p85_date == date(2026, 12, 11)
    assert (rows["Finance"].backlog, rows["Finance"].forecast.weeks) == (1, (1, 1, 1))
    assert rows["Sales"].forecast is None and rows["Sales"].note == "Nothing to clear."
    # Together: 5 open at 3 a week.
    assert (report.overall.backlog, report.overall.forecast.weeks) == (5, (2, 2, 2))
    assert report.overall.forecast.explanation == (
        "Based on all teams together delivering 3 requests a week over the last 8 weeks, and "
        "5 open requests not delivered yet.")
    [marketing] = doubled.teams
    assert doubled.overall is None
    assert marketing.forecast.weeks == (1, 1, 1)
    assert "scaled to 200%" in marketing.forecast.explanation


# --- Pages ----------------------------------------------------------------------------------

def page_history(app, make, desk, team, per_week):
    """Deliveries in the full weeks before the real today (pages compute with the clock)."""
    history(app, make, desk, team, per_week, now=utcnow())


def test_requesters_may_not_see_the_backlog_forecast(app, make, desk, auth):
    auth.login(desk.rita)
    assert auth.client.get("/reports/forecast").status_code == 403


def test_leads_see_every_team_and_the_teams_together(app, make, desk, auth):
    page_history(app, make, desk, desk.marketing, [2] * 8)
    for _ in range(4):
        make.request(desk.rita, desk.marketing)
    auth.login(desk.lead)

    page = auth.client.get("/reports/forecast").get_data(as_text=True)

    assert "All teams: 4 open requests" in page
    for name in ("Marketing", "Finance", "Sales"):
        assert f">{name}" in page
    assert ("Based on Marketing delivering 2 requests a week over the last 8 weeks, and 4 open "
            "requests not delivered yet.") in page
    assert "2 · 2 · 2 · 2 · 2 · 2 · 2 · 2" in page
    assert "Nothing to clear." in page


def test_analysts_see_only_their_teams(app, make, desk, auth, errors):
    page_history(app, make, desk, desk.finance, [1] * 8)
    make.request(desk.fred, desk.finance)
    make.request(desk.rita, desk.marketing)
    auth.login(desk.fay)

    page = auth.client.get("/reports/forecast").get_data(as_text=True)
    assert "Your teams: 1 open request" in page and "Finance" in page
    assert "Marketing" not in page and "Sales" not in page

    other = auth.client.get(f"/reports/forecast?team={desk.marketing}")
    assert other.status_code == 400
    assert errors(other)["team"] == "Choose one of the teams listed."
    assert "Marketing" not in other.get_data(as_text=True)


def test_the_what_if_scales_throughput_and_keeps_its_inputs_in_the_url(
        app, make, desk, auth, errors):
    page_history(app, make, desk, desk.marketing, [2] * 8)
    for _ in range(8):
        make.request(desk.rita, desk.marketing)
    auth.login(desk.lead)

    response = auth.client.get(f"/reports/forecast?team={desk.marketing}&throughput=200")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "What if: throughput at 200% of the recent pace." in page
    assert "delivering 4 requests a week over the last 8 weeks, scaled to 200%" in page
    assert f'<option selected value="{desk.marketing}">Marketing</option>' in page
    assert 'value="200"' in page
    # The chosen team only, without the teams-together card.
    assert re.findall(r'class="clearance-row" data-team="(\d+)"', page) == [str(desk.marketing)]
    assert "clearance-overall" not in page

    for bad in ("abc", "5", "100000"):
        wrong = auth.client.get(f"/reports/forecast?throughput={bad}")
        assert wrong.status_code == 400
        assert errors(wrong)["throughput"] == "Enter a whole percentage from 10 to 1000."


def test_the_forecast_page_costs_the_same_statements_with_more_data(
        app, make, desk, statements):
    lead = AuthActions(app.test_client(), app)
    lead.login(desk.lead)

    def cost():
        lead.client.get("/reports/forecast")
        del statements[:]
        assert lead.client.get("/reports/forecast?throughput=150").status_code == 200
        return statements[-1]

    page_history(app, make, desk, desk.marketing, [1, 0])
    make.request(desk.rita, desk.marketing)
    small = cost()
    page_history(app, make, desk, desk.finance, [2, 3, 1, 0, 4, 2, 1, 1])
    for n in range(20):
        make.request(desk.rita if n % 2 else desk.fred, desk.marketing if n % 2 else desk.finance)
    assert cost() == small


def test_the_request_page_shows_the_forecast_with_a_how_link(app, make, desk, auth):
    page_history(app, make, desk, desk.marketing, [2] * 8)
    queued = accepted(make, desk)
    auth.login(desk.rita)

    page = auth.client.get(f"/requests/{queued}").get_data(as_text=True)

    line = re.search(r'<p class="mb-1 fw-semibold forecast-line">(.*?)</p>', page, re.S).group(1)
    assert "Delivery likely by " in line and "(85% confidence)" in line
    assert 'href="/help#forecast"' in line
    assert "Based on Marketing delivering 2 requests a week" in page
    help_page = auth.client.get("/help").get_data(as_text=True)
    assert 'id="forecast"' in help_page and "last 8 weeks" in help_page


def test_the_request_page_says_when_there_is_not_enough_history(app, make, desk, auth):
    queued = accepted(make, desk, team=desk.sales)
    asked = make.request(desk.sid, desk.sales)
    make.act(asked, "ask", desk.lead, note="Which quarter?")
    auth.login(desk.sid)

    page = auth.client.get(f"/requests/{queued}").get_data(as_text=True)
    assert "No forecast yet: Sales has delivered nothing in the last 8 weeks" in page
    assert "forecast-panel" not in auth.client.get(f"/requests/{asked}").get_data(as_text=True)


def test_the_requester_digest_gives_each_open_request_its_forecast(app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    queued = accepted(make, desk, title="Campaign ROI")
    make.request(desk.rita, desk.sales, title="Sales numbers")  # Sales: no history
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    with app.app_context():
        _, text, html = digest.build(db.session.get(User, desk.rita), monday)
    # One delivery needed at 2 a week, counted from Monday 23 Nov: by Friday 27 Nov.
    assert "1st of 1 in the queue, likely by 27 Nov (85% confidence)" in text
    assert "likely by 27 Nov (85% confidence)" in html
    assert forecast_of(app, queued, now=monday).text == "likely by 27 Nov (85% confidence)"
    sales_line = next(line for line in text.splitlines() if "Sales numbers" in line)
    assert "likely" not in sales_line
