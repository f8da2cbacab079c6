"""The cast of the permission tables (test_policy.py, test_permissions.py): one person per column,
and their requests in any state, confidential or not, of Marketing or (central) of Ops.

owner          the requester who submits the requests (a Marketing requester)
teammate       another Marketing requester
outsider       a Finance requester
watcher        a Finance requester whose e-mail address watches every request of the cast
team_analyst   an analyst embedded in Marketing
other_analyst  an analyst embedded in Finance
assignee       an analyst embedded in Marketing who claims the requests (in states before a
               claim nobody is assigned, and this analyst is just another Marketing analyst)
lead           a lead of the data team (in no team)
admin          an administrator (in no team)

With ``central=True`` there is a third team, Ops, which has no embedded analyst (so its requests
go to the central triage queue); the owner and the teammate are requesters of Ops too.
"""
from tests.conftest import AuthActions
from tickets import intake
from tickets.extensions import db
from tickets.models import Request, User

WATCHER_EMAIL = "watcher@example.com"
DELIVERY = {"url": "https://bi.example.com/dashboards/churn", "note": "Filter by region at the top."}

# How a fresh request reaches each state: (transition, who takes it (None: the system), inputs).
STEPS = {
    "submitted": [],
    "needs_info": [("ask", "team_analyst", {"note": "Which regions do you need?"})],
    "waitlisted": [("waitlist", None, {"note": "Marketing's ad-hoc budget is used up."})],
    "accepted": [("accept", "team_analyst", {"size": "M"})],
}
STEPS["in_progress"] = STEPS["accepted"] + [("claim", "assignee", {})]
STEPS["blocked"] = STEPS["in_progress"] + [("block", "assignee", {"note": "No access to CRM."})]
STEPS["delivered"] = STEPS["in_progress"] + [("deliver", "assignee", DELIVERY)]
STEPS["resolved"] = STEPS["delivered"] + [("confirm", "owner", {})]
CLAIMED_STATES = {"in_progress", "blocked", "delivered", "resolved"}


class Cast:
    """The teams, one person per column of the tables, and their logged-in browsers."""

    def __init__(self, app, make, *, central=False):
        self.app, self.make = app, make
        self.teams = {"marketing": make.team("Marketing"), "finance": make.team("Finance")}
        if central:
            self.teams["ops"] = make.team("Ops")
        self.marketing, self.finance = self.teams["marketing"], self.teams["finance"]
        requesters = [team for name, team in self.teams.items() if name != "finance"]
        self.ids = {
            "owner": make.user("requester", teams=requesters, name="Olivia Owner"),
            "teammate": make.user("requester", teams=requesters),
            "outsider": make.user("requester", teams=[self.finance]),
            "watcher": make.user("requester", teams=[self.finance], email=WATCHER_EMAIL),
            "team_analyst": make.user("analyst", teams=[self.marketing]),
            "other_analyst": make.user("analyst", teams=[self.finance]),
            "assignee": make.user("analyst", teams=[self.marketing]),
            "lead": make.user("lead"),
            "admin": make.user("admin"),
        }
        # The tables put one analyst on many requests at once; their WIP limit is not under test.
        make.wip_limit(self.ids["assignee"], 50)
        self._browsers = {}

    def request(self, state="submitted", *, confidential=False, requester="owner", team=None,
                **fields):
        """A request of ``requester`` to ``team`` (Marketing by default; Ops: a central one),
        watched by the watcher, in ``state``; return its id.

        A confidential request is marked so by the lead after the steps, which is how an analyst
        ends up assigned to one (only leads may claim a confidential request).
        """
        request_id = self.make.request(self.ids[requester], team or self.marketing,
                                       watchers=[WATCHER_EMAIL], **fields)
        for name, actor, inputs in STEPS[state]:
            self.make.act(request_id, name, self.ids[actor] if actor else None, **inputs)
        if confidential:
            with self.app.app_context():
                req = db.session.get(Request, request_id)
                intake.edit_request(req, db.session.get(User, self.ids["lead"]),
                                    {"is_confidential": True})
                db.session.commit()
        return request_id

    def browser(self, person):
        """A test client logged in as ``person`` (one per person, reused)."""
        if person not in self._browsers:
            actions = AuthActions(self.app.test_client(), self.app)
            actions.login(self.ids[person])
            self._browsers[person] = actions
        return self._browsers[person]
