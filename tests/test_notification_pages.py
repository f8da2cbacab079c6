"""The notification pages (issue 14): the header's bell and its unread count (one statement a
page), /notifications (newest first, unread marked, filters, pages, mark all read, opening one),
only one's own notifications about requests one may still see, and the preferences table of
kinds x modes."""
import re
from datetime import timedelta

import pytest

from tickets import intake
from tickets.extensions import db
from tickets.models import Notification, Request, User, utcnow
from tests.conftest import AuthActions

NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def desk(make):
    team = make.team("Marketing")
    return {
        "team": team,
        "requester": make.user("requester", teams=[team], name="Rita Requester",
                               email="rita@example.com"),
        "colleague": make.user("requester", teams=[team], name="Wendy Watcher",
                               email="wendy@example.com"),
        "outsider": make.user("requester", name="Oscar Outsider", email="oscar@example.com"),
        "analyst": make.user("analyst", teams=[team], name="Ana Analyst",
                             email="ana@example.com"),
        "lead": make.user("lead", name="Lee Lead", email="lee@example.com"),
    }


def say(app, request_id, author, text, now=None):
    with app.app_context():
        intake.add_comment(db.session.get(Request, request_id), db.session.get(User, author),
                           text, now)
        db.session.commit()


def mine(app, user_id):
    """(id, kind, read?) of ``user_id``'s notifications, oldest first."""
    with app.app_context():
        return [(row.id, row.kind, row.read_at is not None) for row in db.session.scalars(
            db.select(Notification).where(Notification.recipient_id == user_id)
            .order_by(Notification.id))]


def bell(html):
    """The accessible label of the header's bell."""
    return re.search(r'class="btn btn-sm notification-bell[^"]*"[^>]*aria-label="([^"]+)"',
                     html)[1]


def entries(html):
    """(headline, unread?) of each entry of the list, in order."""
    return [(headline.strip(), "(unread)" in rest) for headline, rest in re.findall(
        r'<span class="notification-headline">([^<]*)(.*?)</span>\s*<span class="notification-request">',
        html, re.S)]


def page(client, path="/notifications"):
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_bell_counts_unread_notifications_with_an_accessible_label(app, make, auth, desk):
    request_id = make.request(desk["requester"], desk["team"])
    auth.login(desk["requester"])
    html = page(auth.client, "/requests/mine")
    assert bell(html) == "0 unread notifications" and "notification-count" not in html

    make.act(request_id, "accept", desk["analyst"], size="S")
    say(app, request_id, desk["analyst"], "Started on it")
    html = page(auth.client, "/requests/mine")
    assert bell(html) == "2 unread notifications"
    assert '<span class="badge rounded-pill notification-count" aria-hidden="true">2</span>' in html

    say(app, request_id, desk["analyst"], "Halfway")
    say(app, request_id, desk["analyst"], "Almost")
    auth.post("/notifications/read")
    say(app, request_id, desk["analyst"], "Done soon")
    assert bell(page(auth.client, "/requests/mine")) == "1 unread notification"


def test_the_list_shows_newest_first_marks_unread_and_filters(app, make, auth, desk):
    request_id = make.request(desk["requester"], desk["team"], title="Churn by region")
    make.act(request_id, "accept", desk["analyst"], size="S")
    say(app, request_id, desk["analyst"], "Started <b>today</b>")
    [(accepted, _, _), (commented, _, _)] = mine(app, desk["requester"])
    auth.login(desk["requester"])
    auth.post(f"/notifications/{accepted}/open")

    html = page(auth.client)
    assert entries(html) == [("A new comment on a request", True),
                             ("Your request is accepted", False)]
    assert f"#{request_id} Churn by region" in html
    assert "Started &lt;b&gt;today&lt;/b&gt;" in html and "<b>today" not in html
    assert "Forecast: not enough history yet to give a date." in html
    assert "Ana Analyst" in html

    unread = page(auth.client, "/notifications?show=unread")
    assert entries(unread) == [("A new comment on a request", True)]
    # An unknown filter shows everything.
    assert entries(page(auth.client, "/notifications?show=nonsense")) == entries(html)
    assert commented > accepted


def test_opening_a_notification_marks_it_read_and_goes_to_its_request(app, make, auth, desk):
    request_id = make.request(desk["requester"], desk["team"])
    make.act(request_id, "accept", desk["analyst"], size="S")
    [(notification_id, _, _)] = mine(app, desk["requester"])
    auth.login(desk["requester"])

    opened = auth.post(f"/notifications/{notification_id}/open")
    assert opened.status_code == 302 and opened.location == f"/requests/{request_id}"
    assert mine(app, desk["requester"]) == [(notification_id, "accepted", True)]
    again = auth.post(f"/notifications/{notification_id}/open")
    assert again.status_code == 302  # opening it again still leads to the request


def test_mark_all_as_read_marks_every_one_and_says_so(app, make, auth, desk):
    request_id = make.request(desk["requester"], desk["team"])
    make.act(request_id, "accept", desk["analyst"], size="S")
    say(app, request_id, desk["analyst"], "One")
    auth.login(desk["requester"])
    assert "Mark all as read" in page(auth.client)

    done = auth.post("/notifications/read", follow_redirects=True)
    assert "Everything is marked as read." in done.get_data(as_text=True)
    assert [read for _, _, read in mine(app, desk["requester"])] == [True, True]
    html = page(auth.client, "/notifications?show=unread")
    assert "You have read everything." in html and "Mark all as read" not in html


def test_nobody_opens_or_sees_someone_elses_notifications(app, make, auth, desk):
    request_id = make.request(desk["requester"], desk["team"])
    make.act(request_id, "accept", desk["analyst"], size="S")
    [(rita_s, _, _)] = mine(app, desk["requester"])
    auth.login(desk["colleague"])  # may see the request (same team), but it is not hers
    assert auth.post(f"/notifications/{rita_s}/open").status_code == 404
    assert "No notifications yet." in page(auth.client)
    assert mine(app, desk["requester"]) == [(rita_s, "accepted", False)]
    auth.post("/notifications/read")
    assert mine(app, desk["requester"]) == [(rita_s, "accepted", False)]


def test_a_notification_about_a_request_one_may_no_longer_see_is_neither_shown_nor_counted(
        app, make, auth, desk):
    request_id = make.request(desk["requester"], desk["team"], watchers=["oscar@example.com"])
    make.act(request_id, "accept", desk["analyst"], size="S")
    [(oscar_s, _, _)] = mine(app, desk["outsider"])
    auth.login(desk["outsider"])
    assert bell(page(auth.client)) == "1 unread notification"

    with app.app_context():
        db.session.get(Request, request_id).is_confidential = True
        db.session.commit()
    html = page(auth.client)
    assert bell(html) == "0 unread notifications" and entries(html) == []
    assert auth.post(f"/notifications/{oscar_s}/open").status_code == 404


def test_the_pages_need_a_login_and_posts_a_csrf_token(app, make, client, auth, desk):
    request_id = make.request(desk["requester"], desk["team"])
    make.act(request_id, "accept", desk["analyst"], size="S")
    [(notification_id, _, _)] = mine(app, desk["requester"])
    assert client.get("/notifications").status_code == 302
    assert client.post(f"/notifications/{notification_id}/open").status_code in (302, 400)
    auth.login(desk["requester"])
    assert client.post(f"/notifications/{notification_id}/open").status_code == 400
    assert client.post("/notifications/read").status_code == 400
    assert mine(app, desk["requester"]) == [(notification_id, "accepted", False)]


def add_notifications(app, user_id, request_id, count, start=0):
    with app.app_context():
        for n in range(start, start + count):
            db.session.add(Notification(recipient_id=user_id, request_id=request_id,
                                        kind="comment", text=f"Comment {n}",
                                        created_at=NOW + timedelta(minutes=n)))
        db.session.commit()


def test_the_list_comes_in_pages_of_25_newest_first(app, make, auth, desk):
    request_id = make.request(desk["requester"], desk["team"])
    add_notifications(app, desk["requester"], request_id, 30)
    auth.login(desk["requester"])
    first = page(auth.client)
    assert "Comment 29" in first and "Comment 5<" in first and "Comment 4<" not in first
    second = page(auth.client, "/notifications?page=2")
    assert "Comment 4<" in second and "Comment 0<" in second and "Comment 5<" not in second
    assert 'aria-label="Pages"' in first


def test_the_bell_and_the_list_cost_the_same_statements_whatever_their_length(
        app, make, desk, statements):
    request_id = make.request(desk["requester"], desk["team"])
    browser = AuthActions(app.test_client(), app)
    browser.login(desk["requester"])

    def cost(path):
        browser.client.get(path)  # warm
        del statements[:]
        assert browser.client.get(path).status_code == 200
        return statements[-1]

    add_notifications(app, desk["requester"], request_id, 1)
    few = {path: cost(path) for path in ("/requests/mine", "/notifications", "/preferences")}
    add_notifications(app, desk["requester"], request_id, 60, start=1)
    many = {path: cost(path) for path in few}
    assert few == many


def test_the_bell_is_one_statement_on_a_page(app, make, desk, statements, monkeypatch):
    from tickets import notifications

    calls = []
    original = notifications.unread_count
    browser = AuthActions(app.test_client(), app)
    browser.login(desk["requester"])
    monkeypatch.setattr(notifications, "unread_count",
                        lambda user: calls.append(user.id) or original(user))
    browser.client.get("/notifications")  # the bell, the tabs and the button all ask
    assert calls == [desk["requester"]]


# --- Preferences ------------------------------------------------------------------------------

def test_the_preferences_page_is_a_table_of_kinds_and_modes_offered_by_role(app, auth, desk):
    auth.login(desk["requester"])
    html = page(auth.client, "/preferences")
    assert 'name="notify_question" value="daily"' in html
    assert 'id="notify-question-immediately" checked' in html
    assert "notify_assigned" not in html and "A request is assigned to you" not in html
    assert html.count('type="radio"') == 3 * 8

    analyst = AuthActions(app.test_client(), app)
    analyst.login(desk["analyst"])
    html = page(analyst.client, "/preferences")
    assert 'name="notify_assigned"' in html and html.count('type="radio"') == 3 * 12


def test_the_preferences_page_saves_modes_and_keeps_kinds_left_out(app, auth, desk, errors):
    auth.login(desk["requester"])
    saved = auth.post("/preferences", {"digest_weekday": "4", "notify_question": "daily",
                                       "notify_comment": "off", "notify_assigned": "off"})
    assert saved.status_code == 302
    with app.app_context():
        user = db.session.get(User, desk["requester"])
        assert (user.is_digest_enabled, user.digest_weekday) == (False, 4)
        # Assignments are not offered to a requester: nothing is stored for them.
        assert user.notification_modes == {"question": "daily", "comment": "off"}
    html = page(auth.client, "/preferences")
    assert 'id="notify-question-daily" checked' in html
    assert 'id="notify-comment-off" checked' in html

    bad = auth.post("/preferences", {"digest_weekday": "9", "notify_question": "hourly"})
    assert bad.status_code == 400
    found = errors(bad)
    assert found["digest_weekday"] == "Choose a day of the week."
    assert found["notify_question"] == "Choose immediately, daily batch or off."
    assert 'href="#notify_question"' in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, desk["requester"]).notification_modes["question"] == "daily"


def test_preferences_need_a_login_and_csrf(client, auth, desk):
    assert client.get("/preferences").status_code == 302
    auth.login(desk["requester"])
    assert client.post("/preferences", data={"digest_weekday": "1"}).status_code == 400
