"""The demo data a newcomer sees: every state, real histories, the documented log-ins, idempotent."""
from sqlalchemy import func, select

from tickets import lifecycle
from tickets.extensions import db
from tickets.models import STATES, Event, Request, Team, User


def test_seed_demo_loads_every_state_and_prints_the_logins(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output
    for email in ("admin@example.com", "lead@example.com", "analyst@example.com",
                  "requester@example.com"):
        assert email in result.output
    with app.app_context():
        states = set(db.session.scalars(select(Request.state).distinct()))
        assert states == set(STATES)
        assert db.session.scalar(select(func.count()).select_from(Request)) >= 30


def test_seed_demo_twice_adds_nothing(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        before = [db.session.scalar(select(func.count()).select_from(model))
                  for model in (Team, User, Request, Event)]
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "already present" in second.output
    with app.app_context():
        after = [db.session.scalar(select(func.count()).select_from(model))
                 for model in (Team, User, Request, Event)]
    assert after == before


def test_demo_accounts_have_the_documented_roles_and_teams(app, runner, client):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        by_email = {user.email: user for user in db.session.scalars(select(User))}
        assert by_email["admin@example.com"].role == "admin"
        assert by_email["lead@example.com"].role == "lead"
        analyst = by_email["analyst@example.com"]
        assert analyst.role == "analyst"
        assert sorted(team.name for team in analyst.teams) == ["Finance", "Marketing"]
        requester = by_email["requester@example.com"]
        assert [team.name for team in requester.teams] == ["Marketing"]
        assert all(user.check_password("datadesk") for user in by_email.values())
    response = client.post("/login", data={"email": "requester@example.com",
                                           "password": "datadesk"})
    # CSRF is on in tests: a bare post is refused, so log in through the form.
    assert response.status_code == 400


def test_every_demo_request_replays_to_its_state(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        for req in db.session.scalars(select(Request)):
            assert lifecycle.replay_state(req.events) == req.state, req.id
            times = [event.created_at for event in req.events]
            assert times == sorted(times), req.id
