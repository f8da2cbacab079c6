"""Every time in the reader's zone (issue 14, item 7): relative times with the exact local time
on hover, dates nobody misreads, a time zone per person (the installation's by default), mail
in the recipient's zone, and business rules that keep the installation's zone."""
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import AuthActions
from tickets import localtime, settings
from tickets.extensions import db
from tickets.models import OutboxMessage, Request, User

NOW = datetime(2026, 12, 3, 19, 5, tzinfo=UTC)  # Thursday 3 Dec 2026


@pytest.fixture
def desk(make):
    """Marketing, a requester in it, an analyst serving it, and a lead."""
    marketing = make.team("Marketing")
    return {"marketing": marketing,
            "requester": make.user("requester", teams=[marketing], name="Rita Requester"),
            "analyst": make.user("analyst", teams=[marketing], name="Ana Analyst"),
            "lead": make.user("lead", name="Leo Lead")}


# --- The words ----------------------------------------------------------------------------

@pytest.mark.parametrize("delta, text", [
    (timedelta(seconds=-20), "just now"),
    (timedelta(seconds=30), "just now"),
    (timedelta(minutes=-1), "1 minute ago"),
    (timedelta(minutes=-59, seconds=-59), "59 minutes ago"),
    (timedelta(hours=-3), "3 hours ago"),
    (timedelta(hours=2), "in 2 hours"),
    (timedelta(days=-1), "1 day ago"),
    (timedelta(days=-3, hours=-5), "3 days ago"),
    (timedelta(days=-10), "10 days ago"),
    (timedelta(days=-15), "2 weeks ago"),
    (timedelta(days=20), "in 2 weeks"),
    (timedelta(days=-34), "4 weeks ago"),
    (timedelta(days=-35), None),
    (timedelta(days=400), None),
])
def test_relative_times_read_as_people_say_them(delta, text):
    assert localtime.relative_text(NOW + delta, NOW) == text


def test_dates_are_written_with_the_month_in_letters():
    assert localtime.day_text(date(2026, 12, 3)) == "Thu 3 Dec 2026"
    assert localtime.day_text(date(2026, 3, 12), weekday=False) == "12 Mar 2026"
    assert localtime.day_text(date(2026, 3, 12), weekday=False, year=False) == "12 Mar"


def test_an_instant_reads_differently_in_new_york_and_tokyo():
    assert localtime.exact_text(NOW, ZoneInfo("America/New_York")) == "Thu 3 Dec 2026, 14:05 EST"
    assert localtime.exact_text(NOW, ZoneInfo("Asia/Tokyo")) == "Fri 4 Dec 2026, 04:05 JST"


def test_a_person_without_a_zone_reads_the_installations():
    values = {**settings.DEFAULTS, "timezone": "Europe/Berlin"}
    assert localtime.person_zone(User(time_zone=None), values).key == "Europe/Berlin"
    assert localtime.person_zone(User(time_zone="Asia/Tokyo"), values).key == "Asia/Tokyo"
    assert localtime.person_zone(User(time_zone="Mars/Olympus"), values).key == "Europe/Berlin"
    assert localtime.person_zone(None, values).key == "Europe/Berlin"


# --- Pages --------------------------------------------------------------------------------

def set_zone(app, user_id, zone):
    with app.app_context():
        db.session.get(User, user_id).time_zone = zone
        db.session.commit()


def submitted_at(app, request_id):
    with app.app_context():
        return db.session.get(Request, request_id).created_at


def submitted_title(html):
    match = re.search(r'Submitted</dt><dd class="col-7"><time datetime="([^"]+)" title="([^"]+)">'
                      r'([^<]+)</time>', html)
    assert match, html
    return match.groups()


def test_two_viewers_in_new_york_and_tokyo_see_one_instant_on_their_own_clocks(
        app, make, desk):
    rid = make.request(desk["requester"], desk["marketing"])
    set_zone(app, desk["requester"], "America/New_York")
    set_zone(app, desk["analyst"], "Asia/Tokyo")
    instant = submitted_at(app, rid)
    shown = {}
    for who in ("requester", "analyst"):
        actions = AuthActions(app.test_client(), app)
        actions.login(desk[who])
        shown[who] = submitted_title(actions.client.get(f"/requests/{rid}").get_data(as_text=True))
    iso, new_york, relative = shown["requester"]
    assert iso == instant.isoformat(timespec="seconds")
    assert new_york == localtime.exact_text(instant, ZoneInfo("America/New_York"))
    assert shown["analyst"][1] == localtime.exact_text(instant, ZoneInfo("Asia/Tokyo"))
    assert new_york.endswith(("EST", "EDT")) and shown["analyst"][1].endswith("JST")
    assert relative == "just now"


def test_pages_show_how_long_ago_with_the_exact_time_on_hover(app, make, desk, auth):
    rid = make.request(desk["requester"], desk["marketing"])
    with app.app_context():
        req = db.session.get(Request, rid)
        req.created_at = datetime.now(UTC) - timedelta(days=3, hours=1)
        db.session.commit()
    auth.login(desk["requester"])
    html = auth.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert submitted_title(html)[2] == "3 days ago"
    listed = auth.client.get("/requests/mine?state=any").get_data(as_text=True)
    assert re.search(r'<time datetime="[^"]+" title="\w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d UTC">'
                     r'3 days ago</time>', listed)


def test_no_page_writes_a_date_in_digits_that_could_be_read_two_ways(app, make, desk, auth):
    rid = make.request(desk["requester"], desk["marketing"], deadline=date(2027, 3, 12))
    auth.login(desk["lead"])
    for path in (f"/requests/{rid}", "/requests/all?state=any", "/triage", "/backlog"):
        html = auth.client.get(path).get_data(as_text=True)
        text = re.sub(r"<[^>]+>", " ", html)
        assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", text), path
    html = auth.client.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Fri 12 Mar 2027" in html


def test_the_installations_zone_is_the_default_and_costs_no_statement(
        app, make, desk, auth, statements):
    with app.app_context():
        settings.update({"timezone": "Asia/Kolkata"}, None, datetime.now(UTC))
        db.session.commit()
    rid = make.request(desk["requester"], desk["marketing"])
    auth.login(desk["requester"])
    path = f"/requests/{rid}"
    auth.client.get(path)
    del statements[:]
    html = auth.client.get(path).get_data(as_text=True)
    without_zone = statements[-1]
    assert submitted_title(html)[1].endswith("IST")
    set_zone(app, desk["requester"], "Asia/Tokyo")
    del statements[:]
    html = auth.client.get(path).get_data(as_text=True)
    assert submitted_title(html)[1].endswith("JST")
    assert statements[-1] == without_zone


# --- The preference -----------------------------------------------------------------------

def post_zone(actions, zone):
    return actions.client.post("/preferences/time-zone", data={
        "tz-time_zone": zone, "tz-csrf_token": actions.csrf_token("/preferences")})


def test_a_person_chooses_their_time_zone_on_the_preferences_page(app, desk, auth):
    auth.login(desk["requester"])
    page = auth.client.get("/preferences").get_data(as_text=True)
    assert 'id="time-zone"' in page and "The installation&#39;s (UTC)" in page
    response = post_zone(auth, "America/New_York")
    assert response.status_code == 302 and response.location.endswith("/preferences#time-zone")
    with app.app_context():
        assert db.session.get(User, desk["requester"]).time_zone == "America/New_York"
    page = auth.client.get("/preferences").get_data(as_text=True)
    assert '<option selected value="America/New_York">' in page
    assert post_zone(auth, "").status_code == 302
    with app.app_context():
        assert db.session.get(User, desk["requester"]).time_zone is None


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "x" * 500, "UTC\x00"])
def test_an_unknown_time_zone_is_refused_on_its_field(app, desk, auth, errors, zone):
    auth.login(desk["requester"])
    response = post_zone(auth, zone)
    assert response.status_code == 400
    found = errors(response)
    assert found.get("tz-time_zone") in ("Choose a time zone from the list.",
                                         "Use one line without control characters.")
    with app.app_context():
        assert db.session.get(User, desk["requester"]).time_zone is None


# --- Mail, and the rules that keep the installation's zone --------------------------------

def test_mail_shows_times_in_the_recipients_zone(app, desk):
    set_zone(app, desk["requester"], "Asia/Tokyo")
    client = app.test_client()
    actions = AuthActions(client, app)
    with app.app_context():
        email = db.session.get(User, desk["requester"]).email
    client.post("/password/forgot", data={"email": email,
                                          "csrf_token": actions.csrf_token("/password/forgot")})
    with app.app_context():
        body = db.session.scalars(db.select(OutboxMessage.text_body)
                                  .where(OutboxMessage.kind == "reset")).one()
    assert re.search(r"until \w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d JST\)", body), body


def test_business_rules_keep_the_installations_zone_whatever_the_reader_chose(app, desk):
    values = {**settings.DEFAULTS, "timezone": "America/New_York"}
    late_evening = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Thursday 21:00 in New York
    with app.app_context():
        set_zone(app, desk["requester"], "Asia/Tokyo")  # already Friday 11:00 in Tokyo
        assert localtime.local_today(late_evening, values) == date(2026, 12, 3)
        assert localtime.week_start(late_evening, values) == datetime(2026, 11, 30, 5, tzinfo=UTC)
