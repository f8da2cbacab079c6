"""The search benchmark's relevance set and builders (bench/search.py): well-formed, about the
demo data, and runnable. Figures are the benchmark's to report, not a test's to assert."""
import random

from sqlalchemy import func, select

from bench import search as bench
from tickets import search
from tickets.demo import seed_demo
from tickets.extensions import db
from tickets.models import Asset, Request, SearchDocument, User


def _seeded(app):
    with app.app_context():
        seed_demo()
        db.session.commit()


def test_relevance_set_is_well_formed_and_names_demo_items(app):
    queries = bench.load_relevance()
    modes = [query["mode"] for query in queries]
    assert len(queries) >= 60
    assert modes.count("search") >= 40 and modes.count("intake") >= 20
    texts = [query.get("query") or bench.intake_text(query) for query in queries]
    assert len(set(texts)) == len(texts)
    _seeded(app)
    with app.app_context():
        assert bench.check_relevance_set(queries, bench.demo_ids()) == []


def test_relevance_set_checker_names_what_is_wrong(app):
    _seeded(app)
    bad = [{"mode": "search", "query": "churn", "expected": [{"asset": "No such dashboard"}]},
           {"mode": "intake", "title": "Old ROI sheet", "data_needed": "Campaign costs",
            "expected": [{"asset": "Campaign ROI tracker"}]},  # deprecated: never suggested
           {"mode": "browse", "query": "x", "expected": []}]
    with app.app_context():
        problems = bench.check_relevance_set(bad, bench.demo_ids())
    assert problems == ["#1: no demo asset titled 'No such dashboard'",
                        "#2: intake never suggests asset 'Campaign ROI tracker'",
                        "#3: unknown mode 'browse'"]


def test_relevance_runs_on_the_demo_data_for_both_modes(app):
    _seeded(app)
    queries = bench.load_relevance()
    figures, ids, titles = bench.relevance_on(app, queries)
    assert set(figures) == {"search", "intake"}
    for mode, found in figures.items():
        assert found["queries"] == sum(query["mode"] == mode for query in queries)
        assert 0 <= found["recall_at_5"] <= 1 and 0 <= found["mrr"] <= 1
        for query, recall, reciprocal, top in found["misses"]:
            assert recall < 1 and len(top) <= bench.TOP
            assert all(item in titles for item in top)


def test_noise_is_indexed_as_search_py_would_index_it(app):
    _seeded(app)
    with app.app_context():
        demo_requests = db.session.scalar(select(func.count()).select_from(Request))
        bench.add_noise(demo_requests + 150, 80)
        assert db.session.scalar(select(func.count()).select_from(Request)) == demo_requests + 150
        assert db.session.scalar(select(func.count()).select_from(Asset)) == 80
        for kind, model in (("request", Request), ("asset", Asset)):
            assert db.session.scalar(select(func.count()).select_from(SearchDocument)
                                     .where(SearchDocument.kind == kind)) == \
                db.session.scalar(select(func.count()).select_from(model))
        connection = db.session.connection()
        documents = db.session.execute(select(SearchDocument)).scalars().all()
        for document in random.Random(3).sample(documents, 40):
            builder = search.request_document if document.kind == "request" else \
                search.asset_document
            assert builder(document.ref_id, connection) == (document.title, document.body)
        lead = db.session.scalars(select(User).where(User.email == bench.LEAD)).one()
        assert search.search(lead, "weekly active users").total > 0
