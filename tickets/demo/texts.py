"""The demo's hand-written texts: request templates, and the notes and comments of each step."""
from dataclasses import dataclass


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
    # Requests of the outcome stories (stories.PLAN's last rows): what became of deliveries.
    "channel_mix": Template(
        team="Marketing", kind="ad_hoc", format="analysis", impact=4, size="M",
        fillers=("Q1 planning", "the DACH launch", "the enterprise campaign"),
        title="Paid social against paid search: cost per paying customer for {x}",
        data_needed="Spend, sign-ups and paying customers from paid social and paid search over "
                    "the last two quarters, by audience and week, for {x}.",
        usage="To split next quarter's paid budget between social and search for {x}.",
        result="Cost of acquiring a paying customer through paid channels.",
        shape="One row per channel, audience and week; I expect search to be cheaper per paying "
              "customer and social to bring more sign-ups.",
        extraction="The cost per paying customer of each channel against the 45 EUR target, and "
                   "how it moves when spend goes up.",
        decision="How much of the paid-social budget moves to search (or back) for {x}.",
        question="Should trials that converted after 60 days count as paying customers of the "
                 "campaign?",
        answer="Up to 90 days, please; enterprise trials take longer to convert.",
        blocked="The paid-social platform's conversion export is delayed; waiting for the agency.",
        delivery="Analysis linked: search costs 38 EUR per paying customer, paid social 71 EUR. "
                 "Social's returns flatten above 12k EUR a month (page 3).",
    ),
    "price_change": Template(
        team="Finance", kind="ad_hoc", format="analysis", impact=4, size="M",
        sponsor="Maria Chen (CFO)",
        fillers=("Team plan", "annual plan", "add-on"),
        title="Churn after the {x} price change",
        data_needed="Monthly churn and downgrades of {x} customers for six months before and "
                    "three months after the price change, against customers whose price stayed.",
        usage="The pricing committee decides whether the new {x} price stays.",
        result="Net revenue retention.",
        shape="Churn per month for both groups; I'd expect a small rise right after the change.",
        extraction="Whether churn rose more than normal month-to-month variation after the change.",
        decision="Keep the new {x} price, or roll it back for existing customers.",
        question="Should customers who moved to another plan count as churned?",
        answer="No, count them as downgrades, separately.",
        blocked="The billing history before the migration is in the old system; waiting for the "
                "export.",
        delivery="Analysis linked: churn went from 1.9% to 2.2% a month, inside the range of the "
                 "last 18 months; downgrades didn't move.",
    ),
    "discount_analysis": Template(
        team="Sales", kind="ad_hoc", format="spreadsheet", impact=3, size="M",
        sponsor="Sarah Lindqvist (VP Sales)",
        fillers=("mid-market renewals", "new enterprise deals", "multi-year contracts"),
        title="Discounts and win rates for {x}",
        data_needed="Closed deals ({x}) of the last four quarters with list price, discount, "
                    "approver, stage durations and outcome.",
        usage="Sales leadership reviews the discount approval rules before the next quarter.",
        result="Average selling price against list.",
        shape="Win rate per discount band (0-10%, 10-20%, over 20%); I expect little gain above 20%.",
        extraction="The discount band above which win rates stop improving.",
        decision="Lower the discount a rep can give without approval for {x}.",
        question="Should deals with free months count those months as discount?",
        answer="Yes, convert them to a percentage of the first-year value.",
        blocked="Discount approvals live in a spreadsheet sales ops keeps; waiting for a copy.",
        delivery="Sheet linked: win rates rise up to 15% discount and are flat above it.",
    ),
    "territory_plan": Template(
        team="Sales", kind="ad_hoc", format="spreadsheet", impact=3, size="M",
        fillers=("the Benelux", "the UK and Ireland", "the Nordics"),
        title="Account potential by territory for {x}",
        data_needed="Accounts in {x} with employees, industry, current spend and open pipeline, "
                    "grouped by the proposed territories.",
        usage="Redrawing the territories of {x} before the new year.",
        result="Pipeline per account executive.",
        shape="One row per territory with account count, spend and pipeline; territories should "
              "be within 20% of each other.",
        extraction="Which territories are too large or too small against the average.",
        decision="Move accounts between account executives in {x} so territories are balanced.",
        question="Should strategic accounts managed by the VP count in a territory?",
        answer="Leave them out; they stay with the VP.",
        blocked="The firmographic data provider's export is late this month.",
        delivery="Sheet linked: one tab per territory, and a tab with the proposed moves.",
    ),
}

# What requesters answer when asked whether a delivery was used (demo.outcomes), by template
# and answer ("not_used:<reason>" for a reason): (decision, note), in the requester's voice.
# The decision is tied to the lever the request stated; "{x}" is the request's filler.
OUTCOME_TEXTS = {
    "campaign_roi": {
        "not_yet": ("", "The Q1 plan is only settled next month; we'll use it then."),
        "acted": ("We moved 20% of the paid-social budget to search for Q1, and cut display to "
                  "retargeting only.",
                  "Display was twice the target per paying customer; the write-up made the case "
                  "in the planning meeting without any debate."),
    },
    "channel_mix": {
        "acted": ("We moved 20% of the paid-social budget to search for {x}.",
                  "The saturation point on page 3 set the cap: social stays at 12k EUR a month."),
        "decided_not_to_act": ("Kept the paid split as it was for {x}: the difference was "
                               "smaller than in our other markets.",
                               "Saved us from a reshuffle we had planned on gut feeling."),
    },
    "lead_source_issue": {
        "acted": ("Re-imported the {x} lists before the quarterly pipeline review.",
                  "The review showed the right sources for the first time since the migration."),
    },
    "newsletter_dashboard": {
        "acted": ("Dropped the events section and moved the send to Tuesday mornings.",
                  "Clicks went up about a point in the first three issues."),
    },
    "cloud_costs": {
        "acted": ("Agreed cost-saving targets with the owners of the three fastest-growing "
                  "{x}s; staging now shuts down at night.",
                  "About 14k EUR a month less from January, by our estimate."),
    },
    "revenue_bridge": {
        "acted": ("Proposed extra investment in the two product lines with the strongest "
                  "expansion for the next budget round.",
                  "The bridge went into the {x} unchanged; the board asked no follow-up "
                  "questions on revenue."),
    },
    "price_change": {
        "decided_not_to_act": ("Kept the current pricing: the churn uplift was within noise.",
                               "The pricing committee closed the topic in ten minutes."),
    },
    "feature_adoption": {
        "decided_not_to_act": ("We did not fund a second iteration of {x}: most of the retention "
                               "gap was selection, not the feature.",
                               "The team moved to the billing redesign instead."),
    },
    "response_time_issue": {
        "acted": ("Sent corrected SLA figures for last month to the enterprise customers with an "
                  "SLA.",
                  "Two customers had raised the numbers in their quarterly reviews; both "
                  "accepted the correction."),
    },
    "contact_reasons": {
        "not_yet": ("", "The help-centre sprint starts next month; the ranking is its backlog."),
    },
    "attrition": {
        "acted": ("Put this year's retention budget into manager training for the two "
                  "departments with the highest regretted attrition.",
                  "First sessions are booked for January."),
    },
    "pipeline_forecast": {
        "not_used:too_late": ("", "Planning was done by the time it arrived; we went with last "
                                  "quarter's coverage numbers."),
    },
    "discount_analysis": {
        "not_used:not_what_was_needed": ("", "We needed it per rep, not per segment: the "
                                             "question was who discounts too much."),
        "decided_not_to_act": ("Kept the approval threshold at 20% for {x}.",
                               "The flat win rate above 15% was interesting, but the reps "
                               "pushed back and leadership didn't want a fight before "
                               "quarter-end."),
    },
    "territory_plan": {
        "not_used:decided_otherwise": ("", "The VP redrew {x} herself at the offsite before we "
                                           "looked at the sheet."),
        "not_used:hard_to_use": ("", "Too many tabs to take into a meeting; we needed one page "
                                     "with the proposed moves."),
    },
}

# What people say at each step.
COMMENTS = {
    # {requester} and {lead} are names: "@[...]" mentions them (tickets/conversation.py).
    "progress": (
        "Started on this, @[{requester}]; I'll share a first cut here in a couple of days.",
        "Query is written; checking the numbers against last month's report before I share "
        "anything. @[{requester}], shout if the period should differ.",
        "First draft done, now sanity-checking the edge cases.",
    ),
    "thanks": (
        "Thanks, this is exactly what we needed.",
        "Walked the team through it this morning; very useful.",
        "Great, thank you! @[{lead}], this is the one for the leadership review.",
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
