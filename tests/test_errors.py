"""The domain's refusals and ``run_action``, the one way a view runs an action: it commits on
success, and on a refusal rolls back (nothing is written) and shows the message on its field."""
import pytest
from flask import get_flashed_messages
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Forbidden

from tickets import intake, lifecycle, people, settings, sla_clocks
from tickets.errors import CHANGED_MEANWHILE, Refusal, run_action
from tickets.extensions import db
from tickets.forms.admin import TeamForm
from tickets.models import Team


def team_names(app):
    with app.app_context():
        return db.session.scalars(db.select(Team.name).order_by(Team.name)).all()


def new_team(name):
    """A domain call that writes (and flushes) a team."""
    return people.save_team(None, name=name)


@pytest.fixture
def page(app):
    """A request context, as a view runs in; yields a team form posted with a name."""
    with app.test_request_context(method="POST", data={"name": "Growth"}):
        yield TeamForm(meta={"csrf": False})


def test_a_done_action_is_committed_and_its_success_flashed(app, page):
    done = run_action(lambda: new_team("Growth"), form=page,
                      success=lambda team: f"Team {team.name} is saved.")
    assert done and done.status == 200 and done.result.name == "Growth"
    assert get_flashed_messages(with_categories=True) == [("success", "Team Growth is saved.")]
    db.session.remove()  # what another request sees
    assert team_names(app) == ["Growth"]


def test_a_success_message_may_say_it_is_not_plain_good_news(app, page):
    run_action(lambda: new_team("Growth"), success=("It waits for next week.", "info"))
    assert get_flashed_messages(with_categories=True) == [("info", "It waits for next week.")]


def test_a_refusal_rolls_back_what_the_call_wrote_and_shows_on_its_field(app, page):
    def refused():
        new_team("Growth")  # written and flushed before the refusal
        raise people.DuplicateName("There is already a team called Growth.", "name")

    done = run_action(refused, form=page, success="Saved.")
    assert not done and done.status == 400
    assert str(done.refusal) == "There is already a team called Growth."
    assert page.name.errors == ["There is already a team called Growth."]
    assert get_flashed_messages() == []  # no success, and the error is on its field
    db.session.remove()
    assert team_names(app) == []


def test_a_refusal_the_form_has_no_field_for_is_flashed(app, page):
    done = run_action(lambda: _raise(settings.SettingError("colour", "No such setting.")),
                      form=page)
    assert done.status == 400 and page.errors == {}
    assert get_flashed_messages(with_categories=True) == [("danger", "No such setting.")]


def test_a_field_name_of_the_domain_maps_to_the_form_field(app, page):
    done = run_action(lambda: _raise(settings.SettingError("team:3", "Too many.")), form=page,
                      field_of=lambda key: "name" if key == "team:3" else key)
    assert not done and page.name.errors == ["Too many."]


def test_a_conflict_is_a_warning_with_status_409(app, page):
    done = run_action(lambda: _raise(lifecycle.ConcurrentChange("It changed; nothing saved.")),
                      form=page)
    assert done.status == 409 and page.errors == {}
    assert get_flashed_messages(with_categories=True) == [
        ("warning", "It changed; nothing saved.")]


def test_a_lost_race_at_the_flush_says_the_request_changed_meanwhile(app, page):
    def raced():
        new_team("Growth")
        raise StaleDataError("UPDATE statement on table 'request' expected to update 1 row")

    done = run_action(raced, form=page)
    assert done.status == 409 and str(done.refusal) == CHANGED_MEANWHILE
    assert get_flashed_messages(with_categories=True) == [("warning", CHANGED_MEANWHILE)]
    db.session.remove()
    assert team_names(app) == []


def test_an_action_not_allowed_is_a_403_and_writes_nothing(app, page):
    def forbidden():
        new_team("Growth")
        raise lifecycle.NotAllowed("You may not.")

    with pytest.raises(Forbidden):
        run_action(forbidden, form=page)
    db.session.remove()
    assert team_names(app) == []


def test_a_check_that_writes_nothing_is_not_committed(app, page):
    checked = run_action(lambda: new_team("Growth"), commit=False)
    assert checked
    db.session.rollback()
    assert team_names(app) == []


def test_something_else_than_a_refusal_is_not_caught(app, page):
    with pytest.raises(ZeroDivisionError):
        run_action(lambda: 1 / 0, form=page)


@pytest.mark.parametrize("refusal, status, messages", [
    (lifecycle.NotAllowed("No."), 403, {}),
    (lifecycle.InvalidTransition("Moved on."), 409, {}),
    (lifecycle.ConcurrentChange("Changed."), 409, {}),
    (lifecycle.LimitReached("At the limit."), 409, {}),
    (lifecycle.MissingInput("note", "Write a note."), 400, {"note": "Write a note."}),
    (sla_clocks.SlaClassError("reason", "Say why."), 400, {"reason": "Say why."}),
    (settings.SettingError("timezone", "Choose one."), 400, {"timezone": "Choose one."}),
    (intake.FieldsLocked({"team_id": "Fixed.", "kind": "Set."}), 400,
     {"team_id": "Fixed.", "kind": "Set."}),
    (people.DuplicateName("Taken.", "email"), 400, {"email": "Taken."}),
    (people.NotPermitted("Only admins."), 400, {"role": "Only admins."}),
], ids=lambda value: type(value).__name__ if isinstance(value, Refusal) else None)
def test_every_refusal_of_the_domain_carries_its_status_and_field_messages(
        refusal, status, messages):
    assert isinstance(refusal, Refusal)
    assert (refusal.status, refusal.messages) == (status, messages)


def _raise(error):
    raise error
