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


PLAN = (
    # requester@example.com (Marketing): something waits on them, and a bit of everything.
    Planned("campaign_roi", "asked", "requester@example.com", "analyst@example.com"),
    Planned("newsletter_dashboard", "delivered", "requester@example.com", "analyst@example.com"),
    Planned("campaign_roi", "resolved_reopened", "requester@example.com", "sofia.alvarez@example.com"),
    Planned("lead_source_issue", "new", "requester@example.com", deadline_in=2),
    Planned("campaign_roi", "cancelled", "requester@example.com"),
    Planned("newsletter_dashboard", "working", "requester@example.com", "sofia.alvarez@example.com"),
    # analyst@example.com (Marketing, Finance): work in progress and a blocked request.
    Planned("invoice_mismatch", "working", "hannah.schmidt@example.com", "analyst@example.com"),
    Planned("lead_source_issue", "unblocked", "liam.oconnor@example.com", "analyst@example.com"),
    Planned("revenue_bridge", "blocked", "daniel.kim@example.com", "analyst@example.com",
            deadline_in=2),
    Planned("revenue_bridge", "resolved_after_questions", "hannah.schmidt@example.com",
            "analyst@example.com"),
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
    Planned("cloud_costs", "resolved"),
    Planned("cloud_costs", "cancelled"),
    Planned("invoice_mismatch", "new_nudged"),
    Planned("revenue_bridge", "new", "hannah.schmidt@example.com"),
    Planned("newsletter_dashboard", "resolved", "liam.oconnor@example.com"),
    # Product
    Planned("feature_adoption", "new", "olivia.martin@example.com"),
    Planned("feature_adoption", "resolved", "arjun.patel@example.com"),
    Planned("feature_adoption", "self_serve", "olivia.martin@example.com"),
    Planned("ab_test", "working", "arjun.patel@example.com", "tom.becker@example.com"),
    Planned("ab_test", "delivered", "olivia.martin@example.com"),
    Planned("ab_test", "reopened", "arjun.patel@example.com"),
    Planned("events_table", "blocked", "olivia.martin@example.com", "kenji.tanaka@example.com"),
    Planned("events_table", "triaged", "arjun.patel@example.com"),
    # Customer Support: a small ad-hoc budget (DEMO_BUDGETS), used up this week (THIS_WEEK)
    Planned("contact_reasons", "resolved", "tomas.novak@example.com", key="contacts"),
    Planned("contact_reasons", "waitlisted", "grace.mwangi@example.com"),
    Planned("contact_reasons", "released", "tomas.novak@example.com"),
    Planned(None, "duplicate", "grace.mwangi@example.com", original="contacts"),
    Planned("csat_dashboard", "answered_working", "grace.mwangi@example.com"),
    Planned("csat_dashboard", "handed_back", "tomas.novak@example.com"),
    Planned("csat_dashboard", "blocked"),
    Planned("response_time_issue", "new_edited", "tomas.novak@example.com"),
    Planned("response_time_issue", "auto_resolved", "grace.mwangi@example.com"),
    Planned("response_time_issue", "resolved"),
    # Sales
    Planned("pipeline_forecast", "asked_after_triage", "ben.carter@example.com"),
    Planned("pipeline_forecast", "approved", "chloe.dubois@example.com"),
    Planned("pipeline_forecast", "self_serve", "ben.carter@example.com"),
    Planned("churn_risk", "working", "ben.carter@example.com", "sofia.alvarez@example.com",
            key="churn"),
    Planned("churn_risk", "new", "chloe.dubois@example.com"),
    Planned(None, "duplicate", "chloe.dubois@example.com", original="churn"),
    Planned("churn_risk", "resolved"),
    Planned("win_loss", "triaged", "ben.carter@example.com", key="win_loss"),
    Planned("win_loss", "cancelled_late", "chloe.dubois@example.com"),
)

# Submitted this week, after the teams' budgets are set (teams.DEMO_BUDGETS).
THIS_WEEK = (
    Planned("escalations", "new", "grace.mwangi@example.com"),
    Planned("escalations", "new", "tomas.novak@example.com"),
    Planned("escalations", "new", "grace.mwangi@example.com"),
)
