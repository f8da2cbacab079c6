"""The data the fuzzed forms need: a small installation (the world), the subject of one example
(a request in a given state, a team, a user), and a snapshot of everything stored.

The world is built once per test (one form, one role); each example builds its own subject, so
a submission that succeeds and changes its subject does not change what the next one posts to.
"""
from datetime import date, timedelta
from types import SimpleNamespace

from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from tickets import catalogue, gaps, lifecycle, mail, notifications
from tickets.extensions import db
from tickets.models import OPEN_STATES, GapCategory, Request, Team, User

# Who plays each role (the analyst is embedded in Marketing; Finance has no analyst, so its
# requests go to the central triage queue).
ROLES = ("requester", "analyst", "lead", "admin")
ANONYMOUS = "anonymous"

# How a request reaches each state: (transition, who takes it, inputs), from submitted.
_ACCEPTED = (("accept", "analyst", {"size": "M"}),)
_IN_PROGRESS = _ACCEPTED + (("claim", "analyst", {}),)
STEPS = {
    "submitted": (),
    "waitlisted": (("waitlist", None, {"note": "Over the team's weekly budget."}),),
    "needs_info": (("ask", "analyst", {"note": "Which regions?"}),),
    "accepted": _ACCEPTED,
    "in_progress": _IN_PROGRESS,
    "blocked": _IN_PROGRESS + (("block", "analyst", {"note": "Waiting for access."}),),
    "delivered": _IN_PROGRESS + (("deliver", "analyst", {"url": "https://bi.example.com/d/1",
                                                         "note": "Filter by region."}),),
}
STEPS["resolved"] = STEPS["delivered"] + (("confirm", "requester", {}),)
# Analysts work on at most this many requests: high, so fuzzed claims are not all refused.
WIP = 50


def build_world(make):
    """Four teams (two named with letters whose case folds differently in Python, SQLite and
    PostgreSQL), one person per role, a second analyst and a disabled account."""
    marketing = make.team("Marketing")
    finance = make.team("Finance")
    make.team("Équipe")
    make.team("İstanbul")
    world = SimpleNamespace(
        marketing=marketing, finance=finance,
        requester=make.user("requester", teams=[marketing], email="rita@example.com",
                            name="Rita Requester"),
        analyst=make.user("analyst", teams=[marketing], email="ana@example.com",
                          name="Ana Analyst"),
        analyst2=make.user("analyst", teams=[marketing], email="bo@example.com",
                           name="Bo Analyst"),
        lead=make.user("lead", email="leo@example.com", name="Leo Lead"),
        admin=make.user("admin", email="ada@example.com", name="Ada Admin"),
        disabled=make.user("requester", teams=[marketing], email="gone@example.com",
                           name="Gone Requester", is_active=False),
    )
    for person in (world.analyst, world.analyst2, world.lead):
        make.wip_limit(person, WIP)
    # What strategies choose from is read once: a strategy that read the database of each
    # example would draw differently when hypothesis replays a failure, which it refuses.
    with make.app.app_context():
        world.teams = db.session.execute(select(Team.id, Team.name, Team.is_active)
                                         .order_by(Team.id)).all()
        world.users = db.session.execute(select(User.id, User.email, User.role, User.is_active)
                                         .order_by(User.id)).all()
    return world


class Context:
    """One example's view of the world and its subject, for strategies and paths."""

    def __init__(self, app, make, world):
        self.app, self.make, self.world = app, make, world
        self.today = date.today()
        self.request_id = self.other_id = self.team_id = self.user_id = None
        self.category_id = None
        self.version = None
        self.teams, self.users = world.teams, world.users

    # --- subjects ---------------------------------------------------------------------------

    def request_in(self, state, team=None, **fields):
        """Make the subject: a request of the world's requester, brought to ``state``."""
        world = self.world
        self.request_id = self.make.request(world.requester, team or world.marketing, **fields)
        for name, who, inputs in STEPS[state]:
            if name == "claim":  # fuzzed settings may have lowered the analyst's limit
                self.make.wip_limit(world.analyst, WIP)
            self.make.act(self.request_id, name, getattr(world, who) if who else None, **inputs)
        self.version = self.make.get(Request, self.request_id).version
        return self.request_id

    def other_request(self):
        """A second request (the original a duplicate points at)."""
        self.other_id = self.make.request(self.world.requester, self.world.marketing,
                                          title="The original request")
        return self.other_id

    def new_team(self):
        self.team_id = self.make.team()
        return self.team_id

    def new_user(self):
        self.user_id = self.make.user("requester", teams=[self.world.marketing])
        return self.user_id

    def answers(self):
        """What answers questions in the world, made on first use and kept for the whole test
        (a deflection or a suggestion changes none of it): a delivered request of Marketing
        and an active asset that answered it; and what cannot answer anything: a request not
        delivered yet and a deprecated asset. Returns the world, which holds their ids
        (``answer_request``, ``answer_asset``, ``undelivered``, ``deprecated_asset``)."""
        world = self.world
        if getattr(world, "answer_request", None) is not None:
            return world
        delivered = self.make.request(
            world.requester, world.marketing, title="Weekly churn by region",
            data_needed="Churned customers per region and week, for the retention review.")
        for name, who, inputs in STEPS["delivered"]:
            self.make.act(delivered, name, getattr(world, who), **inputs)
        undelivered = self.make.request(world.requester, world.marketing,
                                        title="Churn forecast by region")
        with self.app.app_context():
            analyst = db.session.get(User, world.analyst)
            assets = [catalogue.add_asset(
                analyst, title=title, url="https://bi.example.com/churn", kind="dashboard",
                team_id=world.marketing, status=status, request=db.session.get(Request, answered))
                for title, status, answered in (
                    ("Churn dashboard", "active", delivered),
                    ("Old churn dashboard", "deprecated", undelivered))]
            db.session.commit()
            world.answer_asset, world.deprecated_asset = (asset.id for asset in assets)
        world.answer_request, world.undelivered = delivered, undelivered
        return world

    def answer_refs(self):
        """The answers a suggestion's "This answers my question" posts ("asset:7")."""
        world = self.answers()
        return (f"request:{world.answer_request}", f"asset:{world.answer_asset}")

    def non_answer_refs(self):
        """Things that exist but answer nothing: a request not delivered, a deprecated asset."""
        world = self.answers()
        return (f"request:{world.undelivered}", f"asset:{world.deprecated_asset}")

    def gap_category_ids(self):
        """The ids of the platform-gap categories offered: the default taxonomy (the emptied
        test database lacks the migration's), made on first use and read once per world."""
        world = self.world
        if getattr(world, "gap_category_ids", None) is None:
            with self.app.app_context():
                gaps.add_defaults()
                db.session.commit()
                world.gap_category_ids = tuple(str(category.id)
                                               for category in gaps.active_categories())
        return world.gap_category_ids

    def new_category(self, state="active"):
        """Make the subject: a platform-gap category (after the default taxonomy, which the
        emptied test database lacks) that is ``active``, ``retired``, ``in_use`` (a gap was
        recorded under it) or ``last`` (the only active one)."""
        world = self.world
        gap_request = (self.make.request(world.requester, world.marketing)
                       if state == "in_use" else None)
        with self.app.app_context():
            gaps.add_defaults()
            last = db.session.scalar(select(db.func.max(GapCategory.id))) or 0
            category = gaps.add_category(None, f"Subject category {last + 1}",
                                         "Made for one example.")
            if state == "retired":
                category.is_active = False
            elif state == "last":
                for other in gaps.active_categories():
                    other.is_active = other is category
            elif state == "in_use":
                gaps.record(db.session.get(Request, gap_request),
                            db.session.get(User, world.analyst), category.id,
                            "Made for one example.", 1, "delivery")
            db.session.commit()
            self.category_id = category.id
        return self.category_id

    def retire(self):
        """Close the subject if it is still open (a lead cancels it): fuzzed claims never meet
        a WIP limit filled by earlier examples, and queues, clocks and pages stay as small in
        a run of thousands of examples as in one of ten."""
        if self.request_id is None:
            return
        with self.app.app_context():
            state = db.session.get(Request, self.request_id).state
        if state in OPEN_STATES:
            self.make.act(self.request_id, "cancel", self.world.lead)

    # --- values strategies read -------------------------------------------------------------

    def team_names(self):
        return tuple(name for _, name, _ in self.teams)

    def active_team_ids(self):
        return tuple(str(team_id) for team_id, _, active in self.teams if active)

    def all_team_ids(self):
        return tuple(str(team_id) for team_id, _, _ in self.teams)

    def emails(self):
        return tuple(email for _, email, _, _ in self.users)

    def worker_ids(self):
        return tuple(str(user_id) for user_id, _, role, active in self.users
                     if active and role in lifecycle.WORKER_ROLES)

    def version_offset(self, offset):
        """The subject's version moved by ``offset`` (0: current; others: stale or future)."""
        return str((self.version or 0) + offset)

    def token(self, user_id, what):
        """The unsubscribe token mail would carry for user ``user_id``."""
        with self.app.test_request_context():
            return mail.unsubscribe_token(SimpleNamespace(id=user_id), what)

    def unwatch_token(self, request_id, email):
        """The stop-following token a watcher without an account gets in mail."""
        with self.app.test_request_context():
            return notifications.unwatch_token(SimpleNamespace(request_id=request_id,
                                                               email=email))

    def tokens_bad(self):
        """Unsubscribe tokens that are forged, tampered, or name nobody."""
        good = self.token(self.world.requester, "digest")
        forged = URLSafeSerializer("dev-only-not-secret", salt="datadesk-unsubscribe")
        return (good[:-2] + ("AA" if not good.endswith("AA") else "BB"), good + "x",
                good.upper(), good[::-1], self.token(10**6, "digest"), "..", "%00",
                forged.dumps({"u": self.world.requester, "w": "digest"}))

    def future(self, days):
        return (self.today + timedelta(days=days)).isoformat()


def snapshot(app):
    """Every row of every table, by table name: what 'nothing stored changed' compares."""
    with app.app_context(), db.engine.connect() as connection:
        rows = {}
        for table in db.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            # repr: JSON columns hold lists and dicts, which a set cannot compare.
            rows[table.name] = [repr(tuple(row)) for row in connection.execute(query)]
        return rows


def differences(before, after, limit=5):
    """A short description of what changed between two snapshots (empty when nothing did)."""
    lines = []
    for name in before:
        old, new = set(before[name]), set(after[name])
        if old != new:
            lines.append(f"{name}: removed {_short(sorted(old - new)[:limit])}, "
                         f"added {_short(sorted(new - old)[:limit])}")
    return "\n".join(lines)


def _short(value, width=600):
    text = repr(value)
    return text if len(text) <= width else text[:width] + f"\u2026 ({len(text)} chars)"
