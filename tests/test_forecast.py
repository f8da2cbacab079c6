"""Delivery forecasts (issue 5; issue 14, forecasts people can trust): the Monte Carlo core on
fixed seeds (work in days of effort by size, interpolated weeks, the one-analyst floor), the
history per ISO week in the settings' timezone and when it is enough, each state's work ahead
and its sentence (the queue panel's position words), the range and its risks (deadline, SLA),
the SQL cost of forecasting many requests, the request page, the requester digest, and the
leads' backlog forecast with its what-if. Calibration: tests/test_forecast_calibration.py."""
import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from tests.conftest import AuthActions, count_sql
from tickets import digest, forecast, settings
from tickets.business_hours import BusinessHours
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
    (oldest first), each on the Tuesday at noon, not sized: 2.5 days of effort each (M)."""
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

def test_a_steady_five_days_a_week_delivers_ten_days_of_work_in_exactly_two_weeks():
    assert forecast.simulate(10, [5] * 8, seed="x").weeks == (2.0, 2.0, 2.0)


def test_the_week_the_work_is_reached_counts_in_part():
    assert forecast.simulate(7.5, [5, 5], seed="x").weeks == (1.5, 1.5, 1.5)


def test_no_forecast_is_shorter_than_the_request_s_own_effort_at_one_analyst_s_pace():
    assert forecast.simulate(1, [50], seed="x", floor=0.2).weeks == (0.2, 0.2, 0.2)


def test_mixed_throughput_gives_ordered_percentiles_within_hand_checked_bounds():
    # Weeks of 1, 2 or 4 days, 4 needed: never more than 4 weeks (1, 1, 1, 1), never less
    # than 1 (a 4 first).
    result = forecast.simulate(4, [1, 2, 4], seed="fixed")
    assert 1 <= result.p50 <= result.p85 <= result.p95 <= 4


def test_the_same_seed_gives_the_same_forecast():
    assert forecast.simulate(9, [0, 3, 1, 5], seed="a") == forecast.simulate(
        9, [0, 3, 1, 5], seed="a")


def test_no_throughput_at_all_gives_no_forecast():
    assert forecast.simulate(3, [0, 0, 0]) is None
    assert forecast.simulate(3, []) is None


def test_more_than_two_years_of_work_is_reported_as_such():
    result = forecast.simulate(1000, [1, 0, 0, 2], seed="x")
    assert result.p85 is None and result.p95 is None
    assert forecast.range_text(None, None) == "more than 2 years away (50% confidence)"


def test_a_week_is_as_many_working_days_as_the_calendar_has_holidays_skipped():
    hours = BusinessHours(timezone="UTC", holidays=[date(2026, 11, 26)])
    wednesday, friday = date(2026, 11, 25), date(2026, 11, 27)
    assert forecast.working_day_after(wednesday, 0, hours) == wednesday
    assert forecast.working_day_after(wednesday, 0.2, hours) == friday  # Thursday is a holiday
    assert forecast.working_day_after(friday, 0.2, hours) == date(2026, 11, 30)  # Monday
    assert forecast.working_day_after(wednesday, 1, hours) == date(2026, 12, 3)
    six_days = BusinessHours(timezone="UTC", weekdays=range(6))
    assert forecast.working_day_after(wednesday, 1, six_days) == date(2026, 12, 2)


def test_dates_are_written_unambiguously_with_the_year():
    day = date(2026, 12, 3)
    assert forecast.format_day(day) == "3 Dec 2026"
    assert forecast.format_day(day, weekday=True) == "Thu 3 Dec 2026"
    assert forecast.range_text(day, date(2026, 12, 10)) == (
        "likely between 3 Dec 2026 and 10 Dec 2026 (50% and 85% confidence)")
    assert forecast.range_text(day, day) == "likely by 3 Dec 2026 (85% confidence)"


# --- History ----------------------------------------------------------------------------------

def test_history_counts_each_full_week_and_its_effort_by_size_zero_weeks_included(
        app, make, desk):
    history(app, make, desk, desk.marketing, [0, 2, 0, 0, 1, 0, 3, 1])
    history(app, make, desk, desk.finance, [1, 0, 0, 0, 0, 0, 0, 0])
    large = make.request(desk.rita, desk.marketing)
    set_columns(app, large, state="resolved", size="L",
                delivered_at=datetime(2026, 11, 17, 12, tzinfo=UTC))
    this_week = make.request(desk.rita, desk.marketing)
    set_columns(app, this_week, state="resolved", delivered_at=NOW - timedelta(hours=1))
    with app.app_context():
        found = forecast.history_by_team([desk.marketing, desk.sales], NOW)
        everyone = forecast.history_by_team(None, NOW)
    assert found[desk.marketing].deliveries == (0, 2, 0, 0, 1, 0, 3, 2)
    assert found[desk.marketing].effort == (0, 5, 0, 0, 2.5, 0, 7.5, 10)
    assert found[desk.sales].deliveries == (0,) * 8
    assert set(everyone) == {desk.marketing, desk.finance}


def test_weeks_start_on_monday_midnight_in_the_settings_timezone(app, make, desk):
    # Sunday 15 Nov, 21:00 in New York is Monday 16 Nov, 02:00 UTC.
    late_sunday = make.request(desk.rita, desk.marketing)
    set_columns(app, late_sunday, state="resolved",
                delivered_at=datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    with app.app_context():
        values = settings.current()
        assert forecast.history_by_team([desk.marketing], NOW, weeks=2, values=values)[
            desk.marketing].deliveries == (0, 1)
        values["timezone"] = "America/New_York"
        assert forecast.history_by_team([desk.marketing], NOW, weeks=2, values=values)[
            desk.marketing].deliveries == (1, 0)


@pytest.mark.parametrize("per_week, enough", [
    ((0, 0, 0, 0, 0, 2, 2, 2), True),  # 6 deliveries in 3 weeks
    ((0, 0, 0, 0, 0, 1, 2, 2), False),  # 5 deliveries
    ((0, 0, 0, 0, 0, 0, 3, 3), False),  # 6, but in 2 weeks only
])
def test_enough_history_is_six_deliveries_in_three_different_weeks(per_week, enough):
    assert forecast.History(per_week, tuple(2.5 * n for n in per_week)).is_enough is enough


# --- A request's forecast, state by state ------------------------------------------------------

def test_an_accepted_request_counts_the_queue_above_it_half_the_work_in_progress_and_itself(
        app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)  # 5 days of work a week
    working(make, desk)
    accepted(make, desk, business_impact=5, title="Higher")
    mine = accepted(make, desk, business_impact=1, title="Mine")

    found = forecast_of(app, mine)

    # 2.5 above + 1.25 (half of the M in work) + 2.5 itself = 6.25 days. Later requests may
    # overtake it: 0.25 x (1 above / 2 in the queue) of the pace goes to them, so 4.375 a
    # week: 1.43 weeks, 8 working days from Wed 25 Nov.
    assert found.work_days == 6.25
    assert found.p50_date == found.p85_date == date(2026, 12, 7)
    assert found.text == "likely by 7 Dec 2026 (85% confidence)"
    assert found.explanation == (
        "Position 2 of 2 in Marketing\u2019s queue: 1 accepted request above it (2.5 days), "
        "1 request being worked on now (half their work counted as left), then its own 2.5 "
        "days (size M). Marketing delivered 16 requests in the last 8 weeks, 5 days of work a "
        "week.")
    assert found.risks == ()


def test_the_forecast_uses_the_request_s_size(app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    small = make.request(desk.rita, desk.marketing)
    make.act(small, "accept", desk.lead, size="S")
    large = make.request(desk.fred, desk.finance)
    history(app, make, desk, desk.finance, [2] * 8)
    make.act(large, "accept", desk.lead, size="XL")

    # Alone in their queues: S is 1 day (1 working day), XL 15 days at one analyst's pace
    # (15 working days), whatever the team's pace.
    assert forecast_of(app, small).p85_date == date(2026, 11, 26)
    assert forecast_of(app, large).p85_date == date(2026, 12, 16)


def test_a_request_in_progress_or_blocked_counts_half_its_own_work(app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    accepted(make, desk)  # waits in the queue: not ahead of work already started
    started = working(make, desk)
    blocked = working(make, desk)
    make.act(blocked, "block", desk.lead, note="Waiting for the warehouse")

    in_progress, stuck = forecast_of(app, started), forecast_of(app, blocked)

    # 1.25 days left: 2 working days from Wed 25 Nov.
    assert in_progress.p85_date == date(2026, 11, 27)
    assert in_progress.explanation.startswith(
        "It is being worked on now: half of its 2.5 days of work (size M) is counted as left.")
    assert "It is blocked, which may delay it beyond this." in stuck.explanation


def test_a_submitted_request_joins_the_back_of_the_queue_with_an_assumed_size(
        app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    working(make, desk)
    accepted(make, desk)
    accepted(make, desk)
    fresh = make.request(desk.rita, desk.marketing)

    found = forecast_of(app, fresh)

    # 5 (two M accepted) + 1.25 + 2.5 (assumed M) = 8.75 days at 5 x (1 - 0.25 x 2/3) a week:
    # 2.1 weeks, 11 working days.
    assert found.work_days == 8.75
    assert found.p85_date == date(2026, 12, 10)
    assert found.explanation.startswith(
        "Not triaged yet: counted as joining the back of Marketing\u2019s queue, behind 2 "
        "accepted requests, with 1 request being worked on now")
    assert found.size_note == "Size assumed M (2 to 3 days) until triage."


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


def test_a_team_without_enough_history_has_no_forecast_rather_than_a_wild_date(
        app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    history(app, make, desk, desk.finance, [0, 0, 0, 0, 0, 0, 3, 2])  # 5 deliveries
    assert forecast_of(app, accepted(make, desk, team=desk.sales)) is None
    assert forecast_of(app, accepted(make, desk, team=desk.finance)) is None


def test_a_range_past_the_deadline_says_so_and_what_to_do(app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    mine = accepted(make, desk, deadline=date(2026, 11, 27))  # alone: by Mon 30 Nov

    [risk] = forecast_of(app, mine).risks

    assert risk.kind == "deadline" and risk.is_likely_late
    assert risk.text == ("Even the 50% date is after the deadline (27 Nov 2026): it will most "
                         "likely be late.")
    assert "Talk to the lead" in risk.advice and "reduce the scope" in risk.advice


def test_only_the_85_percent_date_past_a_date_is_a_risk_not_a_likely_delay():
    risk = forecast.risk_of("deadline", "the deadline", date(2026, 12, 5),
                            date(2026, 12, 4), date(2026, 12, 8))
    assert not risk.is_likely_late
    assert risk.text == ("The 85% date is after the deadline (5 Dec 2026): there is a real risk "
                         "it is late.")
    assert forecast.risk_of("deadline", "the deadline", date(2026, 12, 8),
                            date(2026, 12, 4), date(2026, 12, 8)) is None
    assert forecast.risk_of("deadline", "the deadline", None, None, None) is None


def test_a_range_past_the_sla_target_says_so(app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    mine = accepted(make, desk)  # alone: by Mon 30 Nov
    set_columns(app, mine, sla_due_at=NOW + timedelta(days=1), first_response_at=NOW)

    [risk] = forecast_of(app, mine).risks

    assert risk.kind == "sla"
    assert risk.text.startswith("Even the 50% date is after the SLA target for delivery")
    assert "(26 Nov 2026)" in risk.text


def test_forecast_dates_count_from_today_in_the_settings_timezone(app, make, desk):
    history(app, make, desk, desk.marketing, [3] * 8)
    queued = accepted(make, desk)
    tuesday_early = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # still Monday in New York
    with app.app_context():
        settings.update({"timezone": "America/New_York"}, None, NOW)
        db.session.commit()
    # Alone in the queue: 2.5 days at one analyst's pace, 3 working days.
    assert forecast_of(app, queued, now=tuesday_early).p85_date == date(2026, 11, 26)
    with app.app_context():
        settings.update({"timezone": "UTC"}, None, NOW)
        db.session.commit()
    assert forecast_of(app, queued, now=tuesday_early).p85_date == date(2026, 11, 27)


def test_the_forecast_stays_the_same_within_a_week(app, make, desk):
    history(app, make, desk, desk.marketing, [0, 3, 1, 0, 2, 5, 0, 1])
    for _ in range(4):
        accepted(make, desk)
    queued = accepted(make, desk)
    found = forecast_of(app, queued)
    assert found == forecast_of(app, queued, now=NOW + timedelta(hours=5))
    assert found.explanation.startswith(
        "Position 5 of 5 in Marketing\u2019s queue: 4 accepted requests above it (10 days)")


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

def test_backlog_clearance_counts_the_open_requests_work_per_team_and_overall(app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)  # 5 days a week
    history(app, make, desk, desk.finance, [1] * 8)  # 2.5 days a week
    for _ in range(3):
        make.request(desk.rita, desk.marketing)
    working(make, desk)  # 4 open in Marketing: 3 x 2.5 + half of 2.5 = 8.75 days
    done = working(make, desk, team=desk.finance)
    make.act(done, "deliver", desk.lead, url="https://bi.example.com/2", note="Done")
    make.request(desk.fred, desk.finance)  # 1 open in Finance; the delivered one is not

    with app.app_context():
        report = forecast.backlog_clearance(None, NOW)
        doubled = forecast.backlog_clearance(desk.marketing, NOW, multiplier=2)

    rows = {row.name: row for row in report.teams}
    assert list(rows) == ["Finance", "Marketing", "Sales"]
    assert (rows["Marketing"].backlog, rows["Marketing"].work_days) == (4, 8.75)
    assert rows["Marketing"].forecast.p85_date == date(2026, 12, 8)  # 1.75 weeks: 9 days
    assert (rows["Finance"].backlog, rows["Finance"].forecast.p85_date) == (1, date(2026, 12, 2))
    assert rows["Sales"].forecast is None and rows["Sales"].note == "Nothing to deliver."
    # Together: 11.25 days at 7.5 a week: 1.5 weeks, 8 working days.
    assert report.overall.backlog == 5
    assert report.overall.forecast.p85_date == date(2026, 12, 7)
    assert report.overall.forecast.explanation.startswith(
        "All teams together delivered 24 requests in the last 8 weeks, 7.5 days of work a "
        "week; 5 open (before delivery) need about")
    [marketing] = doubled.teams
    assert doubled.overall is None
    assert marketing.forecast.p85_date == date(2026, 12, 2)
    assert "10 days of work a week, scaled to 200%" in marketing.forecast.explanation


def test_backlog_clearance_says_when_a_team_lacks_history(app, make, desk):
    history(app, make, desk, desk.finance, [0, 0, 0, 0, 0, 0, 0, 2])
    make.request(desk.fred, desk.finance)
    with app.app_context():
        [finance] = forecast.backlog_clearance(desk.finance, NOW).teams
    assert finance.forecast is None
    assert finance.note == (
        "Not enough history yet: Finance delivered 2 requests in the last 8 weeks, in 1 week; "
        "a forecast needs at least 6 deliveries in 3 different weeks to know the team's pace.")


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

    assert "All teams: 4 open (before delivery)" in page
    for name in ("Marketing", "Finance", "Sales"):
        assert f">{name}" in page
    assert ("Marketing delivered 16 requests in the last 8 weeks, 5 days of work a week; 4 open "
            "(before delivery) need about 10 days of work.") in page
    assert "5 · 5 · 5 · 5 · 5 · 5 · 5 · 5" in page
    assert "Nothing to deliver." in page


def test_analysts_see_only_their_teams(app, make, desk, auth, errors):
    page_history(app, make, desk, desk.finance, [1] * 8)
    make.request(desk.fred, desk.finance)
    make.request(desk.rita, desk.marketing)
    auth.login(desk.fay)

    page = auth.client.get("/reports/forecast").get_data(as_text=True)
    assert "Your teams: 1 open (before delivery)" in page and "Finance" in page
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
    assert "Marketing delivered 16 requests in the last 8 weeks, 10 days of work a week, scaled to 200%" in page
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


def test_the_request_page_shows_the_range_its_risks_and_how_it_was_computed(
        app, make, desk, auth):
    page_history(app, make, desk, desk.marketing, [2] * 8)
    today = utcnow().date()
    queued = accepted(make, desk, deadline=today + timedelta(days=1))
    auth.login(desk.rita)

    page = auth.client.get(f"/requests/{queued}").get_data(as_text=True)

    line = re.search(r'<p class="mb-2 fw-semibold forecast-line">(.*?)</p>', page, re.S).group(1)
    assert "Delivery likely " in line and "confidence)" in line
    assert "Half the futures deliver by" in page and "85 in 100 deliver by" in page
    assert "forecast-risk-deadline" in page and "Talk to the lead" in page
    assert "Position 1 of 1 in Marketing\u2019s queue: nothing above it" in page
    assert "Marketing delivered 16 requests in the last 8 weeks" in page
    assert 'href="/help#forecast"' in page
    help_page = auth.client.get("/help").get_data(as_text=True)
    assert 'id="forecast"' in help_page and "last 8 weeks" in help_page
    assert "at least 6 requests in at least 3 different weeks" in help_page


def test_the_request_page_says_when_there_is_not_enough_history_or_why_it_waits(
        app, make, desk, auth):
    queued = accepted(make, desk, team=desk.sales)
    asked = make.request(desk.sid, desk.sales)
    make.act(asked, "ask", desk.lead, note="Which quarter?")
    auth.login(desk.sid)

    page = auth.client.get(f"/requests/{queued}").get_data(as_text=True)
    assert ("No forecast yet: not enough history. Sales delivered 0 requests in the last 8 "
            "weeks; a forecast needs at least 6 deliveries in 3 different weeks") in page
    assert ("No forecast while the team waits for the requester&#39;s answer"
            in auth.client.get(f"/requests/{asked}").get_data(as_text=True))


def test_the_requester_digest_gives_each_open_request_its_range(app, make, desk):
    history(app, make, desk, desk.marketing, [2] * 8)
    queued = accepted(make, desk, title="Campaign ROI")
    make.request(desk.rita, desk.sales, title="Sales numbers")  # Sales: no history
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    with app.app_context():
        _, text, html = digest.build(db.session.get(User, desk.rita), monday)
    # Alone in its queue: 2.5 days at one analyst's pace, 3 working days from Monday 23 Nov.
    assert "1st of 1 in the queue, likely by 26 Nov 2026 (85% confidence)" in text
    assert "likely by 26 Nov 2026 (85% confidence)" in html
    assert forecast_of(app, queued, now=monday).text == "likely by 26 Nov 2026 (85% confidence)"
    sales_line = next(line for line in text.splitlines() if "Sales numbers" in line)
    assert "likely" not in sales_line
