"""Demo data: the teams, people and requests behind ``flask seed-demo``.

Everything is created through the domain functions (people, intake, lifecycle) with back-dated
times, so each request's history is a real sequence of events that replays to its state. The data
comes from a small table of hand-written request templates, reused with variations; a seeded
random generator keeps the result the same on every run (only the dates follow ``now``).

Seeding is idempotent: when admin@example.com exists, nothing is added. It flushes; the caller
commits.
"""
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from sqlalchemy import func

from . import budget, intake, lifecycle, localtime, people, queues, settings, sla_clocks
from .extensions import db
from .models import CLOSED_STATES, IN_WORK_STATES, OutboxMessage, Team, User, utcnow

DEMO_PASSWORD = "datadesk"

# --- Teams and people -----------------------------------------------------------------------

TEAMS = (
    ("Marketing", "Campaigns, brand, website and lifecycle e-mail."),
    ("Finance", "Accounting, planning and analysis, billing and procurement."),
    ("Product", "Product managers and designers of the web and mobile apps."),
    ("Customer Support", "Support agents and customer success managers in three regions."),
    ("Sales", "Account executives, sales development and sales operations."),
    ("People", "HR: recruiting, people operations, compensation and learning."),
)

# (name, e-mail, role, teams). People has no embedded analyst: its requests go to the central
# triage queue, which every analyst sees (its confidential ones only the leads).
USERS = (
    ("Ada Brennan", "admin@example.com", "admin", ()),
    ("Lena Hoffmann", "lead@example.com", "lead", ()),
    ("Marcus Reid", "marcus.reid@example.com", "lead", ()),
    ("Priya Nair", "analyst@example.com", "analyst", ("Marketing", "Finance")),
    ("Sofia Alvarez", "sofia.alvarez@example.com", "analyst", ("Sales", "Marketing")),
    ("Kenji Tanaka", "kenji.tanaka@example.com", "analyst", ("Finance", "Product")),
    ("Tom Becker", "tom.becker@example.com", "analyst", ("Product", "Customer Support")),
    ("Amara Mensah", "amara.mensah@example.com", "analyst", ("Customer Support",)),
    ("Rosa Delgado", "requester@example.com", "requester", ("Marketing",)),
    ("Liam O'Connor", "liam.oconnor@example.com", "requester", ("Marketing",)),
    ("Hannah Schmidt", "hannah.schmidt@example.com", "requester", ("Finance",)),
    ("Daniel Kim", "daniel.kim@example.com", "requester", ("Finance",)),
    ("Olivia Martin", "olivia.martin@example.com", "requester", ("Product",)),
    ("Arjun Patel", "arjun.patel@example.com", "requester", ("Product",)),
    ("Grace Mwangi", "grace.mwangi@example.com", "requester", ("Customer Support",)),
    ("Tomás Novák", "tomas.novak@example.com", "requester", ("Customer Support",)),
    ("Ben Carter", "ben.carter@example.com", "requester", ("Sales",)),
    ("Chloé Dubois", "chloe.dubois@example.com", "requester", ("Sales",)),
    ("Nadia Haddad", "nadia.haddad@example.com", "requester", ("People",)),
)

# Distribution lists that sometimes watch a team's requests.
TEAM_LISTS = {
    "Marketing": "marketing-leads@example.com",
    "Finance": "fpa@example.com",
    "Product": "product-managers@example.com",
    "Customer Support": "support-leads@example.com",
    "Sales": "sales-ops@example.com",
    "People": "people-ops@example.com",
}

# The dashboard a self-serve decline points to, per team.
SELF_SERVE = {
    "Marketing": ("Marketing performance", "https://bi.example.com/dashboards/marketing-performance"),
    "Finance": ("Revenue and billing", "https://bi.example.com/dashboards/revenue-and-billing"),
    "Product": ("Product usage", "https://bi.example.com/dashboards/product-usage"),
    "Customer Support": ("Support operations", "https://bi.example.com/dashboards/support-operations"),
    "Sales": ("Sales pipeline", "https://bi.example.com/dashboards/sales-pipeline"),
    "People": ("Headcount", "https://bi.example.com/dashboards/headcount"),
}

# --- Request templates ----------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A hand-written request; ``{x}`` in its texts is replaced by one of its ``fillers``."""

    team: str
    kind: str
    format: str
    impact: int
    size: str
    fillers: tuple
    title: str
    data_needed: str
    usage: str
    result: str
    shape: str
    extraction: str
    decision: str
    question: str  # what the analyst asks
    answer: str  # what the requester answers
    blocked: str  # why the work gets blocked
    delivery: str  # the delivery note
    sponsor: str = ""
    confidential: bool = False


TEXTS = ("title", "data_needed", "usage", "result", "shape", "extraction", "decision",
         "question", "answer", "blocked", "delivery")

TEMPLATES = {
    "campaign_roi": Template(
        team="Marketing", kind="ad_hoc", format="analysis", impact=3, size="M",
        fillers=("spring sale", "partner webinar", "brand relaunch"),
        title="Return on ad spend for the {x} campaign",
        data_needed="Spend, clicks, sign-ups and first-month revenue for the {x} campaign, by "
                    "channel (paid search, paid social, display, e-mail) and by week.",
        usage="For the campaign retrospective, and to set the channel mix of the next campaign.",
        result="Cost of acquiring a paying customer through paid channels.",
        shape="One row per channel and week. I expect paid search to be the cheapest per "
              "customer and display the most expensive.",
        extraction="Compare the cost per paying customer of each channel with our target of 45 EUR.",
        decision="Move budget out of any channel above target when we plan the next campaign.",
        question="Should revenue be attributed by last click, or with the multi-touch model of "
                 "the marketing dashboard?",
        answer="Last click, please: it's what Finance uses in the budget review.",
        blocked="Waiting for the agency's display spend: it isn't in the ad platform exports we load.",
        delivery="Write-up linked; the channel table is on page 2. Display came out well above "
                 "target, paid search and e-mail below it.",
    ),
    "newsletter_dashboard": Template(
        team="Marketing", kind="project", format="dashboard", impact=2, size="L",
        fillers=("product newsletter", "customer newsletter", "partner newsletter"),
        title="Engagement dashboard for the {x}",
        data_needed="Sends, opens, clicks, unsubscribes and attributed sign-ups for each issue "
                    "of the {x} since January.",
        usage="The content team reviews it every Monday to plan the next issue.",
        result="Click-through rate of the {x} and the sign-ups it brings.",
        shape="A weekly trend per metric and a table of issues ranked by clicks; opens around "
              "35%, clicks 3 to 5%.",
        extraction="Look for topics and send times that beat the average click rate.",
        decision="Drop the sections nobody clicks, and move the send time if another slot does better.",
        question="Should Apple Mail privacy opens count as opens? They inflate the open rate by "
                 "about ten points.",
        answer="Leave them out, or show both if it's easy; clicks are what we really care about.",
        blocked="The e-mail tool's API token expired; IT is issuing a new one.",
        delivery="Dashboard is live and refreshes daily at 06:00. Filters for issue and segment "
                 "are on the left; opens exclude privacy-proxy opens.",
    ),
    "lead_source_issue": Template(
        team="Marketing", kind="data_issue", format="table", impact=4, size="S",
        fillers=("webinar", "trade-show", "referral"),
        title="Lead source missing for {x} sign-ups in the CRM report",
        data_needed="Since last month's CRM migration, {x} sign-ups show an empty lead source "
                    "in the weekly leads report.",
        usage="The weekly leads report goes to the sales and marketing leadership meeting.",
        result="Attribution of pipeline to marketing programmes.",
        shape="Every sign-up should have a lead source; today about one in five {x} sign-ups has none.",
        extraction="The share of new sign-ups with an empty lead source should drop to zero.",
        decision="Whether we must re-import the {x} lists before the quarterly pipeline review.",
        question="Is it only new sign-ups, or older ones too? An example lead id would help.",
        answer="Both, as far as I can tell. Example: lead 00Q5J000004xYz from the 12th.",
        blocked="The CRM admins need to give us read access to the new field history table.",
        delivery="The new lead-source field was missing from the pipeline's mapping; fixed and "
                 "backfilled. The report shows the right sources since this morning's refresh.",
    ),
    "revenue_bridge": Template(
        team="Finance", kind="ad_hoc", format="spreadsheet", impact=4, size="M",
        sponsor="Maria Chen (CFO)",
        fillers=("board pack", "quarter-end close", "investor update"),
        title="Revenue bridge by product line for the {x}",
        data_needed="Recognised revenue by product line and month for the last 13 months, split "
                    "into new business, expansion, contraction and churn.",
        usage="Goes into the {x} as the revenue bridge chart and the commentary behind it.",
        result="How well leadership understands where growth comes from.",
        shape="A month by product line table whose totals tie to the general ledger within 0.5%.",
        extraction="Read the four movements per product line and explain the biggest change "
                   "against last quarter.",
        decision="Which product lines we propose for extra investment in the next budget round.",
        question="Should the add-on modules count under their parent product line, or separately?",
        answer="Under the parent product line, please, as in the last board pack.",
        blocked="Last month's general ledger export isn't final yet; Finance expects it on the "
                "5th working day.",
        delivery="Spreadsheet linked: one tab per product line and a tie-out tab against the "
                 "ledger (difference 0.2%).",
    ),
    "cloud_costs": Template(
        team="Finance", kind="project", format="dashboard", impact=3, size="L",
        fillers=("team", "product", "environment"),
        title="Cloud cost dashboard by {x}",
        data_needed="Daily cloud spend from the billing export, allocated by {x} using resource "
                    "tags, with untagged spend shown separately.",
        usage="Monthly cost reviews with engineering managers, and the FP&A forecast.",
        result="Cloud spend as a share of revenue.",
        shape="Daily cost per {x} with a month-to-date total; untagged spend should be under 10%.",
        extraction="Spot the {x}s whose spend grows faster than their usage.",
        decision="Agree cost-saving targets with the owners of the fastest-growing costs.",
        question="Should shared costs (networking, monitoring) be split by usage, or shown as "
                 "their own line?",
        answer="Their own line for now; we'll agree an allocation key with engineering later.",
        blocked="A third of the spend has no tags; waiting for platform engineering to backfill them.",
        delivery="Dashboard live, refreshed daily. Untagged spend is its own line (8% today); the "
                 "allocation rules are on the About tab.",
    ),
    "invoice_mismatch": Template(
        team="Finance", kind="data_issue", format="table", impact=5, size="M",
        fillers=("EU customers", "annual contracts", "reseller accounts"),
        title="Invoiced amounts for {x} don't match the billing system",
        data_needed="The warehouse invoices table shows lower totals for {x} than the billing "
                    "system: about 3% less for last month.",
        usage="The month-end revenue reconciliation, which the auditors review.",
        result="A clean month-end close without manual adjustments.",
        shape="Warehouse and billing totals should match to the cent for every invoice.",
        extraction="The invoices that differ, and the reason for each difference.",
        decision="Whether we close the month on warehouse numbers or post a manual adjustment.",
        question="Which billing report are you comparing with, and does it include credit notes?",
        answer="The 'Invoices issued' report of the billing system; it nets credit notes off.",
        blocked="The billing vendor must confirm how they round VAT on multi-currency invoices; "
                "ticket raised with them.",
        delivery="Cause: credit notes in a second currency were converted twice. Fixed in the "
                 "invoices model and backfilled; the linked list of differences is now empty.",
    ),
    "feature_adoption": Template(
        team="Product", kind="ad_hoc", format="analysis", impact=3, size="M",
        fillers=("the onboarding checklist", "bulk export", "the mobile offline mode"),
        title="Adoption of {x} since launch",
        data_needed="Weekly active accounts using {x} since launch, by plan and account age, and "
                    "how their retention compares with accounts that don't use it.",
        usage="The product review where we set next quarter's roadmap.",
        result="Week-4 retention of new accounts.",
        shape="A weekly adoption curve and a retention comparison; I'd guess 20 to 30% of active "
              "accounts use it.",
        extraction="Whether accounts using {x} retain better than similar accounts that don't.",
        decision="Invest in a second iteration of {x}, or move the team to something else.",
        question="Which launch date should I use: the beta for selected customers, or general release?",
        answer="General release; the beta accounts were hand-picked and would skew it.",
        blocked="The feature-flag events are only in the raw event stream, which I can't access yet.",
        delivery="Analysis linked. About a quarter of active accounts use it weekly; their week-4 "
                 "retention is 6 points higher, partly through selection (see the caveats).",
    ),
    "ab_test": Template(
        team="Product", kind="ad_hoc", format="analysis", impact=4, size="M",
        fillers=("annual toggle on the pricing page", "shorter sign-up form", "in-app upgrade prompt"),
        title="A/B test readout: {x}",
        data_needed="Conversion to paid by variant, with confidence intervals, for the experiment "
                    "({x}) that ran for the last four weeks.",
        usage="To decide whether the {x} ships to everyone.",
        result="Trial-to-paid conversion rate.",
        shape="Two rows (control, variant) with visitors, conversions and rate; we hoped for a "
              "lift of at least one point.",
        extraction="Is the lift significant, and is it the same on mobile and desktop?",
        decision="Roll the variant out to everyone, or keep the control and try another idea.",
        question="A bug on day 3 showed both variants to some users. Exclude those users, or "
                 "the whole day?",
        answer="Only the affected users; engineering sent me the list, attached to the ticket.",
        blocked="The first week's assignment logs are missing in the warehouse; data engineering "
                "is reloading them.",
        delivery="Readout linked: +1.4 points trial-to-paid (95% CI 0.3 to 2.5), the same on "
                 "mobile and desktop. Recommendation: ship.",
    ),
    "events_table": Template(
        team="Product", kind="project", format="table", impact=3, size="XL",
        fillers=("the mobile app", "the web app", "the public API"),
        title="Clean product events table for {x}",
        data_needed="One modelled table of the product events of {x}: user, account, event, "
                    "properties and time, de-duplicated and without bot traffic.",
        usage="Product managers build their own funnels and retention charts on it in the BI tool.",
        result="How fast product managers answer their own usage questions.",
        shape="One row per event, about two million a day, documented columns, refreshed hourly.",
        extraction="Product managers query it directly instead of asking the analysts.",
        decision="Retire the three hand-built event extracts that teams maintain today.",
        question="Should internal test accounts be filtered out, or flagged?",
        answer="Flagged, please; QA sometimes needs them.",
        blocked="Product is reworking the tracking plan for {x}; waiting for the final event names.",
        delivery="Table is live in the analytics schema, documented, refreshed hourly, internal "
                 "accounts flagged. The old extracts can be switched off next month.",
    ),
    "contact_reasons": Template(
        team="Customer Support", kind="ad_hoc", format="spreadsheet", impact=3, size="S",
        fillers=("last quarter", "enterprise customers", "customers in their first 30 days"),
        title="Top contact reasons for {x}",
        data_needed="Ticket counts by contact reason and channel for {x}, with the median "
                    "handling time of each reason.",
        usage="To choose the help-centre articles and macros we write next.",
        result="Tickets per 1,000 active customers.",
        shape="About 20 reasons; I expect billing and log-in problems at the top.",
        extraction="The top five reasons by total handling time, not just by count.",
        decision="Write self-help content for the top reasons and ask Product to fix the worst one.",
        question="Before March, contact reasons were free text. Only tagged tickets, or should I "
                 "classify the older ones too?",
        answer="Tagged tickets only; that's enough for a ranking.",
        blocked="The helpdesk export is rate-limited; waiting for the vendor to raise our limit.",
        delivery="Sheet linked, reasons ranked by total handling time. Billing questions and "
                 "password resets take 41% of the time.",
    ),
    "csat_dashboard": Template(
        team="Customer Support", kind="project", format="dashboard", impact=3, size="L",
        fillers=("the support team", "each support region", "the customer success team"),
        title="CSAT and response-time dashboard for {x}",
        data_needed="Satisfaction scores, first-response and resolution times per agent, queue "
                    "and week for {x}.",
        usage="Team leads use it in weekly one-to-ones and the monthly support review.",
        result="Customer satisfaction after a support contact.",
        shape="Weekly trends per queue with a drill-down to agents; CSAT around 88%, first "
              "response under 4 business hours.",
        extraction="Which queues miss the response-time target, and whether their CSAT drops too.",
        decision="Move agents between queues and adjust the shift plans.",
        question="Should response times count each region's business hours, or calendar hours?",
        answer="Business hours of the region that owns the queue.",
        blocked="The survey tool doesn't export the ticket id with each response; waiting for "
                "their support.",
        delivery="Dashboard live with queue and agent views; times are in the owning region's "
                 "business hours.",
    ),
    "response_time_issue": Template(
        team="Customer Support", kind="data_issue", format="answer", impact=4, size="S",
        fillers=("weekend tickets", "chat tickets", "tickets of the APAC queue"),
        title="First-response times look wrong for {x}",
        data_needed="The weekly support report shows first-response times of several days for "
                    "{x}, but agents answer within hours in the helpdesk.",
        usage="The weekly support report, which also goes to enterprise customers with an SLA.",
        result="Trust in the SLA figures we report to customers.",
        shape="First-response times for {x} should be like other tickets': a few business hours.",
        extraction="Whether the report or the helpdesk is right, and which tickets are affected.",
        decision="Correct last month's SLA report to customers if its numbers were wrong.",
        question="Could you send two or three ticket numbers where you see the difference?",
        answer="Tickets 48213, 48377 and 48410: all answered the same day in the helpdesk.",
        blocked="Need the helpdesk admin to tell us the time zone of their business-hours calendar.",
        delivery="The report counted calendar hours in UTC instead of the queue's business "
                 "hours for {x}. Fixed; last month's corrected figures are in the linked query.",
    ),
    "pipeline_forecast": Template(
        team="Sales", kind="ad_hoc", format="spreadsheet", impact=4, size="M",
        sponsor="Sarah Lindqvist (VP Sales)",
        fillers=("next quarter", "the DACH region", "enterprise accounts"),
        title="Pipeline coverage forecast for {x}",
        data_needed="Open opportunities for {x} by stage, owner and expected close month, with "
                    "historical win rates per stage.",
        usage="Quarterly planning with sales leadership, and the bookings forecast for Finance.",
        result="New bookings against quota.",
        shape="Coverage ratio per team and month; we aim for three times pipeline to quota.",
        extraction="Which teams are below 3x coverage, and by how much.",
        decision="Where to add sales development capacity, and which campaigns to ask Marketing for.",
        question="Should renewals be included, or only new business and expansion?",
        answer="Only new business and expansion; renewals have their own forecast.",
        blocked="CRM stage history is incomplete before the migration; sales ops is restoring "
                "it from a backup.",
        delivery="Sheet linked with coverage by team and month; two teams are below 2x for the "
                 "last month of the period.",
    ),
    "churn_risk": Template(
        team="Sales", kind="ad_hoc", format="spreadsheet", impact=4, size="M",
        fillers=("mid-market segment", "Nordic accounts", "renewals due next quarter"),
        title="Accounts at risk of churning: {x}",
        data_needed="Accounts in scope ({x}) with falling usage, open support escalations or "
                    "unpaid invoices, with their renewal date and account owner.",
        usage="Account managers plan rescue calls before the renewals.",
        result="Gross revenue retention.",
        shape="A list of 30 to 60 accounts, each with the signals that flagged it.",
        extraction="Sort by contract value and renewal date; call the top twenty first.",
        decision="Which accounts get a rescue plan and executive outreach this month.",
        question="What counts as falling usage for you: down 20% over 30 days, or something else?",
        answer="Down 25% or more over 60 days; 30 days is too noisy.",
        blocked="Usage of accounts on the legacy platform isn't in the warehouse yet; waiting "
                "for the migration.",
        delivery="List linked: 47 accounts with the signals that flagged each, and a column for "
                 "the owners' notes.",
    ),
    "win_loss": Template(
        team="Sales", kind="project", format="presentation", impact=3, size="L",
        fillers=("enterprise", "competitive", "mid-market"),
        title="Win/loss analysis of {x} deals",
        data_needed="All {x} deals closed in the last 12 months, with stage durations, discount, "
                    "competitor, product mix and the CRM loss reason.",
        usage="The sales kick-off, and a review of the sales playbook with product marketing.",
        result="Win rate of qualified opportunities.",
        shape="Win rates by segment, competitor and deal size, with the most common loss reasons.",
        extraction="Patterns that separate won from lost deals, such as deals stalling in legal review.",
        decision="Change the sales playbook and the discount approval rules.",
        question="A third of the deals have no loss reason. Should I mine the notes, or leave "
                 "them out?",
        answer="Leave them out, but tell us how many there were.",
        blocked="Waiting for sales ops to merge duplicated accounts in the CRM; the numbers are "
                "off until then.",
        delivery="Slides linked: 14 pages, with the method and data caveats in the appendix.",
    ),
    "escalations": Template(
        team="Customer Support", kind="ad_hoc", format="spreadsheet", impact=3, size="S",
        fillers=("the billing product", "the mobile app", "single sign-on"),
        title="Escalations to engineering about {x}, last 8 weeks",
        data_needed="Tickets about {x} escalated to engineering, per week, with priority, "
                    "time to fix and the customer's plan.",
        usage="The monthly support and engineering review.",
        result="Engineering time spent on support escalations.",
        shape="A weekly count by priority; I expect 10 to 20 a week, mostly low priority.",
        extraction="Whether escalations about {x} grow, and which plans they come from.",
        decision="Whether to ask for a dedicated fix sprint on {x}.",
        question="Should tickets reopened after a fix count twice?",
        answer="Once, please, with a column saying it was reopened.",
        blocked="The escalation tag changed name in March; waiting for the helpdesk admins.",
        delivery="Sheet linked, one row per week and priority.",
    ),
    "attrition": Template(
        team="People", kind="ad_hoc", format="presentation", impact=3, size="M",
        fillers=("the last 12 months", "engineering", "first-year hires"),
        title="Attrition analysis: {x}",
        data_needed="Voluntary and involuntary leavers by department, tenure band and level, "
                    "with headcount to compute rates; scope: {x}.",
        usage="The leadership team's quarterly people review.",
        result="Regretted attrition.",
        shape="Annualised attrition per department; around 12% company-wide, higher in Sales.",
        extraction="Departments and tenure bands well above the company average.",
        decision="Where to focus the retention budget and manager training.",
        question="Should people who moved between departments count as leavers of their old one?",
        answer="No, internal moves are not attrition.",
        blocked="The HR system export lacks leaving reasons for the last two months; People Ops "
                "is filling them in.",
        delivery="Slides linked; groups under ten people are suppressed to protect privacy.",
    ),
    "pay_equity": Template(
        team="People", kind="project", format="analysis", impact=5, size="L", confidential=True,
        sponsor="Ines Moreau (Chief People Officer)",
        fillers=("this year's compensation cycle", "the sales organisation",
                 "engineering levels 3 to 5"),
        title="Pay equity review for {x}",
        data_needed="Base salary, bonus, level, role, location, tenure and gender of the "
                    "employees in scope ({x}).",
        usage="Input to the compensation committee; results stay within People leadership.",
        result="Unexplained pay gaps between comparable employees.",
        shape="A regression of pay on level, role, location and tenure, with the adjusted gap "
              "and a list of outliers.",
        extraction="The adjusted gap, and who falls outside the expected pay range.",
        decision="The adjustment budget and individual adjustments in the compensation review.",
        question="Salaries as of the review cut-off date, or from the latest payroll run?",
        answer="As of the cut-off date, the 1st of the month.",
        blocked="Waiting for Legal to approve the use of the gender field for this analysis.",
        delivery="Analysis in the restricted People folder. Adjusted gap 1.8%; 11 people "
                 "flagged for review.",
    ),
    "hiring_funnel": Template(
        team="People", kind="project", format="dashboard", impact=2, size="L",
        fillers=("engineering", "sales", "customer support"),
        title="Hiring funnel dashboard for {x} roles",
        data_needed="Candidates per stage (applied, screened, interviewed, offer, hired) for {x} "
                    "roles, with time in stage and source.",
        usage="The weekly recruiting stand-up with hiring managers.",
        result="Time to hire.",
        shape="A funnel per role with the conversion between stages; time to hire around 45 days.",
        extraction="The stage where candidates wait longest, and the sources that convert best.",
        decision="Where to add interviewers, and which job boards to stop paying for.",
        question="Do you need figures per recruiter, or is per role enough?",
        answer="Per role; per recruiter would be awkward in a shared meeting.",
        blocked="The applicant tracking system's API needs a paid add-on; waiting for budget approval.",
        delivery="Dashboard live, refreshed nightly from the applicant tracking system.",
    ),
}

# --- Stories: the steps a request goes through -----------------------------------------------

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

# Weekly ad-hoc budgets, set by a lead when the teams joined. Customer Support's is small, so
# that THIS_WEEK's requests meet it: those over it are waitlisted by the real rule at submission.
DEMO_BUDGETS = {"Customer Support": 2, "Sales": 4, "Marketing": 5}
THIS_WEEK = (
    Planned("escalations", "new", "grace.mwangi@example.com"),
    Planned("escalations", "new", "tomas.novak@example.com"),
    Planned("escalations", "new", "grace.mwangi@example.com"),
)

# --- Texts of the steps ---------------------------------------------------------------------

COMMENTS = {
    "progress": (
        "Started on this; I'll share a first cut here in a couple of days.",
        "Query is written; checking the numbers against last month's report before I share anything.",
        "First draft done, now sanity-checking the edge cases.",
    ),
    "thanks": (
        "Thanks, this is exactly what we needed.",
        "Walked the team through it this morning; very useful.",
        "Great, thank you! Sharing it with the leadership team.",
    ),
    "nudge": (
        "Any chance this can be looked at this week? It feeds into our planning meeting.",
        "Adding context: this is for the quarterly business review, so the split by region "
        "matters most.",
    ),
    "budget": (
        "{team} is over its ad-hoc budget this week, so this waits for a free slot. If it "
        "can't wait, tell me why and I can approve it over budget.",
    ),
}
REOPEN_NOTES = (
    "The totals don't match the figures Finance reported for the same period; can you check "
    "which filters differ?",
    "This covers existing customers only; we asked for new ones too (see the request).",
    "Could you add the split by region? Without it we can't take the decision in the request.",
)
REDELIVERY_NOTES = (
    "Updated: the difference came from refunds, now netted off; there's a reconciliation tab.",
    "Updated with the missing split; the first version is kept for comparison.",
    "Fixed and re-run; the changes are listed at the top.",
)
UNBLOCK_NOTES = ("Got what I was waiting for; back on it.", "Access sorted; picking this up again.")
UNCLAIM_NOTES = (
    "Putting this back in the queue: I'm away from Monday and it would sit idle.",
    "Handing this back: month-end work takes all my time this week.",
)
CANCEL_NOTES = (
    "No longer needed: the review moved to next quarter.",
    "We found the numbers in last month's report after all.",
    "The project is on hold; cancelling for now.",
)
DECLINE_NOTES = {
    "self_serve": "The {dashboard} dashboard already answers this: choose the period and segment "
                  "in the filters at the top and export the table. Happy to walk you through "
                  "it in 15 minutes.",
    "low_value": "Thanks for the detail. This would take a couple of weeks to build and keep "
                 "running, and the source tool's own reports cover the main numbers; it doesn't "
                 "pay back against the queue. Let's revisit next quarter if the need grows.",
    "no_data": "We don't collect this today: the source system keeps no history of it. I've "
               "asked its owners to start, so it can be done in a few months.",
    "out_of_scope": "This is an operational report the vendor's tool provides out of the box; "
                    "its admins can switch it on for you.",
    "no_capacity": "We can't do this before your deadline with what is already committed. "
                   "Please resubmit with a later date if it's still useful.",
}
RATINGS = (5, 5, 4, 4, 4, 3)

# --- Timing ---------------------------------------------------------------------------------

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


def seed_demo(now=None):
    """Create the demo teams, people and requests; return False if they were already there."""
    if db.session.scalars(db.select(User).where(User.email == "admin@example.com")).first():
        return False
    now = now or utcnow()
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    _Seeder(now).run()
    db.session.flush()
    # Class and clocks of untriaged requests as of now (the seeder replays past events).
    sla_clocks.refresh_all(now)
    # The seeder replays weeks of history: nobody is told about it by mail.
    db.session.execute(db.delete(OutboxMessage))
    return True


class _Seeder:
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

    def run(self):
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
                    team_ids=[self.teams[team].id for team in team_names], password=DEMO_PASSWORD)
                user.created_at = joined
            self.users[email] = user
        self.leads = [user for user in self.users.values() if user.role == "lead"]

    def _members(self, team, role):
        return [user for user in self.users.values() if user.role == role and team in user.teams]

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

        if row.original:
            times = self._times_after(original.times[0], len(steps))
        else:
            times = self._timeline(steps, size, final)
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

    def _timeline(self, steps, size, final):
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
        ago = RECENCY_DAYS.get(final, CLOSED_RECENCY_DAYS)
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
        deliveries = 0
        for step, at in zip(item.steps, item.times[1:]):
            name, _, arg = step.partition(":")
            actor = {"worker": item.worker, "requester": item.requester, "lead": item.lead,
                     "system": None}[ACTORS[name]]
            if name.startswith("say_"):
                text = self.rng.choice(COMMENTS[name[4:]]).format(team=item.team.name)
                intake.add_comment(request, actor, text, now=at)
            elif name == "edit":
                self._edit(item, request, at)
            else:
                if name == "deliver":
                    deliveries += 1
                inputs = self._inputs(item, request, name, arg, deliveries)
                lifecycle.transition(request, name, actor, now=at, **inputs)

    def _inputs(self, item, request, name, arg, deliveries):
        """The note, size, link, reason, original or rating that the step ``name`` takes."""
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
            return {"rating": rng.choice(RATINGS)}
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
