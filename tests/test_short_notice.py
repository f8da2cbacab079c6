"""Lead time and ad-hoc budget on the intake form (DESIGN.md, Limits).

The short-notice cutoff and the weekly ad-hoc usage are computed by tickets.lead_time and
tickets.budget; the flag is stored on the request by tickets.intake; the form, lists and request
page show them.
"""
import copy
import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from tests.conftest import intake_fields, AuthActions
from tickets import budget, intake, lead_time, localtime, settings
from tickets.business_hours import BusinessHours
from tickets.extensions import db
from tickets.models import Request, Team, User, utcnow

MONDAY = date(2026, 11, 23)


def values(**changes):
    result = copy.deepcopy(settings.DEFAULTS)
    result.update(changes)
    return result


# --- The cutoff -----------------------------------------------------------------------------

@pytest.mark.parametrize("today, days, cutoff", [
    (MONDAY, 5, date(2026, 11, 30)),               # Tue..Fri and the next Monday
    (date(2026, 11, 26), 5, date(2026, 12, 3)),    # Thursday: across the weekend
    (date(2026, 11, 27), 1, date(2026, 11, 30)),   # Friday: the next working day is Monday
    (date(2026, 11, 28), 1, date(2026, 11, 30)),   # Saturday
    (date(2026, 11, 29), 1, date(2026, 11, 30)),   # Sunday
    (date(2026, 11, 28), 5, date(2026, 12, 4)),    # a weekend day counts from the Monday
    (MONDAY, 10, date(2026, 12, 7)),               # two weekends
    (MONDAY, 0, MONDAY),                           # no lead time: nothing is short notice
])
def test_the_cutoff_counts_working_days_after_today(today, days, cutoff):
    assert lead_time.short_notice_cutoff(today, values(lead_time_business_days=days)) == cutoff


def test_the_cutoff_skips_holidays():
    calendar = BusinessHours("UTC", holidays={date(2026, 12, 24), date(2026, 12, 25)})
    # Wednesday 23 Dec: Thu 24 and Fri 25 are holidays, then Mon 28, Tue 29, Wed 30.
    assert lead_time.short_notice_cutoff(date(2026, 12, 23), values(lead_time_business_days=3),
                                      calendar) == date(2026, 12, 30)
    # A holiday on a weekend changes nothing.
    weekend = BusinessHours("UTC", holidays={date(2026, 11, 28)})
    assert lead_time.short_notice_cutoff(MONDAY, values(), weekend) == date(2026, 11, 30)


def test_the_cutoff_follows_the_working_days_of_the_settings():
    six_days = values(working_days=[0, 1, 2, 3, 4, 5], lead_time_business_days=5)
    assert lead_time.short_notice_cutoff(MONDAY, six_days) == date(2026, 11, 28)


def test_a_deadline_before_the_cutoff_is_short_notice_and_one_on_it_is_not():
    five = values(lead_time_business_days=5)
    cutoff = date(2026, 11, 30)
    assert lead_time.is_short_notice(cutoff - timedelta(days=1), MONDAY, five)
    assert lead_time.is_short_notice(MONDAY, MONDAY, five)
    assert not lead_time.is_short_notice(cutoff, MONDAY, five)
    assert not lead_time.is_short_notice(cutoff + timedelta(days=1), MONDAY, five)
    assert not lead_time.is_short_notice(None, MONDAY, five)
    assert not lead_time.is_short_notice(MONDAY, MONDAY, values(lead_time_business_days=0))


# --- Stored on the request ------------------------------------------------------------------

@pytest.fixture
def desk(make):
    marketing = make.team("Marketing")
    finance = make.team("Finance")
    return SimpleNamespace(
        marketing=marketing, finance=finance,
        requester=make.user("requester", teams=[marketing], email="rita@example.com",
                            name="Rita Requester"),
        finance_requester=make.user("requester", teams=[finance]),
        analyst=make.user("analyst", teams=[marketing, finance], name="Ana Analyst"),
        lead=make.user("lead", name="Leo Lead"),
    )


def submit_at(app, requester, team, now, **changes):
    """Submit a request as if at ``now``; return its id."""
    with app.app_context():
        created = intake.submit_request(db.session.get(User, requester),
                                        intake_fields(team, **changes), now=now)
        db.session.commit()
        return created.id


def test_the_flag_is_stored_on_submit_from_the_date_of_now(app, desk):
    monday_noon = datetime(2026, 11, 23, 12, tzinfo=UTC)
    short = submit_at(app, desk.requester, desk.marketing, monday_noon,
                      deadline=date(2026, 11, 27))
    on_cutoff = submit_at(app, desk.requester, desk.marketing, monday_noon,
                          deadline=date(2026, 11, 30))
    none = submit_at(app, desk.requester, desk.marketing, monday_noon, deadline=None)
    with app.app_context():
        flags = {req.id: req.is_short_notice for req in db.session.scalars(db.select(Request))}
        # An explicit today wins over the date of now.
        explicit = intake.submit_request(
            db.session.get(User, desk.requester),
            intake_fields(desk.marketing, deadline=date(2026, 11, 30)), now=monday_noon,
            today=date(2026, 11, 24))
        assert explicit.is_short_notice
        db.session.rollback()
    assert flags == {short: True, on_cutoff: False, none: False}


def test_the_flag_is_recomputed_when_an_edit_changes_the_deadline(app, desk):
    monday = datetime(2026, 11, 23, 12, tzinfo=UTC)
    request_id = submit_at(app, desk.requester, desk.marketing, monday,
                           deadline=date(2026, 12, 14))
    with app.app_context():
        req = db.session.get(Request, request_id)
        rita = db.session.get(User, desk.requester)
        assert not req.is_short_notice
        intake.edit_request(req, rita, {"deadline": date(2026, 11, 25)}, now=monday)
        db.session.commit()
        assert db.session.get(Request, request_id).is_short_notice
        # An edit that leaves the deadline alone keeps the notice given, even days later.
        intake.edit_request(req, rita, {"title": "Churn by region"},
                            now=datetime(2026, 11, 25, 9, tzinfo=UTC))
        db.session.commit()
        assert req.is_short_notice
        intake.edit_request(req, rita, {"deadline": None}, now=monday)
        db.session.commit()
        assert not req.is_short_notice
        intake.edit_request(req, rita, {"deadline": date(2026, 12, 1)}, now=monday,
                            today=date(2026, 11, 26))
        db.session.commit()
        assert req.is_short_notice  # 1 Dec is before Thursday's cutoff, 3 Dec


def test_rows_written_without_the_flag_get_false_from_the_server_default(app, desk, make):
    request_id = make.request(desk.requester, desk.marketing)
    columns = ", ".join(column.name for column in Request.__table__.columns
                        if column.name not in ("id", "is_short_notice"))
    with app.app_context():
        db.session.execute(db.text(
            f"INSERT INTO requests ({columns}) SELECT {columns} FROM requests WHERE id = :id"),
            {"id": request_id})
        db.session.commit()
        flags = db.session.scalars(db.select(Request.is_short_notice)).all()
    assert flags == [False, False]


# --- Shown on pages -------------------------------------------------------------------------

@pytest.fixture
def rita(app, client, desk):
    auth = AuthActions(client, app)
    auth.login(desk.requester)
    return auth


def html_of(auth, path):
    response = auth.client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def row_of(html, request_id):
    match = re.search(rf'<tr>\s*<td[^>]*>{request_id}</td>.*?</tr>', html, re.S)
    assert match, f"no row for #{request_id}"
    return match.group(0)


def test_the_badge_is_shown_in_list_rows_and_on_the_request_page(make, desk, rita):
    short = make.request(desk.requester, desk.marketing, title="Short one",
                         deadline=date.today() + timedelta(days=1))
    relaxed = make.request(desk.requester, desk.marketing, title="Relaxed one",
                           deadline=date.today() + timedelta(days=60))
    listing = html_of(rita, "/requests/mine")
    assert "Short notice" in row_of(listing, short)
    assert "Short notice" not in row_of(listing, relaxed)
    assert 'class="badge short-notice' in html_of(rita, f"/requests/{short}")
    assert "Short notice" not in html_of(rita, f"/requests/{relaxed}")


def test_a_short_notice_deadline_is_accepted_by_the_form_and_flagged(app, desk, rita):
    from tests.test_intake import submit
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    request_id = submit(rita, SimpleNamespace(marketing=desk.marketing), deadline=tomorrow)
    with app.app_context():
        assert db.session.get(Request, request_id).is_short_notice


def test_the_form_shows_the_cutoff_under_the_deadline(app, rita):
    with app.app_context():
        now = utcnow()
        cutoff = lead_time.short_notice_cutoff(localtime.local_today(now))
    html = html_of(rita, "/requests/new")
    expected = f"Deadlines before {cutoff.strftime('%a %-d %b %Y')} are short notice: " \
               "the team may not make it."
    assert expected in html
    assert f'data-short-notice-before="{cutoff.isoformat()}"' in html
    assert 'role="status"' in html and 'id="deadline-short-notice-warning"' in html


# --- The ad-hoc budget ----------------------------------------------------------------------

def set_budget(app, team, weekly):
    with app.app_context():
        settings.set_team_budget(db.session.get(Team, team), weekly, None, utcnow())
        db.session.commit()


def usage(app, team, now):
    with app.app_context():
        return budget.ad_hoc_usage(db.session.get(Team, team), now)


def test_usage_counts_ad_hoc_requests_of_the_current_iso_week(app, make, desk):
    set_budget(app, desk.marketing, 5)
    wednesday = datetime(2026, 11, 25, 12, tzinfo=UTC)
    submit_at(app, desk.requester, desk.marketing, datetime(2026, 11, 22, 23, 59, 59, tzinfo=UTC))
    submit_at(app, desk.requester, desk.marketing, datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    submit_at(app, desk.requester, desk.marketing, datetime(2026, 11, 24, 10, tzinfo=UTC))
    submit_at(app, desk.requester, desk.marketing, datetime(2026, 11, 24, 11, tzinfo=UTC),
              kind="project")
    submit_at(app, desk.finance_requester, desk.finance, datetime(2026, 11, 24, tzinfo=UTC))
    later = submit_at(app, desk.requester, desk.marketing, datetime(2026, 11, 26, tzinfo=UTC))
    assert later
    assert usage(app, desk.marketing, wednesday) == (2, 5)
    # The next Monday starts a fresh week: last week's requests no longer count.
    assert usage(app, desk.marketing, datetime(2026, 11, 30, 8, tzinfo=UTC)) == (0, 5)
    assert usage(app, desk.marketing, datetime(2026, 11, 29, 23, tzinfo=UTC)) == (3, 5)
    assert usage(app, desk.finance, wednesday) == (1, None)
    with app.app_context():
        assert budget.ad_hoc_usage_by_team([desk.marketing, desk.finance, 999], wednesday) == \
            {desk.marketing: 2, desk.finance: 1, 999: 0}
        assert budget.ad_hoc_usage_by_team([], wednesday) == {}


def test_cancelled_and_duplicate_requests_do_not_count_but_declined_ones_do(app, make, desk):
    set_budget(app, desk.marketing, 5)
    tuesday = datetime(2026, 11, 24, 10, tzinfo=UTC)
    kept = submit_at(app, desk.requester, desk.marketing, tuesday)
    cancelled = submit_at(app, desk.requester, desk.marketing, tuesday)
    duplicate = submit_at(app, desk.requester, desk.marketing, tuesday)
    declined = submit_at(app, desk.requester, desk.marketing, tuesday)
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert usage(app, desk.marketing, now) == (4, 5)
    make.act(cancelled, "cancel", desk.requester)
    make.act(duplicate, "mark_duplicate", desk.analyst, original=kept)
    make.act(declined, "decline", desk.lead, reason="low_value", note="Not now.")
    assert usage(app, desk.marketing, now) == (2, 5)


def test_the_week_starts_on_monday_in_the_settings_timezone(app, desk):
    with app.app_context():
        settings.update({"timezone": "Europe/Berlin"}, None, utcnow())
        db.session.commit()
    set_budget(app, desk.marketing, 3)
    # Sunday 23:30 UTC is already Monday 00:30 in Berlin.
    submit_at(app, desk.requester, desk.marketing, datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    submit_at(app, desk.requester, desk.marketing, datetime(2026, 11, 22, 22, 30, tzinfo=UTC))
    assert usage(app, desk.marketing, datetime(2026, 11, 24, tzinfo=UTC)) == (1, 3)


def test_the_form_shows_the_budget_line_of_the_default_team_and_of_every_team(app, make, desk,
                                                                               rita):
    set_budget(app, desk.marketing, 5)
    set_budget(app, desk.finance, 3)
    sales = make.team("Sales")
    for _ in range(4):
        make.request(desk.requester, desk.marketing)
    make.request(desk.requester, desk.marketing, kind="project")
    html = html_of(rita, "/requests/new")
    # The line under the team select (templates/requests/_budget_outlook.html).
    line = re.search(r'<p class="form-text mb-2 budget-line"[^>]*>(.*?)</p>', html, re.S)
    assert line and line.group(1) == "Marketing has used 4 of 5 ad-hoc requests this week"
    assert "Finance has used 0 of 3 ad-hoc requests this week" in html
    assert f'"{sales}"' not in line.group(0)  # a team without a budget has no line


def test_no_budget_line_when_the_default_team_has_no_budget(app, make, desk, rita):
    set_budget(app, desk.finance, 3)
    html = html_of(rita, "/requests/new")
    line = re.search(r'<p class="form-text mb-2 budget-line"[^>]*>(.*?)</p>', html, re.S)
    assert line and line.group(1) == "" and " hidden>" in line.group(0)


def test_the_form_costs_the_same_sql_statements_whatever_the_number_of_teams(app, make, desk,
                                                                             rita, statements):
    def cost():
        rita.client.get("/requests/new")
        del statements[:]
        assert rita.client.get("/requests/new").status_code == 200
        return statements[-1]

    set_budget(app, desk.marketing, 5)
    make.request(desk.requester, desk.marketing)
    small = cost()
    for n in range(10):
        team = make.team(f"Extra {n}")
        set_budget(app, team, n)
        make.request(desk.requester, team)
    assert cost() == small
