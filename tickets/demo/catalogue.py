"""The demo's catalogue and what people did with it: assets, deflections, searches that found
nothing, and platform gaps.

Seeded after the demo's requests (``seed_catalogue``), because assets answer them: each asset
delivered for a demo request is linked to it (and dated by its delivery), the self-serve
dashboards to the requests declined with a pointer to them, and two restricted People assets to
the confidential pay equity requests, so the catalogue shows what visibility hides. Requests are
found by their titles, which the demo's seeded random generator keeps the same on every run.
Dates are relative to the demo's clock (``now``); nothing is random here.
"""
from datetime import timedelta
from typing import NamedTuple

from .. import search
from ..extensions import db
from ..models import (DEFAULT_GAP_CATEGORIES, Asset, AssetLink, Deflection, Event, GapCategory,
                      PlatformGap, Request, Team, User, name_key)

__all__ = ["ASSETS", "DEFLECTIONS", "MISSES", "GAPS", "seed_catalogue"]


class Item(NamedTuple):
    """One catalogue asset. ``url`` None: the link delivered for its first ``delivered`` request."""

    title: str
    kind: str
    team: str
    url: str | None
    verified: int  # days since it was last verified
    description: str
    tags: tuple
    status: str = "active"
    delivered: tuple = ()  # titles of the requests it was delivered for
    pointed: tuple = ()  # titles of the requests a self-serve decline pointed to it
    linked: tuple = ()  # titles of the requests it was linked to by hand
    age: int = 400  # days since it was catalogued (delivered assets: their delivery)


BI = "https://bi.example.com"
WIKI = "https://wiki.example.com/data"
DRIVE = "https://drive.example.com/sheets"

ASSETS = (
    # -- Marketing
    Item("Marketing performance", "dashboard", "Marketing",
         f"{BI}/dashboards/marketing-performance", 12,
         "Spend, traffic, sign-ups and pipeline by channel and campaign, refreshed every morning. "
         "Choose the period, region and segment at the top; the table under the charts exports "
         "to CSV.", ("marketing", "campaigns", "channels", "self-serve"), age=700),
    Item("Customer newsletter engagement", "dashboard", "Marketing", None, 20,
         "Sends, opens, clicks, unsubscribes and attributed sign-ups for every issue of the "
         "customer newsletter, refreshed daily at 06:00. Opens exclude privacy-proxy opens.",
         ("newsletter", "email", "engagement"),
         delivered=("Engagement dashboard for the customer newsletter",)),
    Item("Partner newsletter engagement", "dashboard", "Marketing", None, 3,
         "The partner newsletter's sends, opens, clicks and unsubscribes per issue, with the "
         "partner sign-ups each issue brought. Same definitions as the customer newsletter "
         "dashboard.", ("newsletter", "partners", "email", "engagement"),
         delivered=("Engagement dashboard for the partner newsletter",)),
    Item("Spring sale campaign: return on ad spend by channel", "document", "Marketing", None, 40,
         "Retrospective of the spring sale: spend, sign-ups and first-month revenue per channel "
         "and week, with last-click attribution. Display came out above the 45 EUR target per "
         "paying customer; paid search and e-mail below it.",
         ("campaigns", "roas", "attribution", "paid media"),
         delivered=("Return on ad spend for the spring sale campaign",)),
    Item("How we attribute sign-ups to channels", "document", "Marketing",
         f"{WIKI}/marketing/attribution", 130,
         "The last-click rules Finance uses in budget reviews and the multi-touch model behind "
         "the marketing dashboard, with worked examples of each.",
         ("attribution", "methodology", "marketing")),
    Item("marketing.campaign_spend", "table", "Marketing",
         f"{BI}/warehouse/marketing/campaign_spend", 8,
         "Daily spend, impressions and clicks per campaign and channel, loaded from the ad "
         "platforms and the agency's display invoices. One row per campaign, channel and day.",
         ("spend", "ads", "campaigns", "channels")),
    Item("analytics.crm_leads", "table", "Marketing", f"{BI}/warehouse/analytics/crm_leads", 30,
         "Every lead since 2019 with its lead source, campaign and first-touch channel. The "
         "lead-source mapping was fixed after the CRM migration and older leads backfilled.",
         ("leads", "crm", "lead source")),
    Item("Website traffic and sign-up funnel", "dashboard", "Marketing",
         f"{BI}/dashboards/website-funnel", 25,
         "Visits, sign-up starts and completed sign-ups by landing page, traffic source and "
         "device, with the conversion between each step.",
         ("web", "funnel", "signups", "traffic")),
    Item("Campaign ROI tracker", "dataset", "Marketing", f"{DRIVE}/campaign-roi-tracker", 210,
         "Hand-kept sheet of campaign costs and sign-ups, last updated before the CRM migration. "
         "Deprecated: use the Marketing performance dashboard, which reads the same spend from "
         "marketing.campaign_spend.", ("campaigns", "roi", "legacy"), status="deprecated"),
    Item("Newsletter open rates (old e-mail tool)", "report", "Marketing",
         f"{BI}/reports/newsletter-open-rates", 240,
         "Open and click rates from the e-mail tool we left last year; opens include "
         "privacy-proxy opens. Deprecated: replaced by the customer and partner newsletter "
         "engagement dashboards.", ("newsletter", "email", "legacy"), status="deprecated"),
    # -- Finance
    Item("Revenue and billing", "dashboard", "Finance", f"{BI}/dashboards/revenue-and-billing", 5,
         "Bookings, invoiced and recognised revenue, MRR movements (new, expansion, contraction, "
         "churn) and open receivables by month, product line and region.",
         ("revenue", "billing", "mrr", "self-serve"), age=900),
    Item("Cloud spend by environment", "dashboard", "Finance", None, 15,
         "Daily cloud cost from the billing export, allocated to production, staging and "
         "development by resource tags. Untagged spend and shared networking and monitoring "
         "costs are their own lines; the allocation rules are on the About tab.",
         ("cloud", "costs", "infrastructure", "fpa"),
         delivered=("Cloud cost dashboard by environment",)),
    Item("Revenue bridge by product line (quarter-end close)", "dataset", "Finance", None, 35,
         "Recognised revenue per product line and month over 13 months, split into new "
         "business, expansion, contraction and churn, with a tie-out tab against the general "
         "ledger.", ("revenue", "bridge", "product lines", "close"),
         delivered=("Revenue bridge by product line for the quarter-end close",)),
    Item("finance.revenue_monthly", "table", "Finance", f"{BI}/warehouse/finance/revenue_monthly",
         22, "Recognised revenue per account, product line and month: the source of the revenue "
         "bridge and the board pack. Closed months are frozen after the 5th working day.",
         ("revenue", "accounts", "monthly")),
    Item("finance.invoices", "table", "Finance", f"{BI}/warehouse/finance/invoices", 18,
         "One row per invoice line from the billing system, in invoice and reporting currency, "
         "credit notes netted off. Ties to the billing system's 'Invoices issued' report to the "
         "cent.", ("invoices", "billing", "vat")),
    Item("Month-end close: where the numbers come from", "document", "Finance",
         f"{WIKI}/finance/month-end-close", 100,
         "Which warehouse tables feed each step of the month-end close, when they refresh, and "
         "whom to ask when a number does not tie.", ("close", "month-end", "documentation")),
    Item("Budget vs actuals by cost centre", "dashboard", "Finance",
         f"{BI}/dashboards/budget-vs-actuals", 45,
         "Monthly operating expenses per cost centre against budget and the latest forecast, "
         "with the variance in EUR and percent. Actuals come from the general ledger after the "
         "close.", ("budget", "opex", "forecast", "variance")),
    Item("Overdue invoices and payment terms", "report", "Finance",
         f"{BI}/reports/overdue-invoices", 60,
         "Open receivables by customer with payment terms, days overdue and the account owner, "
         "refreshed nightly for the collections call.", ("receivables", "collections", "invoices")),
    Item("Company KPI definitions", "document", "Finance", f"{WIKI}/kpi-definitions", 75,
         "How we define an active customer, MRR, churn, net revenue retention and the other "
         "board metrics, with the SQL behind each one.", ("kpi", "definitions", "metrics", "churn")),
    Item("Revenue cube (Excel)", "dataset", "Finance", f"{DRIVE}/revenue-cube", 300,
         "The old workbook cube refreshed by hand each month. Deprecated: revenue by product "
         "line and month is in the Revenue and billing dashboard and finance.revenue_monthly.",
         ("revenue", "excel", "legacy"), status="deprecated"),
    Item("Cloud cost export (raw CSV)", "dataset", "Finance", f"{DRIVE}/cloud-cost-export", 160,
         "Monthly dump of the cloud billing export, not allocated to anything. Deprecated: use "
         "Cloud spend by environment, which allocates costs by tag and shows untagged spend.",
         ("cloud", "costs", "legacy"), status="deprecated"),
    # -- Product
    Item("Product usage", "dashboard", "Product", f"{BI}/dashboards/product-usage", 9,
         "Daily and weekly active accounts and users, feature usage and retention cohorts by "
         "plan, platform and sign-up month. Pick a feature in the filter to see its adoption "
         "curve.", ("usage", "features", "retention", "self-serve"), age=800,
         pointed=("Adoption of the mobile offline mode since launch",)),
    Item("Bulk export adoption and retention study", "document", "Product", None, 30,
         "About a quarter of active accounts use bulk export every week, and their week-4 "
         "retention is 6 points higher, partly through selection. Method and caveats are in "
         "the appendix.", ("adoption", "retention", "features"),
         delivered=("Adoption of bulk export since launch",)),
    Item("Experiment readout: in-app upgrade prompt", "document", "Product", None, 2,
         "Trial-to-paid conversion of control and variant for the in-app upgrade prompt test, "
         "with 95% confidence intervals, split by mobile and desktop.",
         ("experiments", "ab test", "conversion", "upgrades"),
         delivered=("A/B test readout: in-app upgrade prompt",)),
    Item("Experiment readout: shorter sign-up form", "document", "Product", None, 1,
         "Did the shorter sign-up form convert more trials to paid? Control against variant "
         "with confidence intervals, mobile and desktop separately.",
         ("experiments", "ab test", "conversion", "signups"),
         delivered=("A/B test readout: shorter sign-up form",)),
    Item("A/B testing guide", "document", "Product", f"{WIKI}/product/ab-testing-guide", 150,
         "How to size an experiment, which metrics we read out, what to do about assignment "
         "bugs and when a lift counts as significant. Links a sample-size calculator sheet.",
         ("experiments", "ab test", "statistics")),
    Item("analytics.product_events (mobile app)", "table", "Product",
         f"{BI}/warehouse/analytics/product_events", 10,
         "Modelled events of the mobile app: user, account, event name, properties and time, "
         "de-duplicated, bots removed, internal accounts flagged. Refreshed hourly; web app and "
         "API events follow.", ("events", "tracking", "mobile")),
    Item("Feature adoption by plan", "report", "Product", f"{BI}/reports/feature-adoption", 50,
         "Weekly share of active accounts using each feature, by plan (Free, Team, Business, "
         "Enterprise).", ("adoption", "features", "plans")),
    Item("Tracking plan: event names and properties", "document", "Product",
         f"{WIKI}/product/tracking-plan", 95,
         "The agreed event names, their properties and which app sends each; read it before "
         "adding an event or building a funnel.", ("tracking", "events", "documentation")),
    Item("Mobile events extract", "dataset", "Product", f"{DRIVE}/mobile-events-extract", 190,
         "Daily CSV of raw mobile app events that Product kept by hand, with duplicates and bot "
         "traffic. Deprecated: use the analytics.product_events table.",
         ("events", "mobile", "legacy"), status="deprecated"),
    Item("Activation funnel v1", "dashboard", "Product", f"{BI}/dashboards/activation-funnel-v1",
         220, "First-week activation steps measured on the old event names. Deprecated: the "
         "Product usage dashboard has the activation funnel on the new tracking plan.",
         ("activation", "onboarding", "funnel", "legacy"), status="deprecated"),
    # -- Customer Support
    Item("Support operations", "dashboard", "Customer Support",
         f"{BI}/dashboards/support-operations", 7,
         "Ticket volume, backlog, first-response and resolution times by queue, channel and "
         "region, in each queue's business hours. Refreshed hourly.",
         ("support", "tickets", "sla", "self-serve"), age=600),
    Item("Enterprise contact reasons by handling time", "dataset", "Customer Support", None, 48,
         "Tagged tickets of enterprise customers grouped into about 20 contact reasons, ranked "
         "by total handling time, with the median handling time and the channel of each. "
         "Billing questions and password resets take 41% of the time.",
         ("contact reasons", "tickets", "enterprise", "handling time"),
         delivered=("Top contact reasons for enterprise customers",)),
    Item("analytics.support_sla", "table", "Customer Support",
         f"{BI}/warehouse/analytics/support_sla", 11,
         "First-response and resolution time per ticket, counted in the business hours of the "
         "queue's region rather than UTC calendar hours. Feeds the weekly support report and "
         "the SLA reports sent to enterprise customers.",
         ("sla", "response time", "tickets", "business hours"),
         delivered=("First-response times look wrong for weekend tickets",
                    "First-response times look wrong for chat tickets")),
    Item("CSAT survey responses", "table", "Customer Support",
         f"{BI}/warehouse/support/csat_responses", 70,
         "One row per satisfaction survey answer with its score, comment, agent and queue. "
         "Answers from before June have no ticket id.", ("csat", "satisfaction", "survey")),
    Item("Help centre articles and searches", "dashboard", "Customer Support",
         f"{BI}/dashboards/help-centre", 110,
         "Views and helpful votes per help-centre article and week, and the search terms that "
         "found no article.", ("help centre", "self-help", "articles")),
    Item("Weekly support report (calendar hours)", "report", "Customer Support",
         f"{BI}/reports/weekly-support", 130,
         "The old weekly PDF that counted first-response time in UTC calendar hours. "
         "Deprecated: its figures were wrong for weekend and chat tickets; use the Support "
         "operations dashboard.", ("support", "sla", "legacy"), status="deprecated"),
    # -- Sales
    Item("Sales pipeline", "dashboard", "Sales", f"{BI}/dashboards/sales-pipeline", 4,
         "Open opportunities by stage, owner, segment and expected close month, with coverage "
         "against quota and historical win rates per stage.",
         ("pipeline", "opportunities", "quota", "self-serve"), age=750,
         pointed=("Pipeline coverage forecast for enterprise accounts",)),
    Item("Next-quarter pipeline coverage by sales team", "dataset", "Sales", None, 27,
         "Quota coverage by open new-business and expansion pipeline, per sales team and month "
         "of next quarter; renewals are left out. Two teams are below 2x in the last month.",
         ("pipeline", "coverage", "forecast", "quota"),
         delivered=("Pipeline coverage forecast for next quarter",)),
    Item("Mid-market churn-risk watchlist", "dataset", "Sales", None, 16,
         "47 mid-market accounts flagged by falling usage (down 25% over 60 days), open support "
         "escalations or unpaid invoices, with renewal date, contract value and the owners' "
         "notes.", ("churn", "retention", "accounts", "renewals"),
         delivered=("Accounts at risk of churning: mid-market segment",)),
    Item("analytics.account_health", "table", "Sales",
         f"{BI}/warehouse/analytics/account_health", 28,
         "A weekly health score per customer account from its usage trend, support "
         "escalations, payment status and NPS answers, with the signals behind each score.",
         ("churn", "health score", "accounts", "retention")),
    Item("Win rates by segment and competitor", "dashboard", "Sales",
         f"{BI}/dashboards/win-rates", 55,
         "Closed-won and closed-lost opportunities of the last 12 months by segment, deal size "
         "and named competitor, with the CRM loss reasons.",
         ("win rate", "competitors", "deals")),
    Item("CRM field guide", "document", "Sales", f"{WIKI}/sales/crm-field-guide", 180,
         "What each opportunity and account field in the CRM means, which are mandatory, and "
         "how stages map to forecast categories.", ("crm", "documentation", "definitions")),
    Item("analytics.customers", "table", "Sales", f"{BI}/warehouse/analytics/customers", 14,
         "One row per customer account with plan, segment, region, owner, sign-up and renewal "
         "dates: the table most joins start from.", ("customers", "accounts", "segments")),
    Item("Discount approvals log", "report", "Sales", f"{BI}/reports/discount-approvals", 85,
         "Every discount above 15% with its approver, deal size and outcome, for the quarterly "
         "review of the approval rules.", ("discounts", "deals", "approvals")),
    Item("Bookings forecast workbook", "dataset", "Sales", f"{DRIVE}/bookings-forecast", 170,
         "Sales ops' forecast sheet, rebuilt by hand every Monday. Deprecated: the Sales "
         "pipeline dashboard has the forecast categories and coverage, refreshed hourly from "
         "the CRM.", ("forecast", "bookings", "legacy"), status="deprecated"),
    # -- People
    Item("Headcount", "dashboard", "People", f"{BI}/dashboards/headcount", 19,
         "Headcount, hires and leavers by department, location, level and month, with open "
         "positions from the applicant tracking system. Groups under five people are hidden.",
         ("headcount", "hiring", "hr", "self-serve"), age=650),
    Item("Attrition review, trailing 12 months", "document", "People", None, 44,
         "Voluntary and involuntary attrition by department, tenure band and level, "
         "annualised. Groups under ten people are suppressed to protect privacy.",
         ("attrition", "leavers", "retention", "hr"),
         delivered=("Attrition analysis: the last 12 months",)),
    Item("Pay equity review: last compensation cycle", "document", "People",
         "https://docs.example.com/people/restricted/pay-equity-last-cycle", 160,
         "Last cycle's regression of base pay on level, role, location and tenure: the adjusted "
         "gap, the outliers and the adjustments made. Restricted to People leadership.",
         ("compensation", "pay equity", "restricted"),
         linked=("Pay equity review for the sales organisation",
                 "Pay equity review for engineering levels 3 to 5")),
    Item("Salary bands by level and location", "dataset", "People",
         "https://docs.example.com/people/restricted/salary-bands", 65,
         "Salary ranges per job family, level and location for this year's compensation cycle, "
         "with the market data behind them. Restricted.",
         ("compensation", "salary", "bands", "restricted"),
         linked=("Pay equity review for the sales organisation",)),
    Item("Time to hire by department", "report", "People", f"{BI}/reports/time-to-hire", 40,
         "Median days from application to accepted offer per department and quarter, from the "
         "applicant tracking system's standard report.", ("hiring", "recruiting", "time to hire")),
    Item("Employee engagement survey results", "report", "People",
         f"{BI}/reports/engagement-survey", 120,
         "Scores per question and department for the spring and autumn engagement surveys, "
         "compared with the survey before. Teams under five people are merged.",
         ("engagement", "survey", "employees")),
    Item("Headcount sheet (HR system export)", "dataset", "People", f"{DRIVE}/headcount-export",
         140, "Monthly spreadsheet export of the HR system kept by People Ops. Deprecated: use "
         "the Headcount dashboard, which reads the HR system every night.",
         ("headcount", "hr", "legacy"), status="deprecated"),
)


class Deflected(NamedTuple):
    """A demo deflection: who typed what, and the asset (or delivered request) that answered.

    ``resubmitted``: the title of a demo request filed by the same person ``days`` before it
    was submitted (so no true deflection); otherwise ``days`` counts back from now."""

    email: str | None
    text: str
    asset: str | None
    days: float
    answer: str | None = None
    resubmitted: str | None = None


DEFLECTIONS = (
    Deflected(None, "ROI of the partner webinar by channel",
              "Spring sale campaign: return on ad spend by channel", 2.1,
              resubmitted="Return on ad spend for the partner webinar campaign"),
    Deflected("liam.oconnor@example.com", "Click rates per newsletter issue",
              "Customer newsletter engagement", 33),
    Deflected("hannah.schmidt@example.com", "Cloud bill split by environment",
              "Cloud spend by environment", 20.3),
    Deflected("daniel.kim@example.com", "Revenue per product line for the last 13 months",
              "Revenue bridge by product line (quarter-end close)", 12.2),
    Deflected("olivia.martin@example.com", "How many accounts use offline mode",
              "Product usage", 26.4),
    Deflected("arjun.patel@example.com", "Results of the sign-up form experiment", None, 1.2,
              answer="A/B test readout: shorter sign-up form"),
    Deflected(None, "Why do customers contact support", "Enterprise contact reasons by handling "
              "time", 3.2, resubmitted="Top contact reasons for last quarter"),
    Deflected("tomas.novak@example.com", "First response time on weekends",
              "analytics.support_sla", 30.1),
    Deflected(None, "Pipeline coverage for DACH", "Next-quarter pipeline coverage by sales team",
              4.1, resubmitted="Pipeline coverage forecast for the DACH region"),
    Deflected("chloe.dubois@example.com", "Mid-market accounts likely to churn",
              "Mid-market churn-risk watchlist", 9.3),
    Deflected("nadia.haddad@example.com", "Leavers by department last year",
              "Attrition review, trailing 12 months", 38.2),
    Deflected(None, "Churn risk for Nordic customers", "analytics.account_health", 1.3,
              resubmitted="Accounts at risk of churning: Nordic accounts"),
    Deflected("hannah.schmidt@example.com", "Marketing budget against actual spend",
              "Budget vs actuals by cost centre", 3.4),
)

# Searches that found nothing: (e-mail, query as typed, source, days ago).
MISSES = (
    ("hannah.schmidt@example.com", "purchase orders by supplier", "search", 39),
    ("daniel.kim@example.com", "Purchase orders by supplier", "search", 25),
    ("daniel.kim@example.com", "purchase orders by supplier", "intake", 24.8),
    ("hannah.schmidt@example.com", "purchase orders by supplier", "search", 6),
    ("nadia.haddad@example.com", "office occupancy", "search", 31),
    ("nadia.haddad@example.com", "office occupancy", "intake", 17),
    ("hannah.schmidt@example.com", "Office occupancy", "search", 4),
    ("grace.mwangi@example.com", "Glassdoor", "search", 28),
    ("nadia.haddad@example.com", "glassdoor", "search", 14),
    ("nadia.haddad@example.com", "parental leave uptake", "search", 22),
    ("nadia.haddad@example.com", "parental leave uptake", "search", 8),
    ("requester@example.com", "influencer payouts", "search", 19),
    ("liam.oconnor@example.com", "influencer payouts", "intake", 11),
    ("hannah.schmidt@example.com", "carbon footprint of travel", "search", 9),
    ("daniel.kim@example.com", "carbon footprint of travel", "intake", 2),
)


class Gap(NamedTuple):
    """A platform gap recorded on a demo request's self-serve decline or delivery."""

    request: str
    category: str
    hours: float
    note: str


GAPS = (
    Gap("Adoption of the mobile offline mode since launch", "Does not know the tool", 0.5,
        "Didn't know the feature filter on Product usage draws any feature's adoption curve; "
        "showed it in a 15-minute call."),
    Gap("Pipeline coverage forecast for enterprise accounts", "Documentation missing", 0.75,
        "Coverage per segment is on the second tab of Sales pipeline, and nothing on the first "
        "tab says so."),
    Gap("Top contact reasons for enterprise customers", "No access", 3,
        "A group-by on the helpdesk export: support leads could do it with read access to "
        "the export."),
    Gap("Engagement dashboard for the customer newsletter", "Data not trusted", 6,
        "The e-mail tool's own open rates count privacy-proxy opens, so the team stopped "
        "believing them and asked us."),
    Gap("First-response times look wrong for weekend tickets", "Data not trusted", 2,
        "The weekly report counted calendar hours; nobody trusted it for weekend tickets."),
    Gap("Pipeline coverage forecast for next quarter", "Does not know the tool", 4,
        "Sales pipeline shows coverage per team; only the next-quarter filter was new to them."),
    Gap("Cloud cost dashboard by environment", "Data not available", 14,
        "The cloud billing export wasn't loaded into the warehouse; it needed a new pipeline."),
    Gap("Accounts at risk of churning: mid-market segment", "Data not available", 5,
        "No table requesters can reach has a usage trend per account; account_health now does."),
    Gap("Adoption of bulk export since launch", "Documentation missing", 2.5,
        "The feature-flag events weren't in the tracking plan, so Product couldn't find them."),
)


def seed_catalogue(now):
    """Add the demo catalogue, deflections, searches that found nothing and platform gaps; return
    False if the catalogue was already there. Flushes; the caller commits."""
    if db.session.scalars(db.select(Asset).where(Asset.title == ASSETS[0].title)).first():
        return False
    users = {user.email: user for user in db.session.scalars(db.select(User))}
    teams = {team.name: team for team in db.session.scalars(db.select(Team))}
    requests = {}
    for request in db.session.scalars(db.select(Request).order_by(Request.id)):
        requests.setdefault(request.title, request)
    assets = _seed_assets(now, users, teams, requests)
    _seed_deflections(now, users, assets, requests)
    for i, (email, query, source, days) in enumerate(MISSES):
        search.record_miss(users[email], query, source, _daytime(now - timedelta(days=days), i, now))
    _seed_gaps(requests)
    db.session.flush()
    return True


def _daytime(at, i, latest):
    """``at`` moved to an office hour of its day (varied by ``i``), unless that is after
    ``latest``."""
    moved = at.replace(hour=9 + i * 5 % 8, minute=i * 13 % 60)
    return moved if moved <= latest else at


def _last(request, action):
    """``request``'s last ``action`` event (None if it never happened)."""
    return db.session.scalars(db.select(Event).where(Event.request_id == request.id,
                                                     Event.action == action)
                              .order_by(Event.id.desc())).first()


def _seed_assets(now, users, teams, requests):
    """The assets, with their links to the requests they answered; {title: Asset}."""
    maker = users["lead@example.com"]
    assets = {}
    for item in ASSETS:
        delivered = [requests[title] for title in item.delivered if title in requests]
        created_at = now - timedelta(days=item.age)
        created_by = maker
        url = item.url
        if delivered:
            first = delivered[0]
            delivery = _last(first, "deliver")
            created_at, created_by = delivery.created_at, delivery.actor or maker
            url = url or first.delivered_url
        verified_on = max((now - timedelta(days=item.verified)).date(), created_at.date())
        asset = Asset(title=item.title, url=url, kind=item.kind, team=teams[item.team],
                      description=item.description, tags="," + ",".join(item.tags) + ",",
                      status=item.status, last_verified_on=verified_on, created_by=created_by,
                      created_at=created_at, updated_at=created_at)
        db.session.add(asset)
        for how, titles in (("delivered", item.delivered), ("pointed", item.pointed),
                            ("linked", item.linked)):
            for title in titles:
                request = requests.get(title)
                if request is None:
                    continue
                if how == "linked":  # by the request's worker, the day after it came in
                    at, by = request.created_at + timedelta(days=1), request.assignee
                else:
                    event = _last(request, "deliver" if how == "delivered" else "decline")
                    at, by = event.created_at, event.actor
                asset.links.append(AssetLink(request=request, how=how, linked_by=by or maker,
                                             created_at=max(at, created_at)))
        assets[item.title] = asset
    db.session.flush()
    return assets


def _seed_deflections(now, users, assets, requests):
    for i, row in enumerate(DEFLECTIONS):
        resubmitted = requests.get(row.resubmitted) if row.resubmitted else None
        if row.resubmitted and resubmitted is None:
            continue
        if resubmitted is not None:
            user = resubmitted.requester
            at = _daytime(resubmitted.created_at - timedelta(days=row.days), i,
                          resubmitted.created_at)
        else:
            user = users[row.email]
            at = _daytime(now - timedelta(days=row.days), i, now)
        answer = requests.get(row.answer) if row.answer else None
        asset = assets.get(row.asset) if row.asset else None
        if asset is None and answer is None:
            continue
        db.session.add(Deflection(user=user, team_id=(user.team_ids or [None])[0], asset=asset,
                                  answer_request=answer, text=row.text,
                                  resubmitted_request=resubmitted, created_at=at))


def _categories():
    """{name: GapCategory}, adding the default categories that are missing (a database
    emptied after its migration has none)."""
    found = {category.name_key: category
             for category in db.session.scalars(db.select(GapCategory))}
    for position, (name, description) in enumerate(DEFAULT_GAP_CATEGORIES):
        if name_key(name) not in found:
            category = GapCategory(name=name, description=description, position=position)
            db.session.add(category)
            found[name_key(name)] = category
    return found


def _seed_gaps(requests):
    categories = _categories()
    for gap in GAPS:
        request = requests.get(gap.request)
        if request is None:
            continue
        context = "decline" if request.state == "declined" else "delivery"
        event = _last(request, "decline" if context == "decline" else "deliver")
        db.session.add(PlatformGap(request=request, team_id=request.team_id,
                                   category=categories[name_key(gap.category)], note=gap.note,
                                   hours=gap.hours, context=context, recorded_by=event.actor,
                                   created_at=event.created_at))
