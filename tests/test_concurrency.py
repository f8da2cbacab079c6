"""Two people moving the same request at once: exactly one wins, the other is told clearly."""
import threading

import pytest

from tickets import lifecycle
from tickets.extensions import db
from tickets.models import Event, Request, User


@pytest.fixture
def race(make):
    """An accepted request of one team and two analysts embedded in it."""
    team = make.team("Finance")
    requester = make.user("requester", teams=[team])
    first = make.user("analyst", teams=[team])
    second = make.user("analyst", teams=[team])
    request_id = make.request(requester, team)
    make.act(request_id, "accept", first, size="M")
    return request_id, first, second


def test_two_sessions_claiming_at_once_exactly_one_wins(app, make, race):
    request_id, first, second = race
    with app.app_context():
        req_a = db.session.get(Request, request_id)
        analyst_a = db.session.get(User, first)
        with app.app_context():  # a second, independent session reads the same version
            req_b = db.session.get(Request, request_id)
            lifecycle.transition(req_b, "claim", db.session.get(User, second))
            db.session.commit()
        with pytest.raises(lifecycle.ConcurrentChange):
            lifecycle.transition(req_a, "claim", analyst_a)
        db.session.rollback()

    claimed = make.get(Request, request_id)
    assert claimed.state == "in_progress"
    assert claimed.assignee_id == second
    with app.app_context():
        claims = db.session.scalars(db.select(Event).where(
            Event.request_id == request_id, Event.action == "claim")).all()
        assert [event.actor_id for event in claims] == [second]


def test_two_browsers_posting_claim_together_one_gets_a_clear_conflict(app, make, race):
    from tests.conftest import AuthActions

    request_id, first, second = race
    sessions = []
    for analyst in (first, second):
        client = app.test_client()
        actions = AuthActions(client, app)
        actions.login(analyst)
        sessions.append(actions)
    version = make.get(Request, request_id).version
    barrier = threading.Barrier(2)
    responses = [None, None]

    def claim(index):
        barrier.wait()
        responses[index] = sessions[index].act(request_id, "claim", version=version)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    codes = sorted(response.status_code for response in responses)
    assert codes == [302, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert "Nothing" in loser.get_data(as_text=True)  # "Nothing was changed" / "Nothing of yours was saved"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Event).where(
            Event.request_id == request_id, Event.action == "claim")) == 1
        winner = db.session.get(Request, request_id)
        assert winner.assignee_id in (first, second)


def test_two_people_commenting_on_one_request_at_once_both_comments_are_kept(app, make, race):
    """Each comment re-indexes the request for search in its own transaction: on PostgreSQL a
    delete-then-insert made the second one break the index's unique key (a 500)."""
    from tests.conftest import AuthActions

    request_id, first, second = race
    sessions = []
    for analyst in (first, second):
        actions = AuthActions(app.test_client(), app)
        actions.login(analyst)
        sessions.append(actions)
    barrier = threading.Barrier(2)
    responses = [None, None]

    def comment(index):
        barrier.wait()
        responses[index] = sessions[index].post(f"/requests/{request_id}/comments",
                                                {"text": f"Note {index} on the figures."})

    threads = [threading.Thread(target=comment, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert [response.status_code for response in responses] == [302, 302]
    with app.app_context():
        texts = db.session.scalars(db.select(Event.text).where(
            Event.request_id == request_id, Event.kind == "comment").order_by(Event.text)).all()
        assert texts == ["Note 0 on the figures.", "Note 1 on the figures."]
