"""The demo's teams and people: who works where, with one password for every log-in."""

DEMO_PASSWORD = "datadesk"

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
    ("Jonas Weber", "jonas.weber@example.com", "requester", ("Sales",)),
)

# People who read times on another clock than the installation's (issue 14): every time on
# their pages and in their mail is in their zone.
TIME_ZONES = {
    "kenji.tanaka@example.com": "Asia/Tokyo",
    "sofia.alvarez@example.com": "America/New_York",
    "marcus.reid@example.com": "Europe/London",
}

# (name, e-mail, role, teams, days since the invitation): invited by the admin, not joined
# yet. The People page shows them with "Send the invitation again"; the older one's link has
# expired. Their invitations were sent before the demo starts: nothing waits in the outbox.
INVITED = (
    ("Noah Fischer", "noah.fischer@example.com", "requester", ("Product",), 2),
    ("Mei Lin", "mei.lin@example.com", "analyst", ("Sales", "People"), 9),
)

# People who left the company: their account is disabled once their requests are played (their
# follow-ups go to a colleague watching, or nobody); the demo's random choices never pick them.
LEFT = frozenset({"jonas.weber@example.com"})

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

# Weekly ad-hoc budgets, set by a lead when the teams joined. Customer Support's is small, so
# that the requests of stories.THIS_WEEK meet it: those over it are waitlisted by the real rule
# at submission.
DEMO_BUDGETS = {"Customer Support": 2, "Sales": 4, "Marketing": 5}
