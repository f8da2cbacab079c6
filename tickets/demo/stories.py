"""The demo's stories (the steps a request goes through) and the plan of its requests."""
from typing import NamedTuple

# Transitions by name ("decline:self_serve" fixes the reason); "say_*" are comments, "edit" an
# edit by the requester.
STORIES = {
    "new": (),
    "new_nudged": ("say_nudge",),
    "new_edited": ("edit",),
    "asked": ("ask",),
    "asked_after_triage": ("accept", "ask"),
    "waitlisted": ("waitlist", "say_budget"),
    "released": ("waitlist", "release"),
    "triaged": ("accept",),
    "handed_back": ("accept", "claim", "say_progress", "unclaim"),
    "working": ("accept", "claim", "say_progress"),
    "answered_working": ("ask", "edit", "answer", "accept", "claim"),
    "unblocked": ("accept", "claim", "block", "unblock"),
    "blocked": ("accept", "claim", "block"),
    "delivered": ("accept", "claim", "deliver"),
    "reopened": ("accept", "claim", "deliver", "reopen", "deliver"),
    "resolved": ("accept", "claim", "deliver", "confirm"),
    "resolved_after_questions": ("ask", "answer", "accept", "claim", "say_progress", "deliver",
                                 "say_thanks", "confirm"),
    "resolved_reopened": ("accept", "claim", "deliver", "reopen", "deliver", "confirm"),
    "approved": ("waitlist", "approve", "claim", "deliver", "confirm"),
    "auto_resolved": ("accept", "claim", "deliver", "auto_resolve"),
    "self_serve": ("decline:self_serve",),
    "declined": ("decline",),
    "duplicate": ("mark_duplicate",),
    "cancelled": ("cancel",),
    "cancelled_late": ("accept", "cancel"),
}

# Who takes each step: the request's requester, its worker (the analyst, or lead, handling it),
# a lead, or the system (None).
ACTORS = {
    "accept": "worker", "ask": "worker", "claim": "worker", "block": "worker",
    "unblock": "worker", "unclaim": "worker", "deliver": "worker", "decline": "worker",
    "mark_duplicate": "worker", "say_progress": "worker",
    "answer": "requester", "confirm": "requester", "reopen": "requester", "cancel": "requester",
    "edit": "requester", "say_thanks": "requester", "say_nudge": "requester",
    "approve": "lead", "say_budget": "lead",
    "waitlist": "system", "release": "system", "auto_resolve": "system",
}


class Planned(NamedTuple):
    """One demo request: which template, which story, and who, where it matters."""

    template: str | None
    story: str
    requester: str | None = None  # e-mail; None: someone of the template's team
    worker: str | None = None  # e-mail; None: an analyst embedded in the team (or a lead)
    deadline_in: int | None = None  # days from now, for short-notice requests
    reason: str | None = None  # decline reason for the "declined" story
    key: str | None = None  # a name duplicates refer to
    original: str | None = None  # for duplicates: the key of the original (template copied)
    # What became of a resolved request (demo.outcomes plays it): answers separated by " then ",
    # each "acted", "decided_not_to_act", "not_yet" or "not_used:<reason>", "/mail" for a
    # one-click answer from the mail (no decision); a leading "late " answers only after the
    # reminder. "": the follow-up is asked (and reminded) and waits for an answer.
    outcome: str = ""
    ago: tuple | None = None  # days since the last step (a range), instead of the default
    know_by: int | None = None  # at confirmation: "I will know by" this many days later
    watchers: tuple | None = None  # instead of a random choice of watchers


PLAN = (
    # requester@example.com (Marketing): something waits on them, and a bit of everything.
    Planned("campaign_roi", "asked", "requester@example.com", "analyst@example.com"),
    Planned("newsletter_dashboard", "delivered", "requester@example.com", "analyst@example.com"),
    Planned("campaign_roi", "resolved_reopened", "requester@example.com", "sofia.alvarez@example.com",
            outcome="not_yet then acted"),
    Planned("lead_source_issue", "new", "requester@example.com", deadline_in=2),
    Planned("campaign_roi", "cancelled", "requester@example.com"),
    Planned("newsletter_dashboard", "working", "requester@example.com", "sofia.alvarez@example.com"),
    # analyst@example.com (Marketing, Finance): work in progress and a blocked request.
    Planned("invoice_mismatch", "working", "hannah.schmidt@example.com", "analyst@example.com"),
    Planned("lead_source_issue", "unblocked", "liam.oconnor@example.com", "analyst@example.com"),
    Planned("revenue_bridge", "blocked", "daniel.kim@example.com", "analyst@example.com",
            deadline_in=2),
    Planned("revenue_bridge", "resolved_after_questions", "hannah.schmidt@example.com",
            "analyst@example.com", outcome="acted"),
    # People has no embedded analyst: the leads handle its requests.
    Planned("pay_equity", "working", "nadia.haddad@example.com", "lead@example.com"),
    Planned("pay_equity", "triaged", "nadia.haddad@example.com", "marcus.reid@example.com"),
    Planned("attrition", "new", "nadia.haddad@example.com", deadline_in=1),
    Planned("attrition", "resolved", "nadia.haddad@example.com", "lead@example.com"),
    Planned("hiring_funnel", "asked", "nadia.haddad@example.com", "marcus.reid@example.com"),
    Planned("hiring_funnel", "declined", "nadia.haddad@example.com", "lead@example.com",
            reason="low_value"),
    # Finance and Marketing
    Planned("cloud_costs", "triaged", "daniel.kim@example.com"),
    Planned("cloud_costs", "resolved", outcome="late acted"),
    Planned("cloud_costs", "cancelled"),
    Planned("invoice_mismatch", "new_nudged"),
    Planned("revenue_bridge", "new", "hannah.schmidt@example.com"),
    Planned("newsletter_dashboard", "resolved", "liam.oconnor@example.com"),
    # Product
    Planned("feature_adoption", "new", "olivia.martin@example.com"),
    Planned("feature_adoption", "resolved", "arjun.patel@example.com",
            outcome="decided_not_to_act"),
    Planned("feature_adoption", "self_serve", "olivia.martin@example.com"),
    Planned("ab_test", "working", "arjun.patel@example.com", "tom.becker@example.com"),
    Planned("ab_test", "delivered", "olivia.martin@example.com"),
    Planned("ab_test", "reopened", "arjun.patel@example.com"),
    Planned("events_table", "blocked", "olivia.martin@example.com", "kenji.tanaka@example.com"),
    # Accepted four weeks ago and never started: past the oldest-first limit (15 working days),
    # so it heads Product's queue whatever its score, and its explanation says why.
    Planned("events_table", "triaged", "arjun.patel@example.com", ago=(27, 29)),
    # Customer Support: a small ad-hoc budget (DEMO_BUDGETS), used up this week (THIS_WEEK)
    Planned("contact_reasons", "resolved", "tomas.novak@example.com", key="contacts",
            outcome="not_yet"),
    Planned("contact_reasons", "waitlisted", "grace.mwangi@example.com"),
    Planned("contact_reasons", "released", "tomas.novak@example.com"),
    Planned(None, "duplicate", "grace.mwangi@example.com", original="contacts"),
    Planned("csat_dashboard", "answered_working", "grace.mwangi@example.com"),
    Planned("csat_dashboard", "handed_back", "tomas.novak@example.com"),
    Planned("csat_dashboard", "blocked"),
    Planned("response_time_issue", "new_edited", "tomas.novak@example.com"),
    Planned("response_time_issue", "auto_resolved", "grace.mwangi@example.com", outcome="acted"),
    Planned("response_time_issue", "resolved"),
    # Sales
    Planned("pipeline_forecast", "asked_after_triage", "ben.carter@example.com"),
    Planned("pipeline_forecast", "approved", "chloe.dubois@example.com",
            outcome="not_used:too_late"),
    Planned("pipeline_forecast", "self_serve", "ben.carter@example.com"),
    Planned("churn_risk", "working", "ben.carter@example.com", "sofia.alvarez@example.com",
            key="churn"),
    Planned("churn_risk", "new", "chloe.dubois@example.com"),
    Planned(None, "duplicate", "chloe.dubois@example.com", original="churn"),
    Planned("churn_risk", "resolved"),
    Planned("win_loss", "triaged", "ben.carter@example.com", key="win_loss"),
    Planned("win_loss", "cancelled_late", "chloe.dubois@example.com"),
    # -- What became of deliveries (demo.outcomes). Planned after the rows above, so that their
    # titles and dates stay the same. Marketing uses most of what it asks for; Sales rarely.
    Planned("channel_mix", "resolved", "requester@example.com", "analyst@example.com",
            ago=(40, 45), outcome="acted", know_by=10),
    Planned("channel_mix", "resolved_after_questions", "requester@example.com",
            "sofia.alvarez@example.com", ago=(16, 18)),
    Planned("channel_mix", "resolved", "liam.oconnor@example.com", ago=(25, 30),
            outcome="decided_not_to_act"),
    Planned("lead_source_issue", "resolved", "liam.oconnor@example.com", ago=(20, 25),
            outcome="acted/mail then acted"),
    Planned("discount_analysis", "resolved", "ben.carter@example.com", ago=(45, 50),
            outcome="not_used:not_what_was_needed"),
    Planned("discount_analysis", "resolved", "chloe.dubois@example.com", ago=(30, 35),
            outcome="decided_not_to_act"),
    Planned("territory_plan", "resolved", "ben.carter@example.com", ago=(35, 40),
            outcome="late not_used:decided_otherwise"),
    Planned("territory_plan", "resolved_after_questions", "chloe.dubois@example.com",
            ago=(20, 24), outcome="not_used:hard_to_use"),
    Planned("win_loss", "resolved", "ben.carter@example.com", ago=(50, 55)),
    # Jonas Weber left Sales (teams.LEFT): one follow-up goes to the colleague watching it,
    # the other has nobody left to ask.
    Planned("discount_analysis", "resolved", "jonas.weber@example.com", ago=(26, 30),
            watchers=("ben.carter@example.com",)),
    Planned("territory_plan", "resolved", "jonas.weber@example.com", ago=(12, 14),
            watchers=("sales-ops@example.com",)),
    Planned("price_change", "resolved", "daniel.kim@example.com", ago=(30, 35),
            outcome="decided_not_to_act"),
    Planned("price_change", "resolved", "hannah.schmidt@example.com", ago=(3, 5), know_by=45),
    Planned("invoice_mismatch", "resolved", "daniel.kim@example.com", ago=(15, 20),
            outcome="not_yet/mail"),
    Planned("events_table", "resolved", "olivia.martin@example.com", "kenji.tanaka@example.com",
            ago=(40, 45), know_by=14),
    Planned("attrition", "resolved", "nadia.haddad@example.com", "marcus.reid@example.com",
            ago=(35, 40), outcome="acted"),
    Planned("hiring_funnel", "resolved", "nadia.haddad@example.com", "lead@example.com",
            ago=(45, 50)),
)

# Submitted this week, after the teams' budgets are set (teams.DEMO_BUDGETS).
THIS_WEEK = (
    Planned("escalations", "new", "grace.mwangi@example.com"),
    Planned("escalations", "new", "tomas.novak@example.com"),
    Planned("escalations", "new", "grace.mwangi@example.com"),
)
