"""Playing the demo's histories: each planned request is scheduled in working hours before
``now``, then submitted and moved through its story by the domain functions, back-dated."""
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func

from .. import budget, conversation, intake, lifecycle, localtime, people, queues, settings
from ..extensions import db
from ..models import CLOSED_STATES, IN_WORK_STATES, Team, User
from .stories import ACTORS, PLAN, STORIES, THIS_WEEK, Planned
from .teams import (DEMO_BUDGETS, DEMO_PASSWORD, INVITED, LEFT, SELF_SERVE, TEAM_LISTS, TEAMS,
                    TIME_ZONES, USERS)
from .texts import (CANCEL_NOTES, COMMENTS, DECLINE_NOTES, RATINGS, REDELIVERY_NOTES,
                    REOPEN_NOTES, TEMPLATES, TEXTS, UNBLOCK_NOTES, UNCLAIM_NOTES, Template)

# How far back the histories reach, and how long each step takes (in working hours).
HISTORY = timedelta(weeks=10)
SYSTEM_STEPS = frozenset({"waitlist", "release", "auto_resolve"})
GAP_HOURS = {
    "accept": (1, 30), "ask": (1, 24), "answer": (2, 40), "waitlist": (0.02, 0.2),
    "release": (50, 120), "approve": (3, 30), "claim": (2, 60), "block": (4, 40),
    "unblock": (20, 80), "unclaim": (20, 60), "confirm": (2, 50), "auto_resolve": (168, 170),
    "reopen": (3, 40), "decline": (2, 30), "mark_duplicate": (1, 24), "cancel": (24, 150),
    "edit": (1, 30), "say": (1, 20),
}
DELIVERY_HOURS = {"S": (3, 20), "M": (24, 70), "L": (100, 220), "XL": (220, 380)}
# How long ago a request's last step happened, in days, by its final state.
RECENCY_DAYS = {
    "submitted": (0.05, 4), "needs_info": (0.5, 6), "waitlisted": (0.2, 4),
    "accepted": (0.5, 9), "in_progress": (0.2, 4), "blocked": (0.5, 6), "delivered": (0.2, 3),
}
CLOSED_RECENCY_DAYS = (1, 60)
WIP_LIMIT = 3


@dataclass
class _Scheduled:
    """A planned request with everything decided: people, intake fields and step times."""

    row: Planned
    template: Template
    filler: str
    texts: dict
    team: Team
    requester: User
    worker: User
    lead: User
    size: str
    fields: dict
    watchers: list
    steps: tuple
    times: list  # creation, then one time per step


class Seeder:
    """Plans the demo requests, then plays their histories through the domain functions."""

    def __init__(self, now):
        self.now = now
        self.rng = random.Random(42)
        self.teams = {}
        self.users = {}
        self.leads = []
        self.fillers = {}
        self.wip = {}
        self.planned_by_key = {}
        self.requests_by_key = {}
        self.played = []  # (item, request), in the order they were played

    def run(self):
        """Create the teams and people, play every planned history, then this week's."""
        joined = self.now - HISTORY - timedelta(weeks=2)
        self._seed_teams(joined)
        self._seed_users(joined)
        plan = [self._plan(row) for row in PLAN]
        plan.sort(key=lambda item: item.times[0])
        for item in plan:
            self._play(item)
        self._this_week(joined)

    def _this_week(self, joined):
        """Set the teams' budgets, then submit this week's last requests through the real
        rule (those over Customer Support's budget are waitlisted), and release what has room
        (as the weekly job would)."""
        lead = self.users["lead@example.com"]
        for name, weekly in DEMO_BUDGETS.items():
            settings.set_team_budget(self.teams[name], weekly, lead, joined)
        start = max(localtime.week_start(self.now), self.now - timedelta(days=2))
        at = start
        for row in THIS_WEEK:
            item = self._plan(row)
            at = _between(at, self.now, self.rng.uniform(0.2, 0.5))
            item.times = [at]
            self._play(item)
        budget.release_waitlisted(self.now)
        # A lead's reason to move one request to the top of its team's queue.
        queues.override_rank(self.requests_by_key["win_loss"], lead, 1,
                             "The CRO presents win/loss at Friday's board meeting.",
                             self.now - timedelta(hours=3))

    # -- teams and people

    def _seed_teams(self, joined):
        for name, description in TEAMS:
            team = db.session.scalars(
                db.select(Team).where(func.lower(Team.name) == name.lower())).first()
            if team is None:
                team = people.save_team(None, name=name, description=description)
                team.created_at = joined
            self.teams[name] = team

    def _seed_users(self, joined):
        for name, email, role, team_names in USERS:
            user = db.session.scalars(db.select(User).where(User.email == email)).first()
            if user is None:
                user = people.save_user(
                    None, name=name, email=email, role=role,
                    team_ids=[self.teams[team].id for team in team_names], password=DEMO_PASSWORD,
                    time_zone=TIME_ZONES.get(email), now=joined)
                user.created_at = joined
            self.users[email] = user
        for name, email, role, team_names, days in INVITED:
            if db.session.scalars(db.select(User).where(User.email == email)).first() is None:
                user = people.save_user(
                    None, name=name, email=email, role=role,
                    team_ids=[self.teams[team].id for team in team_names])
                user.created_at = user.invited_at = self.now - timedelta(days=days)
        self.leads = [user for user in self.users.values() if user.role == "lead"]

    def _members(self, team, role):
        return [user for user in self.users.values()
                if user.role == role and team in user.teams and user.email not in LEFT]

    # -- planning

    def _plan(self, row):
        rng = self.rng
        if row.original:
            original = self.planned_by_key[row.original]
            template, filler = original.template, original.filler
        else:
            template = TEMPLATES[row.template]
            filler = self._next_filler(row.template)
        team = self.teams[template.team]
        texts = {name: getattr(template, name).format(x=filler) for name in TEXTS}
        steps = STORIES[row.story]
        final = _final_state(steps)

        if row.requester:
            requester = self.users[row.requester]
        else:
            requester = rng.choice([u for u in self._members(team, "requester")
                                    if not row.original or u is not original.requester])
        worker = self._pick_worker(row, team, template, final)
        lead = rng.choice(self.leads)
        size = template.size if rng.random() < 0.7 else rng.choice(list(DELIVERY_HOURS))
        impact = min(5, max(1, template.impact + rng.choice((-1, 0, 0, 0, 1))))
        sponsored = bool(template.sponsor) and rng.random() < 0.7
        watchers = [] if template.confidential else self._watchers(team, requester)
        if row.watchers is not None:
            watchers = list(row.watchers)

        if row.original:
            times = self._times_after(original.times[0], len(steps))
        else:
            times = self._timeline(steps, size, final, row.ago)
        fields = {
            "title": texts["title"], "team_id": team.id, "data_needed": texts["data_needed"],
            "format": template.format, "usage": texts["usage"],
            "lever_result": texts["result"], "lever_expected_shape": texts["shape"],
            "lever_extraction": texts["extraction"], "lever_decision": texts["decision"],
            "deadline": self._deadline(row, final, times[0]), "kind": template.kind,
            "business_impact": impact, "is_exec_sponsored": sponsored,
            "exec_sponsor": template.sponsor if sponsored else "",
            "is_confidential": template.confidential,
        }
        item = _Scheduled(row, template, filler, texts, team, requester, worker, lead, size,
                          fields, watchers, steps, times)
        if row.key:
            self.planned_by_key[row.key] = item
        return item

    def _next_filler(self, key):
        """Each template's variations in a shuffled order, so titles do not repeat."""
        if not self.fillers.get(key):
            fillers = TEMPLATES[key].fillers
            self.fillers[key] = self.rng.sample(fillers, len(fillers))
        return self.fillers[key].pop()

    def _pick_worker(self, row, team, template, final):
        """The analyst (or lead) who handles the request, keeping everyone within WIP limits."""
        if row.worker:
            worker = self.users[row.worker]
        elif template.confidential:
            worker = self.rng.choice(self.leads)
        else:
            candidates = self._members(team, "analyst")
            if final in IN_WORK_STATES:
                candidates = [a for a in candidates if self.wip.get(a.id, 0) < WIP_LIMIT]
            worker = self.rng.choice(candidates or self.leads)
        if final in IN_WORK_STATES:
            self.wip[worker.id] = self.wip.get(worker.id, 0) + 1
        return worker

    def _watchers(self, team, requester):
        if self.rng.random() >= 0.35:
            return []
        pool = [u.email for u in self._members(team, "requester") if u is not requester]
        pool.append(TEAM_LISTS[team.name])
        return sorted(self.rng.sample(pool, min(len(pool), self.rng.choice((1, 2)))))

    def _deadline(self, row, final, created):
        if row.deadline_in is not None:
            return (self.now + timedelta(days=row.deadline_in)).date()
        if self.rng.random() < 0.25:
            return None
        if final not in CLOSED_STATES:
            return (self.now + timedelta(days=self.rng.randint(5, 35))).date()
        return (created + timedelta(days=self.rng.randint(7, 30))).date()

    def _timeline(self, steps, size, final, ago=None):
        """Creation and step times: working hours, ending a while ago, never after now."""
        gaps, delivered = [], False
        for step in steps:
            name = step.partition(":")[0]
            if name == "deliver":
                hours = DELIVERY_HOURS["S" if delivered else size]
                delivered = True
            else:
                hours = GAP_HOURS["say" if name.startswith("say_") else name]
            gaps.append(timedelta(hours=self.rng.uniform(*hours)))
        ago = ago or RECENCY_DAYS.get(final, CLOSED_RECENCY_DAYS)
        end = self.now - timedelta(days=self.rng.uniform(*ago))
        start = max(end - sum(gaps, timedelta()), self.now - HISTORY)
        for attempt in range(1, 100):
            times = _walk(start, steps, gaps)
            overflow = times[-1] - self.now
            if overflow <= timedelta(0):
                return times
            start -= overflow + timedelta(hours=attempt)
        raise RuntimeError("no demo timeline fits before now")

    def _times_after(self, origin, count):
        """Times strictly between ``origin`` and now, for a request filed after another."""
        times = [origin]
        for _ in range(count + 1):
            times.append(_between(times[-1], self.now, self.rng.uniform(0.2, 0.6)))
        return times[1:]

    # -- playing the histories

    def _play(self, item):
        request = intake.submit_request(item.requester, item.fields, watchers=item.watchers,
                                        now=item.times[0])
        if item.row.key:
            self.requests_by_key[item.row.key] = request
        self.played.append((item, request))
        deliveries = 0
        for step, at in zip(item.steps, item.times[1:]):
            name, _, arg = step.partition(":")
            actor = {"worker": item.worker, "requester": item.requester, "lead": item.lead,
                     "system": None}[ACTORS[name]]
            if name.startswith("say_"):
                text = self.rng.choice(COMMENTS[name[4:]]).format(
                    team=item.team.name, requester=item.requester.name, lead=item.lead.name)
                intake.add_comment(request, actor, text, now=at,
                                   mentioned=conversation.resolve_mentions(request, actor, text))
            elif name == "edit":
                self._edit(item, request, at)
            else:
                if name == "deliver":
                    deliveries += 1
                inputs = self._inputs(item, request, name, arg, deliveries, at)
                lifecycle.transition(request, name, actor, now=at, **inputs)

    def _inputs(self, item, request, name, arg, deliveries, at):
        """The note, size, link, reason, original, rating or "know by" day that the step
        ``name`` (at ``at``) takes."""
        rng, texts, team = self.rng, item.texts, item.team.name
        if name == "accept":
            return {"size": item.size}
        if name == "approve":
            return {"size": item.size, "note": "Approved over budget: it feeds a decision that "
                                               "can't wait for next week's slot."}
        if name in ("ask", "answer"):
            return {"note": texts["question" if name == "ask" else "answer"]}
        if name == "block":
            return {"note": texts["blocked"]}
        if name == "unblock":
            return {"note": rng.choice(UNBLOCK_NOTES)}
        if name == "unclaim":
            return {"note": rng.choice(UNCLAIM_NOTES)}
        if name == "deliver":
            url = _asset_url(item.template.format, texts["title"], deliveries)
            note = texts["delivery"] if deliveries == 1 else rng.choice(REDELIVERY_NOTES)
            return {"url": url, "note": note}
        if name == "confirm":
            inputs = {"rating": rng.choice(RATINGS)}
            if item.row.know_by:
                inputs["know_by"] = localtime.local_today(at) + timedelta(days=item.row.know_by)
            return inputs
        if name == "reopen":
            return {"note": rng.choice(REOPEN_NOTES)}
        if name == "decline":
            reason = arg or item.row.reason or rng.choice(
                ("low_value", "no_data", "out_of_scope", "no_capacity"))
            dashboard, url = SELF_SERVE[team]
            note = DECLINE_NOTES[reason].format(dashboard=dashboard)
            return {"reason": reason, "note": note, "url": url if reason == "self_serve" else None}
        if name == "mark_duplicate":
            original = self.requests_by_key[item.row.original]
            return {"original": original,
                    "note": f"Same question as #{original.id}; you'll follow that request from now on."}
        if name == "cancel":
            return {"note": rng.choice(CANCEL_NOTES)}
        if name == "waitlist":
            return {"note": f"{team} has used its ad-hoc budget for this week; the request "
                            "starts when a slot frees up."}
        if name == "release":
            return {"note": f"A slot in {team}'s ad-hoc budget freed up."}
        if name == "auto_resolve":
            return {"note": "Delivered five business days ago without a reply; resolved automatically."}
        return {}

    def _edit(self, item, request, at):
        """The requester moves the deadline out a week and adds a colleague as watcher."""
        deadline = (request.deadline or at.date() + timedelta(days=14)) + timedelta(days=7)
        colleagues = [u.email for u in self._members(item.team, "requester")
                      if u is not item.requester and u.email not in request.watcher_emails]
        watchers = request.watcher_emails + colleagues[:1]
        intake.edit_request(request, item.requester, {"deadline": deadline}, watchers=watchers,
                            now=at)


# --- Helpers --------------------------------------------------------------------------------


def _final_state(steps):
    """The state the transitions among ``steps`` lead to from 'submitted'."""
    state, resume = "submitted", None
    for step in steps:
        t = lifecycle.TRANSITIONS.get(step.partition(":")[0])
        if t is None:
            continue
        target = t.target or resume or "submitted"
        if target == "needs_info":
            resume = state
        elif state == "needs_info":
            resume = None
        state = target
    return state


def _working_time(at):
    """``at`` if inside working hours (Monday to Friday, 08:00-18:00 UTC), else a later morning."""
    morning = 8 + at.hour % 5  # spread the catch-up over the morning, not all at 08:00
    if at.hour >= 18:
        at = (at + timedelta(days=1)).replace(hour=morning)
    elif at.hour < 8:
        at = at.replace(hour=morning)
    while at.weekday() >= 5:
        at = (at + timedelta(days=1)).replace(hour=morning)
    return at


def _walk(start, steps, gaps):
    times = [_working_time(start)]
    for step, gap in zip(steps, gaps):
        at = times[-1] + gap
        times.append(at if step in SYSTEM_STEPS else _working_time(at))
    return times


def _between(earlier: datetime, later: datetime, share: float) -> datetime:
    """A time ``share`` of the way from ``earlier`` to ``later``, in working hours if that fits."""
    at = earlier + (later - earlier) * share
    snapped = _working_time(at)
    return snapped if snapped <= later else at


def _asset_url(format_, title, version):
    """A believable link to a delivered asset."""
    slug = "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())
    if version > 1:
        slug += f"-v{version}"
    base = {
        "dashboard": "https://bi.example.com/dashboards/",
        "spreadsheet": "https://drive.example.com/sheets/",
        "analysis": "https://docs.example.com/analyses/",
        "presentation": "https://docs.example.com/slides/",
        "table": "https://bi.example.com/warehouse/analytics/",
        "answer": "https://bi.example.com/queries/",
    }[format_]
    return base + slug
