"""bench.pages and bench.load at a tiny size: they build their data, reach every page and
chart through the real app (and gunicorn), and report in the shape the issue asks for. Figures
are the benchmarks' to report, not a test's to assert."""
import json
import math

from sqlalchemy import func, select

from bench import load, pages
from tickets.extensions import db
from tickets.models import OutboxMessage

TIMED = {"median_ms", "p95_ms", "cpu_ms", "sql", "status"}


def bench_app(app, make_app, tmp_path, **config):
    """An app on a database the bench may wipe. On SQLite a file of its own: the bench deletes
    its SQLite file to start afresh, which would take the test database away from the tests
    that run after this one in the same process. On PostgreSQL the test database (the bench
    drops and rebuilds its schema, as every test's set-up expects)."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'bench.db'}"
    return make_app(**config)


def test_pages_bench_builds_its_data_and_times_every_page_and_chart(app, make_app, tmp_path):
    app = bench_app(app, make_app, tmp_path, SQLALCHEMY_RECORD_QUERIES=True)
    try:
        figures = pages.run(app, 150, repeat=1, log=lambda line: None, n_requesters=12)
        again = pages.ensure_data(app, 150, log=lambda line: None, n_requesters=12)
        with app.app_context():  # the digests were timed, not left queued: the data stays reusable
            assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.kind == "digest")) == 0
    finally:
        pages.drop_build_marker(app)
    meta = figures.pop("_meta")
    assert meta["requests"] == 150 and meta["events"] >= 1000
    assert again["reused"] and again["requests"] == 150
    assert not meta["reused"]
    by_role = {name.split()[0] for name in figures}
    assert by_role == {"lead", "analyst", "requester", "digests"}
    for key in ("/queue", "/backlog", "/triage", "/search", "/catalogue", "/notifications",
                "/reports/cumulative_flow.json", "/reports/lead_time.json",
                "lead api /api/v1/requests?", "analyst api /api/v1/queue"):
        assert any(key in name for name in figures), key
    assert sum(".json" in name for name in figures) >= 2 * 9
    for name, found in figures.items():
        assert TIMED <= set(found), name
        assert found["status"] == 200, (name, found)
        assert 0 < found["sql"] < 10000 and math.isfinite(found["p95_ms"]), (name, found)
        assert found["median_ms"] <= found["p95_ms"]
    assert figures["digests queue_due"]["queued"] == 12 + 25 + 1
    assert json.loads(json.dumps(pages.rounded({**figures, "_meta": meta})))


def test_load_bench_serves_reads_and_writes_through_gunicorn_without_errors(app, make_app,
                                                                            tmp_path):
    app = bench_app(app, make_app, tmp_path)
    try:
        pages.ensure_data(app, 150, log=lambda line: None, n_requesters=12)
    finally:
        pages.drop_build_marker(app)
    figures = load.run(app.config["SQLALCHEMY_DATABASE_URI"], users=3, seconds=3, workers=2)
    meta = figures["_meta"]
    assert meta["errors"] == 0 and meta["http_5xx"] == 0, meta["error_examples"]
    assert meta["requests"] > 0 and meta["throughput_per_s"] > 0
    assert figures["reads"]["count"] > 0
    assert set(figures) <= {*load.READS, *load.WRITES, "reads", "writes", "_meta"}
    for found in figures.values():
        if "count" in found:
            assert found["median_ms"] <= found["p95_ms"] <= found["p99_ms"]
