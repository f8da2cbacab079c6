"""The search engine under the search box: which words are searched, and how the engines keep
everyday words from costing a full ranking of the index (tickets/search.py)."""
import pytest
from sqlalchemy import select, text

from tickets import catalogue, policy, search
from tickets.extensions import db
from tests.conftest import _forget_search_statistics
from tickets.models import Asset, Request, SearchDocument, User


def test_terms_keep_words_of_any_script_and_drop_syntax():
    assert search.terms('NEAR( "churn" * AND (region') == ["near", "churn", "region"]
    assert search.terms("売上 по регионам مبيعات") == ["売上", "по", "регионам", "مبيعات"]
    assert search.terms("the of and a") == []
    assert search.terms("Q3 2025 a b") == ["q3", "2025"]


def test_terms_are_capped_and_unique():
    words = search.terms(" ".join(f"word{i} word{i}" for i in range(100)))
    assert words == [f"word{i}" for i in range(search.MAX_TERMS)]


def test_normalise_groups_the_same_words():
    assert search.normalise("  Supplier   LEAD-times? ") == search.normalise("supplier lead times")


@pytest.fixture
def everyday(app, make, monkeypatch):
    """Twelve requests that all say "monthly", one of them also "zebra"; any word in more than
    a third of the documents counts as common."""
    monkeypatch.setattr(search, "RARE_MIN", 0)
    monkeypatch.setattr(search, "COMMON_SHARE", 0.3)
    team = make.team()
    lead = make.user("lead")
    requester = make.user(teams=[team])
    ids = [make.request(requester, team, title=f"Monthly figures {i}",
                        data_needed="monthly numbers for the board")
           for i in range(11)]
    ids.append(make.request(requester, team, title="Monthly zebra count",
                            data_needed="monthly numbers of zebras"))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE search_documents"))  # the statistics the engine reads
            db.session.commit()
    return lead, ids


def test_a_rare_word_selects_and_the_common_ones_only_rank(app, everyday):
    lead, ids = everyday
    with app.app_context():
        user = db.session.get(User, lead)
        postgresql = db.engine.dialect.name == "postgresql"
        shares = search._shares(["monthly", "zebra"]) if postgresql else None
        assert search._common(["monthly", "zebra"], False, shares) == {"monthly"}
        results = search.search(user, "monthly zebra")
        assert [hit.id for hit in results.hits] == [ids[-1]]
        assert results.total == 1


def test_only_common_words_rank_the_newest_documents_holding_all_of_them(app, everyday,
                                                                        monkeypatch):
    lead, ids = everyday
    monkeypatch.setattr(search, "COMMON_CANDIDATES", 3)
    with app.app_context():
        user = db.session.get(User, lead)
        results = search.search(user, "monthly numbers")
        assert results.total == 3
        assert sorted(hit.id for hit in results.hits) == ids[-3:]


def test_small_indexes_never_prune(app, make):
    team = make.team()
    requester = make.user(teams=[team])
    for i in range(3):
        make.request(requester, team, title=f"Monthly figures {i}")
    with app.app_context():
        assert search._common(["monthly", "figures"], False) == set()


def test_an_emptied_index_ranks_as_a_new_one_once_the_suite_forgets_its_statistics(app, make):
    """What the suite's cleanup does between tests (conftest._forget_search_statistics): an
    index analysed with thousands of documents where "region" and "week" are everyday words
    and "churn" is rare, then emptied, would otherwise rank a later test's "churn" alone above
    "churn by region per week" (PostgreSQL keeps the statistics when ANALYZE finds no rows)."""
    documents = SearchDocument.__table__
    with app.app_context():
        db.session.execute(documents.insert(), [
            {"kind": "request", "ref_id": 100_000 + i, "title": f"Sales per region per week {i}",
             "body": "weekly regional numbers"} for i in range(3000)])
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE search_documents"))
        db.session.execute(documents.delete())
        db.session.commit()
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                _forget_search_statistics(connection)
    team = make.team()
    requester = make.user(teams=[team])
    no_other_words = dict(data_needed="", usage="", lever_result="", lever_expected_shape="",
                          lever_extraction="", lever_decision="")
    one_word = make.request(requester, team, title="Churn in general", **no_other_words)
    three_words = make.request(requester, team, title="Churn by region per week",
                               **no_other_words)
    with app.app_context():
        found = search.search(db.session.get(User, requester), "churn region week")
        assert [hit.id for hit in found.hits] == [three_words, one_word]


def test_pointing_a_self_serve_decline_at_an_asset_shares_it_and_delivering_hides_it(app, make):
    marketing, finance = make.team(), make.team()
    rita = make.user(teams=[marketing])
    fred = make.user(teams=[finance])
    lead = make.user("lead")
    declined = make.request(fred, finance, is_confidential=True)
    delivered_for = make.request(fred, finance)
    with app.app_context():
        boss = db.session.get(User, lead)
        shared = catalogue.add_asset(boss, title="Company KPIs", url="https://bi.example.com/kpi",
                                     kind="dashboard", team_id=finance)
        made = catalogue.add_asset(boss, title="Finance close pack", url="https://bi.example.com/c",
                                   kind="report", team_id=finance)
        catalogue.link(shared, db.session.get(Request, declined), boss, how="pointed")
        catalogue.link(made, db.session.get(Request, delivered_for), boss, how="delivered")
        db.session.commit()
        viewer = db.session.get(User, rita)
        seen = set(db.session.scalars(select(Asset.id).where(policy.visible_assets(viewer))))
        assert seen == {shared.id}
        assert policy.sees_asset(viewer, db.session.get(Asset, shared.id))
        assert not policy.sees_asset(viewer, db.session.get(Asset, made.id))
        assert [hit.id for hit in search.search(viewer, "company kpis finance close").hits] == [shared.id]

