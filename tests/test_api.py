"""The REST API (issue 16, tickets/api/): personal access tokens, the same permissions as the
pages, problem documents, cursors, ETags, and the OpenAPI document with its reference page."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tickets import tokens
from tickets.extensions import db
from tickets.models import AccessToken, Event, Request, User, utcnow

PROBLEM = "application/problem+json"


@pytest.fixture
def desk(make):
    """Marketing (a requester, a colleague, its analyst), Finance (a requester), a lead and
    two Marketing requests, one of them confidential."""
    marketing, finance = make.team("Marketing"), make.team("Finance")

    class Desk:
        pass

    desk = Desk()
    desk.marketing, desk.finance = marketing, finance
    desk.requester = make.user("requester", teams=[marketing], name="Rita Requester")
    desk.colleague = make.user("requester", teams=[marketing], name="Carl Colleague")
    desk.analyst = make.user("analyst", teams=[marketing], name="Ana Analyst")
    desk.outsider = make.user("requester", teams=[finance], name="Fred Finance")
    desk.lead = make.user("lead", name="Leo Lead")
    desk.request = make.request(desk.requester, marketing, title="Churn by region")
    desk.secret = make.request(desk.colleague, marketing, title="Salary bands",
                               is_confidential=True)
    return desk


@pytest.fixture
def token(app):
    """Make a token for a user id: ``token(user, scope="write")`` gives its secret."""

    def make_token(user_id, scope="write", days=30, name="Notebook"):
        with app.app_context():
            user = db.session.get(User, user_id)
            _, secret = tokens.create(user, name, scope, days, utcnow())
            db.session.commit()
            return secret

    return make_token


class Api:
    """A client that calls the API with a token."""

    def __init__(self, client, secret):
        self.client, self.secret = client, secret

    def call(self, method, path, **kwargs):
        headers = {"Authorization": f"Bearer {self.secret}", **kwargs.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json=json if json is not None else {}, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.call("PATCH", path, json=json if json is not None else {}, **kwargs)


@pytest.fixture
def api(app, token):
    """``api(user)``: an API client acting as ``user`` with a write token."""
    return lambda user, scope="write": Api(app.test_client(), token(user, scope))


def new_request_body(team, **changes):
    body = {"title": "Trials by channel", "team_id": team,
            "data_needed": "Trials and paid conversions per channel, last 6 months.",
            "format": "dashboard", "usage": "Weekly channel budget review.",
            "lever_result": "Paid conversions.", "lever_expected_shape": "Search converts best.",
            "lever_extraction": "Rank channels by conversion.",
            "lever_decision": "Shift budget to the top two channels.",
            "deadline": (date.today() + timedelta(days=30)).isoformat(), "kind": "project",
            "business_impact": 4}
    body.update(changes)
    return body


def problem_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    found = response.get_json(force=True)
    assert found["status"] == status and found["title"]
    return found


# --- Tokens -----------------------------------------------------------------------------------

def test_a_token_made_on_the_page_is_shown_once_and_stored_only_as_a_hash(app, auth, desk):
    auth.login(desk.requester)
    response = auth.post("/preferences/tokens", data={"name": "Churn notebook",
                                                      "scope": "read", "expires_days": "30"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    secret = re.search(r'value="(ddp_[A-Za-z0-9_-]{43})"', page).group(1)
    assert "it is shown only this once" in page
    with app.app_context():
        (stored,) = db.session.scalars(select(AccessToken)).all()
        assert stored.token_hash == tokens.hash_of(secret) and secret not in (
            stored.token_hash, stored.prefix, stored.name)
        assert stored.prefix == secret[:9] and stored.scope == "read"
        assert timedelta(days=29) < stored.expires_at - utcnow() <= timedelta(days=30)
    again = auth.client.get("/preferences/tokens").get_data(as_text=True)
    assert secret not in again and f"{secret[:9]}\u2026" in again and "Churn notebook" in again
    with app.app_context():
        email = db.session.get(User, desk.requester).email
    assert Api(app.test_client(), secret).get("/me").get_json()["email"] == email


def test_the_token_form_refuses_bad_input_field_by_field(auth, desk, errors):
    auth.login(desk.requester)
    response = auth.post("/preferences/tokens", data={"name": "", "scope": "admin",
                                                      "expires_days": "5"})
    assert response.status_code == 400
    assert set(errors(response)) == {"name", "scope", "expires_days"}


def test_a_revoked_token_is_refused_and_another_persons_token_cannot_be_revoked(
        app, auth, desk, token):
    secret = token(desk.requester)
    with app.app_context():
        token_id = db.session.scalar(select(AccessToken.id))
    auth.login(desk.colleague)
    assert auth.post(f"/preferences/tokens/{token_id}/revoke").status_code == 404
    assert Api(app.test_client(), secret).get("/me").status_code == 200
    auth.logout()
    auth.login(desk.requester)
    response = auth.post(f"/preferences/tokens/{token_id}/revoke")
    assert response.status_code == 302
    problem_of(Api(app.test_client(), secret).get("/me"), 401)
    assert "Revoked" in auth.client.get("/preferences/tokens").get_data(as_text=True)


def test_expired_tokens_and_deactivated_owners_are_refused(app, desk, token, make):
    secret = token(desk.requester, days=7)
    api = Api(app.test_client(), secret)
    assert api.get("/me").status_code == 200
    with app.app_context():
        stored = db.session.scalar(select(AccessToken))
        stored.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    problem_of(api.get("/me"), 401)
    other = Api(app.test_client(), token(desk.colleague))
    with app.app_context():
        db.session.get(User, desk.colleague).is_active = False
        db.session.commit()
    problem_of(other.get("/me"), 401)


def test_last_use_is_noted(app, desk, token):
    secret = token(desk.requester)
    Api(app.test_client(), secret).get("/me")
    with app.app_context():
        assert db.session.scalar(select(AccessToken.last_used_at)) is not None


def test_the_command_line_makes_a_token_for_an_email(app, runner, desk):
    result = runner.invoke(args=["tokens", "create", "--email", "REQUESTER1@example.com",
                                 "--name", "Chat bot", "--scope", "read", "--expires", "90"])
    assert result.exit_code == 0, result.output
    secret = re.search(r"(ddp_\S+)", result.output).group(1)
    assert Api(app.test_client(), secret).get("/me").get_json()["token_scope"] == "read"
    result = runner.invoke(args=["tokens", "create", "--email", "nobody@example.com",
                                 "--name", "x"])
    assert result.exit_code == 2 and "Nobody has the e-mail address" in result.output


# --- Authentication ---------------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic abc",
                                    "Bearer ddp_" + "x" * 43, "Bearer ddp_\u00e9\x00"])
def test_without_a_valid_token_the_answer_is_a_401_problem(client, desk, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/requests", headers=headers)
    found = problem_of(response, 401)
    assert "personal access token" in found["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_logged_in_browser_is_not_enough_and_no_cookie_is_set(auth, desk, api):
    auth.login(desk.requester)
    problem_of(auth.client.get("/api/v1/me"), 401)
    response = api(desk.requester).get("/me")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_a_read_token_only_reads(app, desk, api):
    reader = api(desk.requester, scope="read")
    assert reader.get(f"/requests/{desk.request}").status_code == 200
    found = problem_of(reader.post(f"/requests/{desk.request}/comments", {"text": "Hi"}), 403)
    assert "may only read" in found["detail"]
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Event.id)).where(
            Event.kind == "comment")) == 0


def test_me_says_who_and_what_the_token_may(desk, api):
    found = api(desk.analyst, scope="read").get("/me").get_json()
    assert found["name"] == "Ana Analyst" and found["role"] == "analyst"
    assert found["teams"] == [{"id": desk.marketing, "name": "Marketing"}]
    assert found["token_scope"] == "read" and found["token_expires_at"]


def test_unknown_addresses_and_methods_are_problems(desk, api):
    client = api(desk.requester)
    problem_of(client.get("/nothing-here"), 404)
    response = client.call("DELETE", f"/requests/{desk.request}")
    problem_of(response, 405)
    assert "GET" in response.headers["Allow"]


def test_each_token_has_its_own_rate_limit(app, desk, api, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_API", "3 per minute")
    first, second = api(desk.requester), api(desk.requester)
    for _ in range(3):
        assert first.get("/me").status_code == 200
    response = first.get("/me")
    problem_of(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    assert second.get("/me").status_code == 200


# --- Reading ----------------------------------------------------------------------------------

def test_lists_hold_what_the_person_may_see(desk, api, make):
    make.request(desk.outsider, desk.finance, title="Finance close")
    titles = lambda client, query: [item["title"] for item in  # noqa: E731
                                    client.get(f"/requests?{query}").get_json()["items"]]
    assert titles(api(desk.requester), "scope=team") == ["Churn by region"]
    assert titles(api(desk.colleague), "scope=mine") == ["Salary bands"]
    # A confidential request: its requester, its assigned analyst and the leads only.
    assert titles(api(desk.analyst), "scope=team") == ["Churn by region"]
    assert sorted(titles(api(desk.lead), "scope=all")) == ["Churn by region", "Finance close",
                                                           "Salary bands"]
    found = problem_of(api(desk.requester).get("/requests?scope=all"), 403)
    assert "leads and admins" in found["detail"]


@pytest.mark.parametrize("sort", ["newest", "oldest", "deadline", "updated", "impact"])
def test_cursor_pages_give_every_request_once_in_the_lists_order(app, desk, api, make, sort):
    for n in range(9):
        make.request(desk.requester, desk.marketing, title=f"Request {n}",
                     deadline=None if n % 3 == 0 else date.today() + timedelta(days=n % 4 + 5),
                     business_impact=n % 5 + 1)
    client = api(desk.lead)
    seen, cursor, pages = [], None, 0
    while True:
        query = f"/requests?scope=all&sort={sort}&limit=4" + (f"&cursor={cursor}" if cursor
                                                                else "")
        page = client.get(query).get_json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    whole = [item["id"] for item in client.get(
        f"/requests?scope=all&sort={sort}&limit=100").get_json()["items"]]
    assert seen == whole and len(whole) == 11 and pages == 3


@pytest.mark.parametrize("cursor", ["nonsense", "W10", "WyJvbGRlc3QiLFtdXQ",
                                    "WyJuZXdlc3QiLFsieCIsImEiXV0"])
def test_a_cursor_not_given_by_the_list_is_a_400_on_the_cursor(desk, api, cursor):
    found = problem_of(api(desk.lead).get(f"/requests?scope=all&cursor={cursor}"), 400)
    assert found["errors"][0]["field"] == "cursor"


def test_query_parameters_are_checked(desk, api):
    found = problem_of(api(desk.lead).get("/requests?limit=0&sort=best&state=gone"), 400)
    assert {error["field"] for error in found["errors"]} == {"limit", "sort", "state"}


def test_a_request_reads_whole_with_its_history_and_etag(desk, api, make):
    make.act(desk.request, "ask", desk.analyst, note="Which regions?")
    response = api(desk.requester).get(f"/requests/{desk.request}")
    found = response.get_json()
    assert response.headers["ETag"] == f'"{found["version"]}"'
    assert found["state"] == "needs_info" and found["lever_decision"]
    assert [event["kind"] for event in found["events"]] == ["created", "transition"]
    assert found["events"][1]["text"] == "Which regions?"
    assert found["events"][1]["actor"]["name"] == "Ana Analyst"
    assert "answer" in found["actions"] and "accept" not in found["actions"]


def test_a_request_one_may_not_see_is_not_found(desk, api):
    problem_of(api(desk.requester).get(f"/requests/{desk.secret}"), 404)
    problem_of(api(desk.outsider).get(f"/requests/{desk.request}"), 404)
    problem_of(api(desk.requester).get("/requests/99999999999"), 404)


# --- Writing ----------------------------------------------------------------------------------

def test_a_request_is_submitted_with_the_forms_rules(app, desk, api):
    response = api(desk.requester).post("/requests", new_request_body(
        desk.marketing, watchers=["cmo@example.com"]))
    assert response.status_code == 201, response.get_json()
    found = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/requests/{found['id']}")
    assert found["state"] == "submitted" and found["watchers"] == ["cmo@example.com"]
    assert found["requester"]["name"] == "Rita Requester"
    with app.app_context():
        assert db.session.get(Request, found["id"]).title == "Trials by channel"


def test_a_bad_request_body_says_what_is_wrong_field_by_field_and_writes_nothing(
        app, desk, api):
    body = new_request_body(desk.marketing, title="", format="telepathy",
                            deadline=(date.today() - timedelta(days=1)).isoformat(),
                            watchers=["not-an-address"])
    found = problem_of(api(desk.requester).post("/requests", body), 400)
    errors = {error["field"]: error["detail"] for error in found["errors"]}
    assert errors == {
        "title": "Give the request a short title.",
        "format": "Choose one of the formats in the list.",
        "deadline": "The deadline is in the past. Choose today or a later date.",
        "watchers": "These are not valid e-mail addresses: not-an-address"}
    typed = problem_of(api(desk.requester).post("/requests", {**new_request_body(
        desk.marketing), "team_id": "Marketing", "colour": "red"}), 400)
    assert {error["field"] for error in typed["errors"]} == {"team_id", "colour"}
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Request.id))) == 2


def test_a_body_that_is_not_json_is_refused(desk, api):
    client = api(desk.requester)
    response = client.call("POST", "/requests", data="title=x",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 415) and response.mimetype == PROBLEM


def test_an_edit_changes_only_what_is_sent_and_a_stale_etag_is_412(app, desk, api):
    client = api(desk.requester)
    etag = client.get(f"/requests/{desk.request}").headers["ETag"]
    response = client.patch(f"/requests/{desk.request}", {"title": "Churn by region, weekly"},
                            headers={"If-Match": etag})
    assert response.status_code == 200, response.get_json()
    found = response.get_json()
    assert found["title"] == "Churn by region, weekly" and found["format"] == "spreadsheet"
    assert response.headers["ETag"] != etag
    stale = client.patch(f"/requests/{desk.request}", {"title": "Overwritten"},
                         headers={"If-Match": etag})
    assert "not" in problem_of(stale, 412)["detail"]
    with app.app_context():
        assert db.session.get(Request, desk.request).title == "Churn by region, weekly"
    problem_of(api(desk.outsider).patch(f"/requests/{desk.request}", {"title": "x"}), 404)


def test_nulls_in_an_edit_are_empty_fields_with_the_forms_messages(desk, api):
    client = api(desk.requester)
    found = problem_of(client.patch(f"/requests/{desk.request}",
                                    {"title": None, "watchers": None, "exec_sponsor": None}), 400)
    assert found["errors"] == [{"field": "title", "detail": "Give the request a short title."}]
    response = client.patch(f"/requests/{desk.request}", {"watchers": None, "deadline": None})
    assert response.status_code == 200 and response.get_json()["deadline"] is None


def test_comments_and_a_reply_to_the_question(desk, api, make):
    client = api(desk.requester)
    response = client.post(f"/requests/{desk.request}/comments", {"text": "Any news?"})
    assert response.status_code == 201 and response.get_json()["kind"] == "comment"
    make.act(desk.request, "ask", desk.analyst, note="Which regions?")
    response = client.post(f"/requests/{desk.request}/comments", {"text": "North only."})
    assert response.get_json()["action"] == "answer"
    assert make.state(desk.request) == "submitted"
    found = problem_of(client.post(f"/requests/{desk.request}/comments", {"text": " "}), 400)
    assert found["errors"] == [{"field": "text", "detail": "Write something before sending."}]


def test_transitions_follow_the_lifecycle_and_the_policy(desk, api, make):
    analyst = api(desk.analyst)
    found = problem_of(analyst.post(f"/requests/{desk.request}/transitions/accept",
                                    {"size": "XXL"}), 400)
    assert found["errors"][0]["field"] == "size"
    problem_of(api(desk.requester).post(f"/requests/{desk.request}/transitions/accept",
                                        {"size": "M"}), 403)
    problem_of(analyst.post(f"/requests/{desk.request}/transitions/fly", {}), 404)
    response = analyst.post(f"/requests/{desk.request}/transitions/accept",
                            {"size": "M", "note": "On it next week."})
    assert response.status_code == 200 and response.get_json()["state"] == "accepted"
    problem_of(analyst.post(f"/requests/{desk.request}/transitions/accept", {"size": "M"}),
               409)
    assert analyst.post(f"/requests/{desk.request}/transitions/claim").status_code == 200
    found = problem_of(analyst.post(f"/requests/{desk.request}/transitions/deliver",
                                    {"url": "not a link", "catalogue": "none"}), 400)
    assert found["errors"][0]["field"] == "url"
    response = analyst.post(f"/requests/{desk.request}/transitions/deliver",
                            {"url": "https://bi.example.com/churn", "note": "Here it is.",
                             "catalogue": "none"})
    assert response.status_code == 200 and response.get_json()["state"] == "delivered"
    other = make.request(desk.requester, desk.marketing, title="Trials")
    unknown = problem_of(analyst.post(f"/requests/{other}/transitions/ask",
                                      {"note": "Why?", "size": "M"}), 400)
    assert unknown["errors"] == [{"field": "size", "detail": "Not an input of ask."}]


def test_a_transition_with_a_stale_etag_is_412_and_changes_nothing(desk, api, make):
    analyst = api(desk.analyst)
    etag = analyst.get(f"/requests/{desk.request}").headers["ETag"]
    make.act(desk.request, "ask", desk.analyst, note="Which regions?")
    problem_of(analyst.post(f"/requests/{desk.request}/transitions/decline",
                            {"reason": "out_of_scope", "note": "No."},
                            headers={"If-Match": etag}), 412)
    assert make.state(desk.request) == "needs_info"


# --- The catalogue ----------------------------------------------------------------------------

def asset_body(team, **changes):
    body = {"title": "Weekly churn dashboard", "url": "https://bi.example.com/churn",
            "kind": "dashboard", "team_id": team, "description": "Churn by region, weekly.",
            "tags": ["churn", "retention"]}
    body.update(changes)
    return body


def test_the_data_team_catalogues_assets_and_everyone_finds_them(desk, api):
    analyst = api(desk.analyst)
    response = analyst.post("/catalogue", asset_body(desk.marketing))
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["tags"] == ["churn", "retention"] and made["last_verified_on"]
    assert response.headers["Location"].endswith(f"/api/v1/catalogue/{made['id']}")
    found = api(desk.requester).get("/catalogue?q=churn+region").get_json()
    assert [item["id"] for item in found["items"]] == [made["id"]]
    listed = api(desk.outsider).get("/catalogue?sort=title").get_json()["items"]
    assert [item["title"] for item in listed] == ["Weekly churn dashboard"]
    problem_of(api(desk.requester).post("/catalogue", asset_body(desk.marketing)), 403)


def test_an_asset_is_refused_field_by_field_and_edited_with_if_match(desk, api):
    analyst = api(desk.analyst)
    found = problem_of(analyst.post("/catalogue", asset_body(
        desk.marketing, url="ftp://x", kind="poster", title="")), 400)
    assert {error["field"] for error in found["errors"]} == {"url", "kind", "title"}
    made = analyst.post("/catalogue", asset_body(desk.marketing)).get_json()
    etag = analyst.get(f"/catalogue/{made['id']}").headers["ETag"]
    response = analyst.patch(f"/catalogue/{made['id']}", {"status": "deprecated"},
                             headers={"If-Match": etag})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "deprecated"
    assert response.get_json()["title"] == "Weekly churn dashboard"
    problem_of(analyst.patch(f"/catalogue/{made['id']}", {"title": "Old"},
                             headers={"If-Match": etag}), 412)
    problem_of(api(desk.requester).patch(f"/catalogue/{made['id']}", {"title": "Mine"}), 403)


def test_catalogue_pages_follow_their_cursor(desk, api):
    analyst = api(desk.analyst)
    for n in range(5):
        analyst.post("/catalogue", asset_body(desk.marketing, title=f"Asset {n}"))
    seen, cursor = [], None
    while True:
        page = analyst.get("/catalogue?sort=title&limit=2"
                           + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Asset {n}" for n in range(5)]
    problem_of(analyst.get("/catalogue?cursor=abc"), 400)


# --- Queues and reports -----------------------------------------------------------------------

def test_the_queue_and_the_backlog_explain_each_score(desk, api, make):
    make.act(desk.request, "accept", desk.analyst, size="M")
    other = make.request(desk.requester, desk.marketing, title="Urgent",
                         business_impact=5, deadline=date.today() + timedelta(days=2))
    make.act(other, "accept", desk.analyst, size="S")
    queue = api(desk.analyst).get("/queue").get_json()
    assert queue["working"] == []
    assert [entry["request"]["title"] for entry in queue["up_next"]] == ["Urgent",
                                                                        "Churn by region"]
    first = queue["up_next"][0]
    assert first["position"] == 1 and first["queue_length"] == 2
    assert first["score"]["total"] > queue["up_next"][1]["score"]["total"]
    assert "impact" in first["score"]["text"] and first["score"]["size"] == "S"
    backlog = api(desk.lead).get("/backlog?limit=1").get_json()
    assert backlog["total"] == 2 and len(backlog["items"]) == 1 and backlog["next_cursor"]
    rest = api(desk.lead).get(f"/backlog?limit=1&cursor={backlog['next_cursor']}").get_json()
    assert rest["items"][0]["request"]["title"] == "Churn by region"
    assert rest["next_cursor"] is None
    problem_of(api(desk.requester).get("/queue"), 403)
    problem_of(api(desk.analyst).get("/backlog"), 403)


def test_every_chart_reads_as_json_for_the_data_team(desk, api):
    analyst, lead = api(desk.analyst), api(desk.lead)
    index = analyst.get("/reports").get_json()["charts"]
    assert len(index) >= 5
    for chart in (chart for chart in index if "/" not in chart["key"]
                  and chart["key"] not in ("forecast", "impact")):
        response = analyst.get(f"/reports/{chart['key']}?kind=ad_hoc")
        assert response.status_code == 200, chart["key"]
        found = response.get_json()
        assert found["key"] == chart["key"] and found["as_of"]
        assert len(found["columns"]) == len(found["rows"][0]) if found["rows"] else True
    problem_of(analyst.get("/reports/nothing"), 404)
    problem_of(api(desk.requester).get("/reports"), 403)
    keys = {chart["key"] for chart in index}
    assert {"platform-gaps/ranking", "deflection/weeks"} <= keys and "impact" not in keys
    assert "impact" in {chart["key"] for chart in lead.get("/reports").get_json()[
        "charts"]}
    for chart in index:
        if "/" in chart["key"]:
            path = chart["url"].split("/api/v1", 1)[1]
            assert analyst.get(path).status_code == 200, path
    ledger = lead.get("/reports/impact?group=kind")
    assert ledger.status_code == 200 and "headline" in ledger.get_json()
    problem_of(analyst.get("/reports/impact"), 403)
    problem_of(analyst.get("/reports/deflection/nothing"), 404)
    clearance = analyst.get("/reports/forecast?throughput=125").get_json()
    assert [row["name"] for row in clearance["teams"]] == ["Marketing"]
    assert clearance["multiplier"] == 1.25 and clearance["overall"]["open_requests"] == 2
    found = problem_of(analyst.get(f"/reports/forecast?team={desk.finance}"), 400)
    assert found["errors"] == [{"field": "team", "detail": "Choose one of the teams listed."}]
    assert problem_of(lead.get("/reports/forecast?throughput=5000"), 400)["errors"][
        0]["field"] == "throughput"


# --- Cost -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/requests?scope=all&limit=100", "/requests/{id}",
                                  "/catalogue?limit=100", "/catalogue?q=churn&limit=100",
                                  "/backlog?limit=100", "/queue?limit=100"])
def test_each_call_costs_the_same_statements_with_more_data(app, desk, api, make, statements,
                                                            path):
    lead, analyst = api(desk.lead), api(desk.analyst)
    subject = desk.request

    def grow(n):
        for i in range(n):
            made = make.request(desk.requester, desk.marketing, title=f"Churn {i}",
                                watchers=[f"w{i}@example.com"])
            make.act(made, "accept", desk.analyst, size="M")
            make.act(subject, "ask", desk.analyst, note=f"Q{i}?")
            make.act(subject, "answer", desk.requester, note=f"A{i}.")
            analyst.post("/catalogue", {"title": f"Churn asset {i}", "team_id": desk.marketing,
                                        "url": f"https://bi.example.com/{i}",
                                        "kind": "dashboard"})

    client = analyst if path.startswith("/queue") else lead
    client.get("/me")  # the token's last use is written once a minute: not in what is counted
    grow(1)
    assert client.get(path.format(id=subject)).status_code == 200
    few = statements[-1]
    grow(4)
    assert client.get(path.format(id=subject)).status_code == 200
    assert statements[-1] == few


# --- The document -----------------------------------------------------------------------------

def test_the_openapi_document_describes_every_operation_without_a_token(client):
    response = client.get("/api/v1/openapi.json")
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    operations = {(method.upper(), path) for path, methods in document["paths"].items()
                  for method in methods}
    assert operations == {
        ("GET", "/api/v1/me"), ("GET", "/api/v1/requests"), ("POST", "/api/v1/requests"),
        ("GET", "/api/v1/requests/{request_id}"), ("PATCH", "/api/v1/requests/{request_id}"),
        ("POST", "/api/v1/requests/{request_id}/comments"),
        ("POST", "/api/v1/requests/{request_id}/transitions/{name}"),
        ("GET", "/api/v1/catalogue"), ("POST", "/api/v1/catalogue"),
        ("GET", "/api/v1/catalogue/{asset_id}"), ("PATCH", "/api/v1/catalogue/{asset_id}"),
        ("GET", "/api/v1/queue"), ("GET", "/api/v1/backlog"), ("GET", "/api/v1/reports"),
        ("GET", "/api/v1/reports/{key}"), ("GET", "/api/v1/reports/platform-gaps/{key}"),
        ("GET", "/api/v1/reports/deflection/{table}"), ("GET", "/api/v1/reports/impact"),
        ("GET", "/api/v1/reports/forecast")}
    answer = document["paths"]["/api/v1/requests"]["post"]["responses"]["400"]
    assert list(answer["content"]) == [PROBLEM]
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_the_reference_page_reads_offline(client):
    response = client.get("/api/v1/docs")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Submit a request" in page and "/api/v1/requests/{request_id}/transitions/{name}" in page
    assert "problem+json" in page and 'id="schema-RequestIn"' in page
    assert not re.search(r'(src|href)="https?://(?!www\.rfc-editor)', page)
