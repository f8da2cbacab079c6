"""The demo data a newcomer sees: every state, real histories, the documented log-ins, a
catalogue that answers its requests, idempotent."""
from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import AuthActions
from tickets import lifecycle, outcomes, search
from tickets.demo import DEMO_PASSWORD
from tickets.extensions import db
from tickets.models import (ASSET_KINDS, AccessToken, NOT_USED_REASONS, OUTCOMES, STATES, Asset, AssetLink,
                            Deflection, Event, FollowUp, GapCategory, OutboxMessage, PlatformGap,
                            Request, SearchDocument, SearchMiss, Team, User, Webhook,
                            WebhookDelivery, utcnow)
from tickets.policy import visible_assets


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
    models = (Team, User, Request, Event, Asset, AssetLink, SearchDocument, Deflection,
              SearchMiss, GapCategory, PlatformGap, FollowUp)
    with app.app_context():
        before = [db.session.scalar(select(func.count()).select_from(model)) for model in models]
        assert all(before)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "already present" in second.output
    with app.app_context():
        after = [db.session.scalar(select(func.count()).select_from(model)) for model in models]
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
        joined = [user for user in by_email.values() if user.has_joined]
        assert all(user.check_password("datadesk") for user in joined)
        # Two people invited and not joined yet (issue 14): no password anyone knows.
        invited = sorted(user.email for user in by_email.values() if not user.has_joined)
        assert invited == ["mei.lin@example.com", "noah.fischer@example.com"]
        assert not any(by_email[email].check_password("datadesk") for email in invited)
        assert all(by_email[email].invited_at for email in invited)
        # Some read times in their own zone; the others in the installation's.
        assert by_email["kenji.tanaka@example.com"].time_zone == "Asia/Tokyo"
        assert by_email["requester@example.com"].time_zone is None
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


def _user(email):
    return db.session.scalars(select(User).where(User.email == email)).one()


def test_demo_catalogue_is_believable(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        assets = db.session.scalars(select(Asset)).all()
        today = utcnow().date()
        assert 40 <= len(assets) <= 60
        assert {asset.kind for asset in assets} == set(ASSET_KINDS)
        assert {asset.team.name for asset in assets} == {name for name in db.session.scalars(
            select(Team.name))}
        assert len({asset.title for asset in assets}) == len(assets)
        for asset in assets:
            assert asset.url.startswith("https://") and ".example.com/" in asset.url
            assert 2 <= len(asset.tag_list) <= 5 and asset.description
            assert asset.last_verified_on <= today
        deprecated = [asset for asset in assets if asset.is_deprecated]
        assert 6 <= len(deprecated) <= 10
        assert all("Deprecated: " in asset.description for asset in deprecated)
        stale = [a for a in assets if today - a.last_verified_on > timedelta(days=90)]
        assert 5 <= len(stale) < len(assets) / 2
        # Every asset is searchable: the ORM kept its search document.
        assert db.session.scalar(select(func.count()).select_from(SearchDocument)
                                 .where(SearchDocument.kind == "asset")) == len(assets)


def test_demo_assets_answer_the_requests_they_were_made_for(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        links = db.session.scalars(select(AssetLink)).all()
        by_how = {how: [link for link in links if link.how == how]
                  for how in ("delivered", "pointed", "linked")}
        assert len(by_how["delivered"]) >= 12
        for link in by_how["delivered"]:
            assert link.request.state in ("delivered", "resolved")
            assert link.asset.created_at <= link.created_at
        assert by_how["pointed"]
        assert all(link.request.decline_reason == "self_serve" for link in by_how["pointed"])
        assert {link.request.is_confidential for link in by_how["linked"]} == {True}


def test_demo_restricted_assets_are_hidden_from_other_teams(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        restricted = {link.asset.title for link in db.session.scalars(select(AssetLink))
                      if link.request.is_confidential}
        assert restricted
        marketing = _user("requester@example.com")
        seen = set(db.session.scalars(select(Asset.title).where(visible_assets(marketing))))
        assert seen and not seen & restricted
        found = search.search(marketing, "pay equity salary bands compensation")
        assert not {hit.item.title for hit in found.hits} & restricted
        lead = search.search(_user("lead@example.com"), "pay equity salary bands compensation")
        assert restricted <= {hit.item.title for hit in lead.hits}


def test_demo_deflections_misses_and_platform_gaps(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        now = utcnow()
        deflections = db.session.scalars(select(Deflection)).all()
        assert len(deflections) >= 12
        assert all(now - timedelta(weeks=6) <= d.created_at <= now for d in deflections)
        assert all(d.asset_id or d.answer_request_id for d in deflections)
        again = [d for d in deflections if not d.is_true]
        assert 2 <= len(again) < len(deflections) / 2
        for deflection in again:  # the same person asked anyway, within the week
            resubmitted = deflection.resubmitted_request
            assert resubmitted.requester_id == deflection.user_id
            assert timedelta(0) < resubmitted.created_at - deflection.created_at <= timedelta(days=7)

        misses = db.session.scalars(select(SearchMiss)).all()
        keys = {miss.query_key for miss in misses}
        assert len(misses) >= 12 and 3 <= len(keys) < len(misses)
        lead = _user("lead@example.com")
        for key in keys:  # each is a real gap: nothing in the demo matches it
            assert search.search(lead, key).total == 0, key

        gaps = db.session.scalars(select(PlatformGap)).all()
        assert {gap.context for gap in gaps} == {"decline", "delivery"}
        for gap in gaps:
            assert gap.hours > 0 and gap.note and gap.recorded_by is not None
            if gap.context == "decline":
                assert gap.request.decline_reason == "self_serve"
            else:
                assert gap.request.state in ("delivered", "resolved")


def _follow_ups():
    return db.session.scalars(select(FollowUp).order_by(FollowUp.id)).all()


def test_demo_follow_ups_cover_every_step_and_outcome(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        now = utcnow()
        follow_ups = _follow_ups()
        resolved = db.session.scalars(select(Request).where(Request.state == "resolved")).all()
        # Every resolution scheduled its follow-up (the signal), at a back-dated moment.
        assert {f.request_id for f in follow_ups} == {r.id for r in resolved}
        assert len(follow_ups) >= 25
        by_status = {}
        for f in follow_ups:
            by_status.setdefault(f.status, []).append(f)
        assert set(by_status) == {"scheduled", "asked", "reminded", "answered", "unanswerable"}
        assert all(f.due_at > now for f in by_status["scheduled"])
        due = [f for f in follow_ups if f.due_at <= now]
        assert all(f.status != "scheduled" for f in due)  # the daily job asked every due one
        answered = by_status["answered"]
        assert 0.45 <= len(answered) / len(due) <= 0.75
        assert {f.outcome for f in answered} == set(OUTCOMES)
        reasons = {f.not_used_reason for f in answered if f.outcome == "not_used"}
        assert len(reasons) >= 3 and reasons <= set(NOT_USED_REASONS)
        for f in by_status["reminded"]:
            assert f.asked_at < f.reminded_at <= now and f.answered_at is None
        # Decisions in the requesters' words, tied to the levers.
        decisions = [f.decision for f in answered if f.outcome in ("acted", "decided_not_to_act")]
        assert "Kept the current pricing: the churn uplift was within noise." in decisions
        assert sum(1 for d in decisions if d) >= 8
        # Some requesters said when they would know: the follow-up waits for that day.
        known = [f for f in follow_ups if f.know_by]
        assert any(f.status == "scheduled" for f in known)
        assert any(f.status == "answered" for f in known)
        for f in known:
            assert f.due_at.date() == f.know_by
        # The person who left: one follow-up handed to a colleague watching, one to nobody.
        gone = _user("jonas.weber@example.com")
        assert not gone.is_active
        mine = [f for f in follow_ups if f.request.requester_id == gone.id]
        assert {f.status for f in mine} == {"reminded", "unanswerable"}
        handed = next(f for f in mine if f.status == "reminded")
        assert handed.recipient.email == "ben.carter@example.com"
        # The seeder's mail never goes out.
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_demo_outcome_events_replay_to_each_follow_up(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        twice = 0
        for f in _follow_ups():
            events = outcomes.history(f.request_id)
            steps = [e.data["step"] for e in db.session.scalars(
                select(Event).where(Event.request_id == f.request_id, Event.kind == "follow_up")
                .order_by(Event.id))]
            resolved = max(e.created_at for e in f.request.events if e.to_state == "resolved")
            if f.status == "scheduled":
                assert not events and not steps
                continue
            if f.status == "unanswerable":
                assert steps == ["unanswerable"] and not events
                continue
            assert "asked" in steps and resolved < f.asked_at
            if f.status != "answered":
                assert not events and f.outcome is None
                continue
            last = events[-1]
            assert last.data["follow_up_id"] == f.id
            assert (last.data["outcome"], last.data.get("decision", ""), last.data.get("reason"),
                    last.text, last.created_at, last.actor_id) == (
                f.outcome, f.decision, f.not_used_reason, f.note, f.answered_at,
                f.answered_by_id)
            assert all(f.asked_at < e.created_at for e in events)
            for before, after in zip(events, events[1:]):
                assert before.created_at < after.created_at
                assert after.data["previous"] == before.data["outcome"]
            twice += len(events) > 1
        assert twice >= 2  # answers changed later: the history stays on the timeline


def test_demo_requester_has_a_follow_up_waiting_and_one_answered(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        requester = _user("requester@example.com")
        assert outcomes.waiting_count(requester) >= 1
        mine = [f for f in _follow_ups() if f.recipient_id == requester.id]
        assert any(f.status == "answered" and f.decision for f in mine)
        # An asset of the catalogue answered a request whose outcome is known.
        answered = {f.request_id for f in _follow_ups() if f.status == "answered"}
        assert any(link.request_id in answered for link in db.session.scalars(
            select(AssetLink).where(AssetLink.how == "delivered")))


def test_demo_teams_have_different_track_records(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        teams = {team.name: team.id for team in db.session.scalars(select(Team))}
        records = outcomes.track_records(teams.values(), utcnow())
        marketing, sales = records[teams["Marketing"]], records[teams["Sales"]]
        assert marketing.answered >= 4 and marketing.share >= 0.75
        assert sales.answered >= 5 and sales.share <= 0.3


def test_demo_people_have_notifications_some_unread_and_a_daily_batch_choice(app, runner):
    from tickets import notifications
    from tickets.models import Notification

    runner.invoke(args=["seed-demo"])
    with app.app_context():
        for email in ("requester@example.com", "analyst@example.com", "lead@example.com"):
            person = _user(email)
            rows = db.session.scalars(select(Notification).where(
                Notification.recipient_id == person.id)).all()
            assert notifications.unread_count(person) >= 1, email
            assert all(row.actor_id != person.id for row in rows), email
        requester = _user("requester@example.com")
        kinds = {row.kind for row in db.session.scalars(select(Notification).where(
            Notification.recipient_id == requester.id))}
        assert {"accepted", "delivered", "question", "comment"} <= kinds
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.recipient_id == requester.id, Notification.read_at.is_not(None))) >= 1
        analyst = _user("analyst@example.com")
        assert notifications.mode(analyst, "comment") == "daily"
        assert "mention" in {row.kind for row in db.session.scalars(select(Notification).where(
            Notification.recipient_id == analyst.id))}


def test_demo_has_api_tokens_in_use_and_one_revoked(app, runner, client):
    runner.invoke(args=["seed-demo"])
    auth = AuthActions(client, app)
    auth.login("analyst@example.com", DEMO_PASSWORD)
    page = client.get("/preferences/tokens").get_data(as_text=True)
    assert "Churn notebook" in page and "Team chat bot" in page
    assert "Old intake script" not in page  # the lead's
    with app.app_context():
        found = db.session.scalars(db.select(AccessToken)).all()
        assert len(found) == 4 and sum(token.revoked_at is not None for token in found) == 1
        assert all(token.last_used_at for token in found)


def test_demo_has_the_leads_webhook_with_its_delivery_log(app, runner, client):
    runner.invoke(args=["seed-demo"])
    auth = AuthActions(client, app)
    auth.login("lead@example.com", DEMO_PASSWORD)
    page = client.get("/settings/webhooks").get_data(as_text=True)
    assert "https://hooks.example.com/datadesk" in page and "Active" in page
    with app.app_context():
        hook = db.session.scalar(select(Webhook))
        assert hook.events == ["request.created", "request.delivered"]
        assert hook.created_by.email == "lead@example.com"
        log = db.session.scalars(select(WebhookDelivery)).all()
        assert len(log) >= 3 and all(d.status == "succeeded" for d in log)
        assert any(d.attempts == 2 for d in log)  # a 502, then the retry went through
    page = client.get(f"/settings/webhooks/{hook.id}").get_data(as_text=True)
    assert "Succeeded" in page and "2 attempts" in page
