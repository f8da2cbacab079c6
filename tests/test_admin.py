"""People and teams: what leads and admins manage on the web, and the ``flask users`` commands."""
import html
import re

import pytest

from tests.conftest import PASSWORD, AuthActions
from tickets.extensions import db
from tickets.models import OutboxMessage, Team, User

NEW_PASSWORD = "a-new-password-7"


def count(app, model):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def find_user(app, email):
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == email)).first()
        if user is not None:
            team_names = [team.name for team in user.teams]
            db.session.expunge(user)
            user.team_names = team_names
        return user


def find_team(app, name):
    with app.app_context():
        return db.session.scalars(db.select(Team).where(Team.name == name)).first()


def invitation_mails(app):
    with app.app_context():
        return db.session.scalars(db.select(OutboxMessage).where(
            OutboxMessage.kind == "invitation").order_by(OutboxMessage.id)).all()


def join_by_mail(app, actions, email, password):
    """Open the latest invitation link mailed to ``email`` and choose ``password`` there."""
    body = [m.text_body for m in invitation_mails(app) if m.recipient == email][-1]
    path = re.search(r"https?://[^/\s]+(/join/\S+)", body).group(1)
    response = actions.client.post(path, data={
        "new": password, "confirm": password, "csrf_token": actions.csrf_token(path)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def can_log_in(app, email, password=PASSWORD):
    client = app.test_client()
    actions = AuthActions(client, app)
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": actions.csrf_token("/login")})
    return response.status_code == 302


def user_form(name="Bob Builder", email="bob@example.com", role="requester", teams=(),
              is_active=True, **extra):
    data = {"name": name, "email": email, "role": role, "teams": [str(t) for t in teams],
            **extra}
    if is_active:
        data["is_active"] = "y"
    return data


def current_form(app, user_id, **changes):
    """The edit form of ``user_id`` as it is, with ``changes``: what a browser would post."""
    with app.app_context():
        user = db.session.get(User, user_id)
        values = {"name": user.name, "email": user.email, "role": user.role,
                  "teams": user.team_ids, "is_active": user.is_active}
    values.update(changes)
    return user_form(**values)


@pytest.fixture
def org(make):
    """Marketing and Finance, a requester in Marketing, a lead and an admin."""
    marketing, finance = make.team("Marketing"), make.team("Finance")
    return {
        "marketing": marketing, "finance": finance,
        "requester": make.user("requester", teams=[marketing], email="rita@example.com",
                               name="Rita Requester"),
        "lead": make.user("lead", email="leo@example.com"),
        "admin": make.user("admin", email="ada@example.com"),
    }


@pytest.fixture(params=["lead", "admin"])
def manager(request, org, auth):
    """Logged in as a lead, then (second run) as an admin: both manage people and teams."""
    auth.login(org[request.param])
    return request.param


# --- Teams --------------------------------------------------------------------------------

def test_leads_and_admins_create_a_team(app, client, auth, org, manager):
    response = auth.post("/admin/teams/new", data={"name": "  Sales ", "description": "Field sales",
                                                    "is_active": "y"})
    assert response.status_code == 302
    assert response.location == "/admin/teams"
    team = find_team(app, "Sales")
    assert team.description == "Field sales" and team.is_active
    assert "Sales" in client.get("/admin/teams").get_data(as_text=True)


def test_a_team_needs_a_name(app, auth, org, manager, errors):
    response = auth.post("/admin/teams/new", data={"name": "  ", "is_active": "y"})
    assert response.status_code == 400
    assert errors(response) == {"name": "Give the team a name."}
    assert count(app, Team) == 2


@pytest.mark.parametrize("name", ["Marketing", "marketing", "MARKETING", " Marketing "])
def test_a_new_team_cannot_take_an_existing_name_in_any_case(app, auth, org, manager, errors,
                                                              name):
    response = auth.post("/admin/teams/new", data={"name": name, "is_active": "y"})
    assert response.status_code == 400
    assert errors(response) == {"name": "There is already a team called Marketing."}
    assert count(app, Team) == 2


def test_renaming_a_team_to_another_teams_name_is_refused(app, auth, org, manager, errors):
    response = auth.post(f"/admin/teams/{org['finance']}/edit",
                         data={"name": "marketing", "is_active": "y"})
    assert response.status_code == 400
    assert errors(response) == {"name": "There is already a team called Marketing."}
    assert find_team(app, "Finance") is not None


def test_a_team_can_change_the_case_of_its_own_name(app, auth, org, manager):
    response = auth.post(f"/admin/teams/{org['marketing']}/edit",
                         data={"name": "MARKETING", "is_active": "y"})
    assert response.status_code == 302
    assert find_team(app, "MARKETING").id == org["marketing"]


def test_editing_a_team_renames_describes_and_deactivates_it(app, client, auth, org, manager):
    form = client.get(f"/admin/teams/{org['finance']}/edit").get_data(as_text=True)
    assert 'value="Finance"' in form
    response = auth.post(f"/admin/teams/{org['finance']}/edit",
                         data={"name": "Finance & Legal", "description": "Money and contracts"})
    assert response.status_code == 302
    team = find_team(app, "Finance & Legal")
    assert (team.id, team.description, team.is_active) == (org["finance"], "Money and contracts",
                                                          False)


def test_an_inactive_team_is_no_longer_offered_on_the_intake_form(app, make, client, auth, org):
    auth.login(org["lead"])
    auth.post(f"/admin/teams/{org['finance']}/edit", data={"name": "Finance"})
    intake = client.get("/requests/new").get_data(as_text=True)
    assert f'<option value="{org["marketing"]}"' in intake
    assert f'<option value="{org["finance"]}"' not in intake


@pytest.mark.parametrize("path", ["/admin/teams/4242/edit", "/admin/users/4242/edit",
                                  "/admin/teams/99999999999999999999/edit",
                                  "/admin/users/99999999999999999999/edit"])
def test_editing_someone_or_a_team_that_does_not_exist_is_not_found(client, auth, org, path):
    auth.login(org["admin"])
    assert client.get(path).status_code == 404


def test_the_teams_page_shows_embedded_analysts_and_open_requests(app, make, client, auth, org):
    make.user("analyst", teams=[org["marketing"]], name="Ana Analyst")
    make.request(org["requester"], org["marketing"])
    auth.login(org["lead"])
    html = client.get("/admin/teams").get_data(as_text=True)
    marketing_row = html.split("Marketing</span>")[1].split("</tr>")[0]
    assert "Ana Analyst" in marketing_row
    assert "<td>1</td>" in marketing_row  # one requester, one open request
    finance_row = html.split("Finance</span>")[1].split("</tr>")[0]
    assert "None: leads triage its requests" in finance_row


# --- Creating people ----------------------------------------------------------------------

def test_leads_and_admins_invite_a_person_who_has_not_joined_yet(app, auth, org, manager):
    response = auth.post("/admin/users/new", data=user_form(
        email=" Bob@Example.COM ", teams=[org["marketing"], org["finance"]]))
    assert response.status_code == 302
    assert response.location == "/admin/users"
    bob = find_user(app, "bob@example.com")
    assert (bob.name, bob.role, bob.is_active) == ("Bob Builder", "requester", True)
    assert sorted(bob.team_names) == ["Finance", "Marketing"]
    assert (bob.invited_at is not None, bob.joined_at) == (True, None)
    assert [message.recipient for message in invitation_mails(app)] == ["bob@example.com"]


def test_the_new_person_page_offers_every_role_and_team_and_no_password(client, auth, org):
    auth.login(org["admin"])
    html = client.get("/admin/users/new").get_data(as_text=True)
    assert re.findall(r'<option value="(\w+)">(?:Requester|Analyst|Lead|Admin)</option>', html) == \
        ["requester", "analyst", "lead", "admin"]
    assert re.search(rf'type="checkbox" name="teams" value="{org["finance"]}"', html)
    assert re.search(rf'type="checkbox" name="teams" value="{org["marketing"]}"', html)
    assert 'type="password"' not in html and "<select multiple" not in html


def test_an_analyst_embedded_in_teams_sees_those_teams_requests(app, make, client, auth, org):
    marketing_request = make.request(org["requester"], org["marketing"], title="Campaign ROI")
    sales = make.team("Sales")
    make.request(make.user(teams=[sales]), sales, title="Sales pipeline")
    auth.login(org["lead"])
    auth.post("/admin/users/new", data=user_form(
        name="Ana Analyst", email="ana@example.com", role="analyst", teams=[org["marketing"]]))
    auth.logout()

    analyst = AuthActions(app.test_client(), app)
    join_by_mail(app, analyst, "ana@example.com", NEW_PASSWORD)
    team_list = analyst.client.get("/requests/team").get_data(as_text=True)
    assert "Campaign ROI" in team_list
    assert "Sales pipeline" not in team_list
    assert analyst.client.get(f"/requests/{marketing_request}").status_code == 200


@pytest.mark.parametrize("changes, field, message", [
    ({"name": ""}, "name", "Enter the person's name."),
    ({"email": ""}, "email", "Enter an e-mail address."),
    ({"role": "superuser"}, "role", "Choose a role from the list."),
    ({"teams": [4242]}, "teams", "Choose teams from the list."),
])
def test_a_new_person_form_with_a_mistake_says_where(app, auth, org, errors, changes, field,
                                                     message):
    auth.login(org["admin"])
    response = auth.post("/admin/users/new", data=user_form(**changes))
    assert response.status_code == 400
    assert {key: html.unescape(text) for key, text in errors(response).items()} == {field: message}
    assert count(app, User) == 3


def test_a_new_person_needs_a_valid_email(app, auth, org, errors):
    auth.login(org["admin"])
    response = auth.post("/admin/users/new", data=user_form(email="bob@"))
    assert response.status_code == 400
    assert errors(response)["email"].startswith("Not a valid e-mail address")
    assert count(app, User) == 3


def test_an_email_already_in_use_in_any_case_is_refused(app, auth, org, errors):
    auth.login(org["admin"])
    response = auth.post("/admin/users/new", data=user_form(email="RITA@example.com"))
    assert response.status_code == 400
    assert errors(response) == {"email": "rita@example.com already belongs to Rita Requester."}
    assert count(app, User) == 3


# --- Changing people ----------------------------------------------------------------------

def test_editing_a_person_changes_role_teams_and_access(app, auth, org, manager):
    response = auth.post(f"/admin/users/{org['requester']}/edit", data=current_form(
        app, org["requester"], name="Rita Analyst", role="analyst", teams=[org["finance"]],
        is_active=False))
    assert response.status_code == 302
    rita = find_user(app, "rita@example.com")
    assert (rita.name, rita.role, rita.team_names, rita.is_active) == \
        ("Rita Analyst", "analyst", ["Finance"], False)
    assert not can_log_in(app, "rita@example.com")


def test_the_edit_form_shows_the_persons_teams_but_never_a_password(app, client, auth, org):
    auth.login(org["admin"])
    html = client.get(f"/admin/users/{org['requester']}/edit").get_data(as_text=True)
    assert re.search(rf'name="teams" value="{org["marketing"]}" id="teams-{org["marketing"]}" checked',
                     html)
    assert re.search(rf'name="teams" value="{org["finance"]}" id="teams-{org["finance"]}">', html)
    assert 'type="password"' not in html


def test_editing_keeps_the_persons_password(app, auth, org):
    auth.login(org["lead"])
    auth.post(f"/admin/users/{org['requester']}/edit",
              data=current_form(app, org["requester"], name="Rita R."))
    assert find_user(app, "rita@example.com").name == "Rita R."
    assert can_log_in(app, "rita@example.com", PASSWORD)


def test_a_password_posted_to_the_person_form_is_ignored(app, auth, org):
    auth.login(org["lead"])
    auth.post(f"/admin/users/{org['requester']}/edit",
              data=current_form(app, org["requester"], password=NEW_PASSWORD))
    assert can_log_in(app, "rita@example.com", PASSWORD)
    assert not can_log_in(app, "rita@example.com", NEW_PASSWORD)
    auth.post("/admin/users/new", data=user_form(password=NEW_PASSWORD))
    assert not can_log_in(app, "bob@example.com", NEW_PASSWORD)


def test_a_deactivated_person_is_logged_out_at_once(app, auth, org):
    rita = AuthActions(app.test_client(), app)
    rita.login(org["requester"])
    auth.login(org["lead"])
    auth.post(f"/admin/users/{org['requester']}/edit",
              data=current_form(app, org["requester"], is_active=False))
    assert rita.client.get("/requests/mine").status_code == 302


def test_reactivating_a_person_lets_them_log_in_again(app, make, auth, org):
    gone = make.user("requester", email="gone@example.com", is_active=False)
    auth.login(org["lead"])
    auth.post(f"/admin/users/{gone}/edit", data=current_form(app, gone, is_active=True))
    assert can_log_in(app, "gone@example.com")


# --- The admin role and one's own account ------------------------------------------------

ADMIN_ONLY = "Only an admin can create, change or grant the admin role."


def test_only_an_admin_may_create_an_admin(app, auth, org, errors):
    auth.login(org["lead"])
    response = auth.post("/admin/users/new", data=user_form(role="admin"))
    assert response.status_code == 400
    assert errors(response) == {"role": ADMIN_ONLY}
    assert find_user(app, "bob@example.com") is None


def test_a_lead_cannot_promote_someone_to_admin(app, auth, org, errors):
    auth.login(org["lead"])
    response = auth.post(f"/admin/users/{org['requester']}/edit",
                         data=current_form(app, org["requester"], role="admin"))
    assert response.status_code == 400
    assert errors(response) == {"role": ADMIN_ONLY}
    assert find_user(app, "rita@example.com").role == "requester"


def test_a_lead_cannot_change_or_disable_an_admin(app, auth, org, errors):
    auth.login(org["lead"])
    for changes in ({"role": "requester"}, {"is_active": False}):
        response = auth.post(f"/admin/users/{org['admin']}/edit",
                             data=current_form(app, org["admin"], **changes))
        assert response.status_code == 400
        assert errors(response) == {"role": ADMIN_ONLY}
    admin = find_user(app, "ada@example.com")
    assert (admin.role, admin.is_active) == ("admin", True)
    assert can_log_in(app, "ada@example.com")


def test_an_admin_may_create_an_admin_and_promote_a_lead(app, auth, org):
    auth.login(org["admin"])
    assert auth.post("/admin/users/new", data=user_form(role="admin")).status_code == 302
    assert find_user(app, "bob@example.com").role == "admin"
    response = auth.post(f"/admin/users/{org['lead']}/edit",
                         data=current_form(app, org["lead"], role="admin"))
    assert response.status_code == 302
    assert find_user(app, "leo@example.com").role == "admin"


def test_nobody_deactivates_their_own_account(app, client, auth, org, manager, errors):
    me = org[manager]
    response = auth.post(f"/admin/users/{me}/edit", data=current_form(app, me, is_active=False))
    assert response.status_code == 400
    assert errors(response) == {"is_active": "You cannot deactivate your own account."}
    with app.app_context():
        assert db.session.get(User, me).is_active
    assert client.get("/admin/users").status_code == 200


OWN_ROLE = "You cannot change your own role; ask another lead or admin."


@pytest.mark.parametrize("me, new_role", [
    ("lead", "requester"), ("lead", "analyst"), ("lead", "admin"),
    ("admin", "requester"), ("admin", "analyst"), ("admin", "lead"),
])
def test_nobody_changes_their_own_role(app, client, auth, org, errors, me, new_role):
    auth.login(org[me])
    response = auth.post(f"/admin/users/{org[me]}/edit",
                         data=current_form(app, org[me], role=new_role))
    assert response.status_code == 400
    # A lead asking for admin meets the admin rule first; either way the role stays.
    assert errors(response) == {"role": ADMIN_ONLY if new_role == "admin" else OWN_ROLE}
    with app.app_context():
        assert db.session.get(User, org[me]).role == me
    assert client.get("/admin/users").status_code == 200


def test_a_manager_may_still_edit_their_own_name_and_teams(app, auth, org, manager):
    me = org[manager]
    response = auth.post(f"/admin/users/{me}/edit",
                         data=current_form(app, me, name="Renamed", teams=[org["finance"]]))
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, me)
        assert (user.name, user.team_ids, user.role, user.is_active) == \
            ("Renamed", [org["finance"]], manager, True)


# --- The people page ----------------------------------------------------------------------

def listed_emails(client, **query):
    response = client.get("/admin/users", query_string=query)
    assert response.status_code == 200
    return re.findall(r"<td[^>]*>([^<@]+@[^<]+)</td>", response.get_data(as_text=True))


def test_the_people_page_finds_people_by_name_email_and_role(app, make, client, auth, org):
    make.user("analyst", name="Ana Lytic", email="ana@example.com")
    auth.login(org["admin"])
    assert listed_emails(client) == ["ada@example.com", "ana@example.com", "leo@example.com",
                                     "rita@example.com"]
    assert listed_emails(client, q="LYTIC") == ["ana@example.com"]
    assert listed_emails(client, q="leo@") == ["leo@example.com"]
    assert listed_emails(client, role="analyst") == ["ana@example.com"]
    assert listed_emails(client, role="bogus") == listed_emails(client)


@pytest.mark.parametrize("q, expected", [
    ("%", ["pct@example.com"]),
    ("_", ["snake@example.com"]),
    ("a\x00b", []),
    ("x" * 500, []),
])
def test_the_people_search_takes_odd_input_literally(app, make, client, auth, org, q, expected):
    make.user("requester", name="100% Growth", email="pct@example.com")
    make.user("requester", name="snake_case", email="snake@example.com")
    auth.login(org["admin"])
    assert listed_emails(client, q=q) == expected


# --- flask users ... ----------------------------------------------------------------------

def create(runner, *args, email="boss@example.com", name="The Boss", password="long-enough-1"):
    return runner.invoke(args=["users", "create", "--email", email, "--name", name,
                               "--password", password, *args])


def test_users_create_makes_a_person_who_can_log_in(app, runner, make):
    make.team("Marketing")
    make.team("Finance")
    result = create(runner, "--role", "admin", "--team", "Marketing", "--team", "Finance",
                    email="Boss@Example.com")
    assert result.exit_code == 0, result.output
    assert result.output == "Created admin boss@example.com.\n"
    boss = find_user(app, "boss@example.com")
    assert (boss.name, boss.role, sorted(boss.team_names)) == ("The Boss", "admin",
                                                               ["Finance", "Marketing"])
    assert "long-enough-1" not in boss.password_hash
    assert boss.check_password("long-enough-1")
    assert can_log_in(app, "boss@example.com", "long-enough-1")


def test_users_create_makes_a_requester_by_default(app, runner):
    assert create(runner).exit_code == 0
    assert find_user(app, "boss@example.com").role == "requester"


def test_users_create_asks_for_the_password_twice_when_not_given(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "boss@example.com", "--name", "B"],
                           input="long-enough-1\nlong-enough-1\n")
    assert result.exit_code == 0, result.output
    assert "long-enough-1" not in result.output
    assert find_user(app, "boss@example.com").check_password("long-enough-1")


def test_users_create_refuses_a_bad_email(app, runner):
    result = create(runner, email="not-an-address")
    assert result.exit_code == 2
    assert "Invalid value for --email" in result.output
    assert count(app, User) == 0


def test_users_create_refuses_a_short_password(app, runner):
    result = create(runner, password="eleven-char")
    assert result.exit_code == 2
    assert "Invalid value for --password: Use 12 to 256 characters." in result.output
    assert count(app, User) == 0


def test_users_create_refuses_an_unknown_team(app, runner, make):
    make.team("Marketing")
    result = create(runner, "--team", "Marketing", "--team", "Nowhere")
    assert result.exit_code == 2
    assert "Invalid value for --team: no team called Nowhere" in result.output
    assert count(app, User) == 0


def test_users_create_finds_teams_ignoring_case(app, runner, make):
    make.team("Marketing")
    result = create(runner, "--team", "marketing")
    assert result.exit_code == 0, result.output
    assert find_user(app, "boss@example.com").team_names == ["Marketing"]


def test_users_create_refuses_an_unknown_role(app, runner):
    result = create(runner, "--role", "superuser")
    assert result.exit_code == 2
    assert count(app, User) == 0


def test_users_create_refuses_an_email_already_in_use(app, runner, make):
    make.user("requester", email="boss@example.com", name="First Boss")
    result = create(runner, email="BOSS@example.com")
    assert result.exit_code == 1
    assert "boss@example.com already belongs to First Boss." in result.output
    assert count(app, User) == 1


def test_users_list_shows_everyone_with_role_teams_and_access(app, runner, make):
    marketing, finance = make.team("Marketing"), make.team("Finance")
    make.user("analyst", teams=[marketing, finance], email="ana@example.com")
    make.user("requester", email="gone@example.com", is_active=False)
    make.user("admin", email="ada@example.com")
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    lines = [line.split() for line in result.output.splitlines()]
    assert lines == [
        ["admin", "ada@example.com", "-"],
        ["analyst", "ana@example.com", "Finance,", "Marketing"],
        ["requester", "gone@example.com", "-", "(inactive)"],
    ]
