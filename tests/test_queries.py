"""The shared SQL conditions (tickets/queries.py): text matching, and the planner's hints, which
change how SQLite finds rows, never which rows."""
import pytest
from sqlalchemy.dialects import postgresql, sqlite

from tickets.extensions import db
from tickets.models import Request, User
from tickets.queries import contains_text, few, starts_with_text, unindexed

NAMES = ["Émile Zola", "émile zola", "ÉMILE ZOLA", "Straße", "STRASSE", "Ana 100% sure",
         "Ana 1000 sure", "ana_b", "anaXb", "Back\\slash", "İstanbul", "istanbul"]


@pytest.fixture
def named(make):
    return {make.user(name=name, email=f"person{n}@example.com"): name
            for n, name in enumerate(NAMES)}


@pytest.mark.parametrize("text", ["émile", "ÉMILE", "Zola", "STRASSE", "straße", "100%", "_",
                                  "a_b", "\\", "istanbul", "İSTANBUL", "nobody"])
def test_contains_text_matches_what_a_case_insensitive_like_of_the_database_matches(
        app, named, text):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    with app.app_context():
        found = set(db.session.scalars(db.select(User.name).where(
            User.id.in_(named), contains_text(User.name, text))))
        reference = set(db.session.scalars(db.select(User.name).where(
            User.id.in_(named), User.name.ilike(f"%{escaped}%", escape="\\"))))
        starting = set(db.session.scalars(db.select(User.name).where(
            User.id.in_(named), starts_with_text(User.name, text))))
        reference_start = set(db.session.scalars(db.select(User.name).where(
            User.id.in_(named), User.name.ilike(f"{escaped}%", escape="\\"))))
    assert found == reference
    assert starting == reference_start


def test_contains_text_ignores_case_and_takes_wildcards_literally(app, named):
    with app.app_context():
        def matching(text):
            return set(db.session.scalars(db.select(User.name).where(
                User.id.in_(named), contains_text(User.name, text))))

        assert matching("zOLA") >= {"Émile Zola", "émile zola", "ÉMILE ZOLA"}
        assert matching("100%") == {"Ana 100% sure"}
        assert matching("a_b") == {"ana_b"}
        assert matching("k\\s") == {"Back\\slash"}


def test_contains_text_composes_like_any_condition(app, named):
    with app.app_context():
        either = set(db.session.scalars(db.select(User.name).where(
            User.id.in_(named), contains_text(User.name, "zola") | contains_text(User.name, "ana"))))
        neither = set(db.session.scalars(db.select(User.name).where(
            User.id.in_(named), ~contains_text(User.name, "zola"))))
    assert either == {"Émile Zola", "émile zola", "ÉMILE ZOLA", "Ana 100% sure",
                      "Ana 1000 sure", "ana_b", "anaXb"}
    assert neither == set(NAMES) - {"Émile Zola", "émile zola", "ÉMILE ZOLA"}


def test_hints_change_no_result(app, make):
    team = make.team("Marketing")
    requester = make.user(teams=[team])
    made = [make.request(requester, team, title=f"Pull {n}") for n in range(6)]
    make.act(made[0], "decline", make.user("lead"), reason="low_value", note="Not now.")
    with app.app_context():
        def ids(*conditions):
            return db.session.scalars(db.select(Request.id).where(*conditions)
                                      .order_by(Request.id)).all()

        assert ids(few(Request.state == "submitted")) == ids(Request.state == "submitted") \
            == made[1:]
        assert ids(unindexed(Request.state).in_(["declined"])) == \
            ids(unindexed(Request.state) == "declined") == [made[0]]
        assert ids(few(contains_text(Request.title, "pull 3"))) == [made[3]]


def test_hints_reach_sqlite_only():
    query = db.select(Request.id).where(few(Request.kind == "ad_hoc"),
                                        unindexed(Request.state).in_(["resolved"]))
    on_sqlite = str(query.compile(dialect=sqlite.dialect()))
    on_postgresql = str(query.compile(dialect=postgresql.dialect()))
    assert "likelihood(requests.kind = ?, 0.01)" in on_sqlite
    assert "+requests.state IN" in on_sqlite
    assert "likelihood" not in on_postgresql and "+" not in on_postgresql
    assert "requests.kind = %(kind_1)s" in on_postgresql
