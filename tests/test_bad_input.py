"""Bad input gets a clear answer (a 404, a field-level error or a safe redirect), never a 500
(issue 10: "500s found", Security item 8)."""
import re

import pytest

from tickets.extensions import db
from tickets.models import Request

HUGE_ID = "99999999999999999999"  # beyond 64 bits, let alone an INTEGER column


@pytest.fixture
def desk(make):
    """Marketing with a requester, an analyst and a lead, an admin, and one submitted request."""
    marketing = make.team("Marketing")
    people = {
        "marketing": marketing,
        "requester": make.user("requester", teams=[marketing], name="Rita Requester"),
        "analyst": make.user("analyst", teams=[marketing], name="Ana Analyst"),
        "lead": make.user("lead", teams=[marketing], name="Leo Lead"),
        "admin": make.user("admin", name="Ada Admin"),
    }
    people["request"] = make.request(people["requester"], marketing,
                                     watchers=["wendy@example.com"])
    return people


def version_of(app, request_id):
    with app.app_context():
        return db.session.get(Request, request_id).version


# --- Ids beyond an INTEGER column ---------------------------------------------------------------

def int_routes(app):
    """Every route with an ``<int:...>`` part, as (rule, its methods, path with a huge id)."""
    found = []
    for rule in app.url_map.iter_rules():
        if "<int:" in rule.rule:
            path = re.sub(r"<int:\w+>", HUGE_ID, rule.rule)
            found.append((rule.endpoint, sorted(rule.methods - {"HEAD", "OPTIONS"}), path))
    return found


def test_every_blueprint_has_int_routes_to_check(app):
    blueprints = {endpoint.split(".")[0] for endpoint, _, _ in int_routes(app)}
    assert {"admin", "mail", "queue", "requests", "sla", "triage"} <= blueprints


@pytest.mark.parametrize("role", ["lead", "admin", "requester"])
def test_ids_beyond_an_integer_column_are_not_found_on_every_route(app, client, auth, desk,
                                                                     role):
    auth.login(desk[role])
    for endpoint, methods, path in int_routes(app):
        for method in methods:
            if method == "GET":
                response = client.get(path)
            else:
                response = auth.post(path, data={"version": "1", "text": "x", "name": "x"})
            assert response.status_code == 404, (endpoint, method, path)


@pytest.mark.parametrize("path", [
    "/digests/preview/99999999999999999999.html",
    "/digests/preview/2147483648.html",
    "/requests/2147483648",
    "/requests/99999999999999999999/edit",
    "/admin/teams/99999999999999999999/edit",
    "/admin/users/2147483648/edit",
])
def test_a_huge_id_in_a_url_is_not_found(client, auth, desk, path):
    auth.login(desk["admin"])
    response = client.get(path)
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_the_largest_integer_id_is_still_a_route(client, auth, desk):
    auth.login(desk["admin"])
    assert client.get("/requests/2147483647").status_code == 404  # routed, then no such row
    assert client.get(f"/requests/{desk['request']}").status_code == 200
