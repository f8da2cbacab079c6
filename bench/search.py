"""How well and how fast search finds things: relevance on the demo data, latency at scale.

    .venv/bin/python -m bench.search [--requests 100000] [--assets 10000] [--quick]
        [--repeat 3] [--database-url URL]

Builds a fresh database by the real migrations (a SQLite file in a temporary folder by default;
PostgreSQL when BENCH_DATABASE_URL or --database-url is given: that database is wiped) and
seeds the demo (tickets/demo). Then:

1. Relevance: every query of bench/search_relevance.json runs as the demo lead (who sees
   everything): "search" queries through ``search.search`` (the /search box), "intake" ones
   through ``search.similar`` with the intake form's arguments (title and data needed; requests
   and assets; delivered or resolved requests, active assets). Per mode it prints recall@5 (the
   share of a query's expected items among its first five results, averaged over queries) and
   MRR (1 / rank of the first expected item, 0 when none is in the first ten), and the queries
   that miss.
2. Scale: adds noise up to N requests and M assets (generated texts in the demo's vocabulary
   and beyond it, some delivered with notes and comments, a tenth of the assets deprecated,
   most linked to a delivered request), inserted with Core in batches, with their search
   documents written in bulk the way search.py writes them (a sample is checked against
   search.py's own document builders; on any difference the index is rebuilt by
   ``search.rebuild``). It then times ``GET /search?q=`` through the Flask test client, logged
   in as a requester and as the lead, over the relevance set's search queries (median and p95,
   after a warm-up; each timed series stops after --budget seconds, over a shuffled sample,
   and says so); when the app has no /search page it times ``search.search`` in a fresh app
   context per call instead, and says so. The intake suggestion is timed as ``search.similar``
   with the intake arguments, called directly (there is no suggestion endpoint to call). The
   relevance figures are measured again with the demo items among the noise.

The last line printed is one JSON object with the figures.
"""
import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy import text as sql_text

from bench.common import pick, wipe
from tickets import create_app, people, search
from tickets.demo import DEMO_PASSWORD, seed_demo
from tickets.extensions import db
from tickets.models import (ASSET_KINDS, Asset, AssetLink, Event, Request, SearchDocument, Team,
                            User, utcnow)
from tickets.reports.stats import percentile

RELEVANCE = Path(__file__).with_name("search_relevance.json")
LEAD, REQUESTER = "lead@example.com", "requester@example.com"
TOP, MRR_DEPTH = 5, 10
BATCH = 5000


# --- the relevance set ------------------------------------------------------------------------

def load_relevance(path=RELEVANCE):
    """The relevance set's queries: [{mode, query | title + data_needed, expected}]."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["queries"]


def intake_text(query):
    """What the intake form passes to ``search.similar``: the title, then the data needed."""
    return f"{query['title']}\n{query['data_needed']}"


def demo_ids():
    """{("request" | "asset", title): {ids}} of everything in the database (a title may name
    more than one request: a duplicate keeps its original's title)."""
    found = {}
    for kind, model in (("request", Request), ("asset", Asset)):
        for item_id, title in db.session.execute(select(model.id, model.title)):
            found.setdefault((kind, title), set()).add(item_id)
    return found


def expected_keys(query):
    """The (kind, title) pairs a query expects."""
    return [next(iter(item.items())) for item in query["expected"]]


def ranked(user, query, depth=MRR_DEPTH):
    """[(kind, id)] the first ``depth`` results of ``query`` for ``user``, best first."""
    if query["mode"] == "search":
        hits = search.search(user, query["query"], per_page=depth).hits
    else:
        # The intake shows five; asking for ten ranks the same five first, and gives MRR its
        # depth.
        hits = search.similar(user, intake_text(query), types=("request", "asset"),
                              request_condition=search.answers_condition(),
                              asset_condition=search.active_assets_condition(), limit=depth)
    return [(hit.kind, hit.id) for hit in hits]


def evaluate(user, queries, ids):
    """{mode: {"recall_at_5", "mrr", "queries", "misses": [...]}} of ``queries`` run as
    ``user``; ``ids`` resolves expected titles (demo_ids, taken before any noise)."""
    per_mode = {}
    for query in queries:
        results = ranked(user, query)
        wanted = [(kind, ids[kind, title]) for kind, title in expected_keys(query)]

        def expected(result):
            return any(result[0] == kind and result[1] in item_ids for kind, item_ids in wanted)

        found = sum(1 for kind, item_ids in wanted
                    if any(k == kind and i in item_ids for k, i in results[:TOP]))
        recall = found / len(wanted)
        reciprocal = next((1 / position for position, result in enumerate(results, start=1)
                           if expected(result)), 0.0)
        mode = per_mode.setdefault(query["mode"], {"recall": [], "rr": [], "misses": []})
        mode["recall"].append(recall)
        mode["rr"].append(reciprocal)
        if recall < 1:
            mode["misses"].append((query, recall, reciprocal, results[:TOP]))
    return {mode: {"recall_at_5": statistics.fmean(found["recall"]),
                   "mrr": statistics.fmean(found["rr"]), "queries": len(found["recall"]),
                   "misses": found["misses"]}
            for mode, found in per_mode.items()}


def check_relevance_set(queries, ids):
    """Problems with the relevance set: expected items missing from the demo data, intake
    expectations that intake can never suggest, malformed entries. [] when it is sound."""
    problems = []
    for number, query in enumerate(queries, start=1):
        mode = query.get("mode")
        if mode not in ("search", "intake"):
            problems.append(f"#{number}: unknown mode {mode!r}")
            continue
        if mode == "search" and not (query.get("query") or "").strip():
            problems.append(f"#{number}: no query")
        if mode == "intake" and not (query.get("title") and query.get("data_needed")):
            problems.append(f"#{number}: intake needs a title and data_needed")
        if not query.get("expected"):
            problems.append(f"#{number}: nothing expected")
        for item in query.get("expected", []):
            if len(item) != 1 or next(iter(item)) not in ("request", "asset"):
                problems.append(f"#{number}: expected item {item!r} is not {{kind: title}}")
                continue
            key = next(iter(item.items()))
            if key not in ids:
                problems.append(f"#{number}: no demo {key[0]} titled {key[1]!r}")
            elif mode == "intake" and not _suggestible(key, ids[key]):
                problems.append(f"#{number}: intake never suggests {key[0]} {key[1]!r}")
    return problems


def _suggestible(key, item_ids):
    kind, _ = key
    model, condition = ((Request, search.answers_condition()) if kind == "request"
                        else (Asset, search.active_assets_condition()))
    return bool(db.session.scalar(select(func.count()).select_from(model)
                                  .where(model.id.in_(item_ids), condition)))


def print_relevance(label, figures, titles):
    """Print each mode's recall@5 and MRR, then the queries that missed."""
    for mode in ("search", "intake"):
        found = figures[mode]
        print(f"{label:<7} {mode:<7} recall@5 {found['recall_at_5']:.3f}  MRR {found['mrr']:.3f}"
              f"  ({found['queries']} queries, {len(found['misses'])} with a miss)")
    for mode in ("search", "intake"):
        for query, recall, reciprocal, top in figures[mode]["misses"]:
            text = query["query"] if mode == "search" else intake_text(query).replace("\n", " | ")
            print(f"  miss [{mode}] recall {recall:.2f} rr {reciprocal:.2f}: {text}")
            print(f"      expected: {'; '.join(t for _, t in expected_keys(query))}")
            print(f"      top {TOP}:   {'; '.join(titles.get(item, '?') for item in top) or '-'}")


def _titles():
    return {(kind, item_id): title
            for (kind, title), item_ids in demo_ids().items() for item_id in item_ids}


# --- noise at scale ---------------------------------------------------------------------------

EXTRA_TEAMS = ("Operations", "Engineering", "Legal", "Procurement", "Partnerships",
               "Data Platform")
METRICS = {
    "Marketing": ("cost per lead", "e-mail click-through rate", "webinar attendance",
                  "paid social spend", "organic traffic", "MQL to SQL conversion",
                  "brand search volume", "event leads", "cost per acquisition", "referral sign-ups"),
    "Finance": ("operating expenses", "accounts receivable", "deferred revenue", "gross margin",
                "cash collections", "travel expenses", "payroll cost", "ARR", "VAT payable",
                "revenue recognition"),
    "Product": ("feature usage", "weekly active users", "onboarding completion",
                "session length", "crash rate", "in-app search usage", "retention",
                "time to first value", "trial conversion", "notification opt-outs"),
    "Customer Support": ("ticket volume", "first contact resolution", "backlog", "CSAT",
                         "reopened tickets", "chat wait time", "refund requests",
                         "knowledge base views", "escalations", "handling time"),
    "Sales": ("win rate", "deal cycle length", "quota attainment", "average deal size",
              "renewal rate", "expansion revenue", "demo requests", "outbound calls",
              "pipeline created", "churned accounts"),
    "People": ("headcount", "time to hire", "offer acceptance rate", "training hours",
               "absence rate", "internal mobility", "overtime hours", "engagement score",
               "leavers", "promotion rate"),
    "Operations": ("delivery times", "warehouse throughput", "order backlog", "returns",
                   "stock-outs", "shipping costs"),
    "Engineering": ("deploy frequency", "incident count", "on-call pages", "build times",
                    "error budget", "pull request lead time"),
    "Legal": ("contract turnaround", "NDA volume", "open disputes", "data subject requests"),
    "Procurement": ("supplier spend", "contract savings", "software licences",
                    "vendor onboarding time"),
    "Partnerships": ("partner-sourced revenue", "reseller deals", "partner certifications",
                     "co-marketing leads"),
    "Data Platform": ("warehouse costs", "pipeline failures", "dashboard views",
                      "query runtimes", "table freshness"),
}
DIMENSIONS = ("region", "country", "channel", "plan", "segment", "product line", "team", "week",
              "month", "quarter", "customer size", "acquisition source", "device", "signup cohort",
              "manager", "department", "office", "language", "currency", "partner")
SCOPES = ("EMEA", "North America", "APAC", "enterprise accounts", "SMB customers",
          "the DACH region", "Q1", "Q2", "Q3", "last quarter", "the last 12 months",
          "this fiscal year", "the new pricing", "the spring launch", "the Berlin office",
          "the mobile app", "the web app", "new hires", "the Nordics", "France", "the UK",
          "the public sector", "self-serve customers", "the holiday season")
MEETINGS = ("monthly business review", "quarterly planning", "board pack", "weekly team meeting",
            "budget round", "leadership offsite", "all-hands", "customer advisory board",
            "annual planning", "ops review")
ACTIONS = ("shift budget between channels", "hire another person", "change the pricing",
           "renegotiate the contract", "stop the programme", "expand to a new region",
           "fix the onboarding flow", "change the shift plan", "invest more in this",
           "update the forecast")
TITLE_PATTERNS = ("{Metric} by {dim} for {scope}", "{Metric} by {dim} and {dim2}",
                  "Why did {metric} drop in {scope}?", "{Metric} trend for {scope}",
                  "Monthly {metric} report by {dim}", "{Metric} looks wrong for {scope}",
                  "Dashboard: {metric} per {dim}", "Extract of {metric} per {dim} ({scope})",
                  "Compare {metric} across {dim}s", "{Metric} forecast for {scope}")
ASSET_TITLES = {
    "dashboard": ("{Metric} by {dim}", "{Metric} overview", "{Metric} ({scope})"),
    "dataset": ("{Metric} extract by {dim}", "{Metric} per {dim} ({scope})"),
    "table": ("analytics.{slug}_by_{dimslug}", "{teamslug}.{slug}"),
    "report": ("Weekly {metric} report", "{Metric} by {dim}: monthly report"),
    "document": ("How we measure {metric}", "{Metric} deep dive: {scope}"),
}
STATES = {"submitted": 6, "accepted": 5, "in_progress": 5, "needs_info": 2, "blocked": 2,
          "delivered": 6, "resolved": 55, "declined": 8, "cancelled": 6, "duplicate": 3,
          "waitlisted": 2}
DATA_NEEDED = (
    "{Metric} per {dim} and {dim2} for {scope}, by month for the last year.",
    "Weekly {metric} for {scope}, split by {dim}.",
    "A list of {dim2}s with their {metric} since January, for {scope}.",
    "{Metric} for {scope} compared with the same period a year ago, by {dim}.",
    "Daily {metric} by {dim} over the last 90 days; {scope} only.",
    "The raw numbers behind {metric} for {scope}, one row per {dim2}.",
)
USAGE = ("For the {meeting}.", "We review it in the {meeting}.", "Input to the {meeting} deck.",
         "Our leads need it before the {meeting}.", "To prepare the {meeting}.")
SHAPE = ("One row per {dim} and month; I expect {scope} to stand out.", "A trend line per {dim}.",
         "About a dozen {dim}s, most of them close to each other.",
         "A table sorted by {metric}, highest first.")
EXTRACTION = ("Compare each {dim} with the company average.",
              "Spot the {dim}s that moved most since last quarter.",
              "Check whether {scope} differs from the rest.", "Rank the {dim2}s by {metric}.")
DECISION = ("Whether to {action}.", "We will {action} if {scope} lags behind.",
            "Decide if we {action}.")
ASSET_DESCRIPTIONS = (
    "{Metric} per {dim} and {dim2}, refreshed every night. Covers {scope}; used in the {meeting}.",
    "Weekly {metric} by {dim} for {scope}.",
    "Source table for {metric}: one row per {dim2} and day.",
    "{Metric} trends with a filter for {dim}; built for the {meeting}.",
)
COMMENT_TEXTS = ("Any update on this? The {meeting} is next week.",
                 "Adding context: we only need {scope}, not the whole company.",
                 "Could you split this by {dim} as well?",
                 "Thanks, the {metric} numbers look right to me.")
DELIVERY_TEXTS = ("Linked the {metric} by {dim}; definitions are in the first tab.",
                  "Dashboard is live and refreshes daily; {metric} excludes test accounts.",
                  "Sheet linked with {metric} per {dim} for {scope}; caveats at the top.")


class Noise:
    """Generated requests and assets in the demo's teams and six more, with believable texts."""

    def __init__(self, seed=11):
        self.rng = random.Random(seed)

    def words(self, team):
        """The pieces one text is made of, for ``team``."""
        rng = self.rng
        metric = rng.choice(METRICS[team])
        dim, dim2 = rng.sample(DIMENSIONS, 2)
        return {"metric": metric, "Metric": metric[0].upper() + metric[1:], "dim": dim,
                "dim2": dim2, "scope": rng.choice(SCOPES), "meeting": rng.choice(MEETINGS),
                "action": rng.choice(ACTIONS), "slug": _slug(metric), "dimslug": _slug(dim),
                "teamslug": _slug(team)}

    def request(self, team):
        """A request's texts: title and the intake fields."""
        w = self.words(team)
        rng = self.rng
        return {
            "title": rng.choice(TITLE_PATTERNS).format(**w)[:200],
            "data_needed": rng.choice(DATA_NEEDED).format(**w),
            "usage": rng.choice(USAGE).format(**w),
            "lever_result": "{Metric}.".format(**w),
            "lever_expected_shape": rng.choice(SHAPE).format(**w),
            "lever_extraction": rng.choice(EXTRACTION).format(**w),
            "lever_decision": rng.choice(DECISION).format(**w),
        }, w

    def asset(self, team):
        """An asset's title, kind, description and tags."""
        rng = self.rng
        w = self.words(team)
        kind = rng.choice(list(ASSET_KINDS))
        tags = sorted({_slug(w["metric"]).replace("_", " "), w["dim"], _slug(team).replace("_", " ")})
        return {
            "title": rng.choice(ASSET_TITLES[kind]).format(**w)[:200], "kind": kind,
            "description": rng.choice(ASSET_DESCRIPTIONS).format(**w),
            "tags": "," + ",".join(tags) + ",",
        }, w


def _slug(text):
    return "_".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def add_noise(n_requests, n_assets, seed=11):
    """Bulk-insert requests and assets up to ``n_requests`` and ``n_assets`` in all, with their
    search documents; return (seconds taken, how the index was written)."""
    started = time.perf_counter()
    noise = Noise(seed)
    rng = noise.rng
    now = utcnow()
    teams = {team.name: team for team in db.session.scalars(select(Team))}
    users = list(db.session.scalars(select(User)))
    for name in EXTRA_TEAMS:
        if name not in teams:
            teams[name] = people.save_team(None, name=name)
    db.session.flush()
    requesters = {name: [u for u in users if u.role == "requester" and team in u.teams]
                  for name, team in teams.items()}
    for name in EXTRA_TEAMS:
        if not requesters[name]:
            requesters[name] = [people.save_user(
                None, name=f"{name} requester {i}", email=f"{_slug(name)}.{i}@example.com",
                role="requester", team_ids=[teams[name].id], password=DEMO_PASSWORD)
                for i in range(3)]
    analysts = [u for u in users if u.role in ("analyst", "lead")]
    db.session.commit()
    team_names = list(teams)

    have = db.session.scalar(select(func.count()).select_from(Request))
    documents, delivered = [], []
    for start in range(have, n_requests, BATCH):
        rows, notes = [], []
        for _ in range(start, min(start + BATCH, n_requests)):
            team = rng.choice(team_names)
            fields, w = noise.request(team)
            state = pick(rng, STATES)
            created = now - timedelta(days=rng.uniform(1, 3 * 365))
            requester = rng.choice(requesters[team])
            done = state in ("delivered", "resolved")
            rows.append({**fields, "team_id": teams[team].id, "requester_id": requester.id,
                         "format": rng.choice(("dashboard", "spreadsheet", "analysis", "table",
                                               "answer", "presentation")),
                         "deadline": (created + timedelta(days=30)).date(),
                         "kind": rng.choice(("ad_hoc", "project", "data_issue")),
                         "business_impact": rng.randint(1, 5), "is_exec_sponsored": False,
                         "exec_sponsor": "", "is_confidential": rng.random() < 0.03,
                         "state": state, "created_at": created, "updated_at": created,
                         "assignee_id": rng.choice(analysts).id if done or state in (
                             "in_progress", "blocked") else None,
                         "size": rng.choice("SML") if state not in ("submitted",) else None,
                         "decline_reason": rng.choice(("self_serve", "low_value", "no_data"))
                         if state == "declined" else None,
                         "delivered_url": f"https://bi.example.com/queries/{start}-{len(rows)}"
                         if done else None,
                         "version": 1})
            texts = []
            if rng.random() < 0.2:
                texts.append(("comment", None, rng.choice(COMMENT_TEXTS).format(**w)))
            if done:
                texts.append(("transition", "deliver", rng.choice(DELIVERY_TEXTS).format(**w)))
            notes.append(texts)
        ids = db.session.execute(insert(Request).returning(Request.id,
                                                           sort_by_parameter_order=True),
                                 rows).scalars().all()
        events = []
        for request_id, row, texts in zip(ids, rows, notes):
            events.append({"request_id": request_id, "actor_id": row["requester_id"],
                           "kind": "created", "to_state": "submitted", "text": "", "data": {},
                           "created_at": row["created_at"]})
            for offset, (kind, action, text) in enumerate(texts, start=1):
                events.append({"request_id": request_id, "actor_id": row["assignee_id"] or
                               row["requester_id"], "kind": kind, "action": action,
                               "to_state": "delivered" if action else None, "text": text,
                               "data": {}, "created_at": row["created_at"] + timedelta(days=offset)})
            documents.append({"kind": "request", "ref_id": request_id, "title": row["title"],
                              "body": " ".join([*(row[name] for name in search.REQUEST_FIELDS),
                                                *(text for _, _, text in texts)])})
            if row["state"] in ("delivered", "resolved"):
                delivered.append((request_id, row["team_id"], row["assignee_id"], row["created_at"]))
        db.session.execute(insert(Event), events)
        db.session.commit()

    have = db.session.scalar(select(func.count()).select_from(Asset))
    for start in range(have, n_assets, BATCH):
        rows = []
        for _ in range(start, min(start + BATCH, n_assets)):
            team = rng.choice(team_names)
            fields, _ = noise.asset(team)
            created = now - timedelta(days=rng.uniform(1, 3 * 365))
            rows.append({**fields, "url": f"https://bi.example.com/catalogue/{start}-{len(rows)}",
                         "team_id": teams[team].id,
                         "status": "deprecated" if rng.random() < 0.1 else "active",
                         "last_verified_on": (now - timedelta(days=rng.uniform(0, 300))).date(),
                         "created_at": created, "updated_at": created, "version": 1})
        ids = db.session.execute(insert(Asset).returning(Asset.id, sort_by_parameter_order=True),
                                 rows).scalars().all()
        links = []
        for asset_id, row in zip(ids, rows):
            documents.append({"kind": "asset", "ref_id": asset_id, "title": row["title"],
                              "body": " ".join([row["description"], row["tags"].replace(",", " "),
                                                ASSET_KINDS[row["kind"]]])})
            if delivered and rng.random() < 0.6:
                request_id, _, assignee_id, created = rng.choice(delivered)
                links.append({"asset_id": asset_id, "request_id": request_id, "how": "delivered",
                              "linked_by_id": assignee_id, "created_at": created})
        if links:
            db.session.execute(insert(AssetLink), links)
        db.session.commit()

    how = "bulk"
    for start in range(0, len(documents), BATCH):
        db.session.execute(insert(SearchDocument), documents[start:start + BATCH])
    db.session.commit()
    if not _documents_match(rng, documents):
        how = "search.rebuild (bulk documents differed from search.py's)"
        search.rebuild()
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does after a bulk load: the statistics search reads its word
        # frequencies from (pg_stats). Without them every word counts as rare.
        db.session.execute(sql_text("ANALYZE"))
        db.session.commit()
    return time.perf_counter() - started, how


def _documents_match(rng, documents, sample=300):
    """Whether a sample of the bulk-written documents equals what search.py would write."""
    if not documents:
        return True
    connection = db.session.connection()
    builders = {"request": search.request_document, "asset": search.asset_document}
    for document in rng.sample(documents, min(sample, len(documents))):
        built = builders[document["kind"]](document["ref_id"], connection)
        if built != (document["title"], document["body"]):
            return False
    return True


# --- timing -----------------------------------------------------------------------------------

def _logged_in(app, email):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD,
                                           "csrf_token": token})
    assert response.status_code in (302, 303), response.status_code
    return client


def has_search_page(app):
    """Whether the app has the /search page (another part of issue 12 adds it)."""
    return any(rule.rule == "/search" for rule in app.url_map.iter_rules())


def _timed(call, items, repeat, budget):
    """Milliseconds of ``call(item)`` over ``repeat`` rounds of ``items``, after a warm-up on the
    first five, stopping when ``budget`` seconds are spent; (timings, whether it stopped)."""
    for item in items[:5]:
        call(item)
    timings, started = [], time.perf_counter()
    for _ in range(repeat):
        for item in items:
            if time.perf_counter() - started > budget:
                return timings, True
            before = time.perf_counter()
            call(item)
            timings.append((time.perf_counter() - before) * 1000)
    return timings, False


def time_search(app, email, queries, repeat, budget):
    """Timings of /search (or, without the page, of ``search.search`` in a fresh app context,
    as one page request has) over ``queries``, as ``email``."""
    if has_search_page(app):
        client = _logged_in(app, email)

        def call(query):
            response = client.get("/search", query_string={"q": query})
            assert response.status_code == 200, (query, response.status_code)
    else:
        user_id = _user_id(app, email)

        def call(query):
            with app.app_context():
                search.search(db.session.get(User, user_id), query)
    return _timed(call, queries, repeat, budget)


def time_suggest(app, email, texts, repeat, budget, prefix=False):
    """Timings of the intake suggestion call (``search.similar`` with the intake arguments, in
    a fresh app context, as one JSON call would have) over ``texts``, as ``email``."""
    user_id = _user_id(app, email)

    def call(text):
        with app.app_context():
            search.similar(db.session.get(User, user_id), text, types=("request", "asset"),
                           request_condition=search.answers_condition(),
                           asset_condition=search.active_assets_condition(), limit=TOP,
                           prefix=prefix)
    return _timed(call, texts, repeat, budget)


def _user_id(app, email):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def _summary(timings):
    timings = sorted(timings)
    return percentile(timings, 0.5), percentile(timings, 0.95)


# --- the run ----------------------------------------------------------------------------------

def relevance_on(app, queries, ids=None):
    """Evaluate ``queries`` as the demo lead; return (figures, ids)."""
    with app.app_context():
        ids = ids or demo_ids()
        lead = db.session.scalars(select(User).where(User.email == LEAD)).one()
        figures = evaluate(lead, queries, ids)
        titles = _titles()
        db.session.rollback()
    return figures, ids, titles


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--assets", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds over the queries")
    parser.add_argument("--budget", type=float, default=150,
                        help="seconds at most for each timed series (then it stops early)")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    if args.quick:
        args.requests, args.assets, args.repeat = min(args.requests, 2000), min(args.assets, 300), 1

    queries = load_relevance()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench-search.db"
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        wipe(app)
        with app.app_context():
            database = db.engine.dialect.name
            seed_demo()
            db.session.commit()
            problems = check_relevance_set(queries, demo_ids())
        if problems:
            raise SystemExit("relevance set: " + "; ".join(problems))
        print(f"database {database}; {len(queries)} queries "
              f"({sum(q['mode'] == 'search' for q in queries)} search, "
              f"{sum(q['mode'] == 'intake' for q in queries)} intake)")
        demo, ids, titles = relevance_on(app, queries)
        print_relevance("demo", demo, titles)

        with app.app_context():
            build_seconds, how = add_noise(args.requests, args.assets)
            n_requests = db.session.scalar(select(func.count()).select_from(Request))
            n_assets = db.session.scalar(select(func.count()).select_from(Asset))
        print(f"noise: {n_requests} requests, {n_assets} assets in {build_seconds:.1f} s "
              f"(index written: {how})")
        scale, _, titles = relevance_on(app, queries, ids)
        print_relevance("scale", scale, titles)

        texts = [q["query"] for q in queries if q["mode"] == "search"]
        intake = [intake_text(q) for q in queries if q["mode"] == "intake"]
        # Sixty-odd queries: the search ones, and the intake titles typed into the search box,
        # in a fixed shuffled order (a time budget then cuts a sample, not the last ones).
        texts += [q["title"] for q in queries if q["mode"] == "intake"][:max(0, 60 - len(texts))]
        random.Random(5).shuffle(texts)
        suggest_texts = intake + texts
        random.Random(6).shuffle(suggest_texts)
        timed = "GET /search" if has_search_page(app) else "search.search (no /search page)"
        search_timings = {}
        for who in (REQUESTER, LEAD):
            search_timings[who], cut = time_search(app, who, texts, args.repeat, args.budget)
            median, p95 = _summary(search_timings[who])
            print(f"{timed} as {who}: median {median:.1f} ms, p95 {p95:.1f} ms "
                  f"({len(search_timings[who])} calls over {len(texts)} queries"
                  f"{'; stopped at the time budget' if cut else ''})")
        suggest, cut = time_suggest(app, REQUESTER, suggest_texts, args.repeat, args.budget)
        suggest_median, suggest_p95 = _summary(suggest)
        print(f"search.similar (intake suggestions, called directly) as {REQUESTER}: median "
              f"{suggest_median:.1f} ms, p95 {suggest_p95:.1f} ms ({len(suggest)} calls"
              f"{'; stopped at the time budget' if cut else ''})")
        typing, cut = time_suggest(app, REQUESTER, intake, 1, args.budget / 2, prefix=True)
        print("  the same with prefix=True (last word still being typed): median "
              "{:.1f} ms, p95 {:.1f} ms ({} calls)".format(*_summary(typing), len(typing)))
        search_median, search_p95 = _summary(search_timings[REQUESTER] + search_timings[LEAD])
        with app.app_context():
            db.engine.dispose()

    print(json.dumps({
        "database": database, "requests": n_requests, "assets": n_assets,
        "search_recall_at_5": round(demo["search"]["recall_at_5"], 3),
        "search_mrr": round(demo["search"]["mrr"], 3),
        "intake_recall_at_5": round(demo["intake"]["recall_at_5"], 3),
        "intake_mrr": round(demo["intake"]["mrr"], 3),
        "scale_search_recall_at_5": round(scale["search"]["recall_at_5"], 3),
        "scale_search_mrr": round(scale["search"]["mrr"], 3),
        "scale_intake_recall_at_5": round(scale["intake"]["recall_at_5"], 3),
        "scale_intake_mrr": round(scale["intake"]["mrr"], 3),
        "search_median_ms": round(search_median, 1), "search_p95_ms": round(search_p95, 1),
        "search_timed": timed, "search_calls": sum(map(len, search_timings.values())),
        "suggest_calls": len(suggest),
        "search_requester_median_ms": round(_summary(search_timings[REQUESTER])[0], 1),
        "search_lead_median_ms": round(_summary(search_timings[LEAD])[0], 1),
        "suggest_median_ms": round(suggest_median, 1), "suggest_p95_ms": round(suggest_p95, 1),
        "build_seconds": round(build_seconds, 1),
    }))


if __name__ == "__main__":
    main()
