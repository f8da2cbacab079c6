"""Time one webhook delivery run when one receiver is slow: how long the other endpoints wait.

    .venv/bin/python -m bench.webhooks [--endpoints 4] [--requests 30] [--slow-ms 1000]

The database is the one in ``DATABASE_URL`` (PostgreSQL or SQLite; default a SQLite file
``/tmp/bench_webhooks/webhooks.db``), wiped and migrated first (``bench.common.wipe``). Real HTTP
receivers run on 127.0.0.1, one per endpoint; the first answers each POST after ``--slow-ms``,
the others at once. Every endpoint subscribes to "request.created" and ``--requests`` requests
are submitted, so each endpoint has that many deliveries due.

The same deliveries are then sent by ``webhooks.deliver_due`` with WEBHOOK_SENDERS 1 (one
endpoint at a time: what every run did before) and with 4 (the default), the deliveries made
due again in between. For each it prints the run's wall time and when the fast endpoints had
received all of theirs (from the run's start). The last line is one JSON object of the figures.

Measured on two shared cores: see the closing note of issue 16.
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import update

from bench.common import wipe
from tickets import create_app, intake, people, webhooks
from tickets.extensions import db
from tickets.models import WebhookDelivery, utcnow


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 200 after ``delay`` seconds and notes when
    each POST arrived."""

    def __init__(self, delay):
        self.arrived = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(delay)
                receiver.arrived.append(time.monotonic())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/hook"


def build(app, receivers, requests):
    """A team, an admin with one endpoint per receiver, and ``requests`` requests (each
    queueing one delivery per endpoint)."""
    now = utcnow()
    with app.app_context():
        team = people.save_team(None, name="Growth")
        admin = people.save_user(None, name="Admin", email="admin@example.com", role="admin",
                                 team_ids=[])
        requester = people.save_user(None, name="Rita", email="rita@example.com",
                                     role="requester", team_ids=[team.id])
        for receiver in receivers:
            webhooks.create(admin, receiver.url, "", ["request.created"], now,
                            allow_private=True)
        for number in range(requests):
            intake.submit_request(requester, {
                "title": f"Weekly churn by region {number}", "team_id": team.id,
                "data_needed": "Churned accounts per region per week.", "format": "spreadsheet",
                "usage": "The Monday growth meeting.", "lever_result": "Retention budget.",
                "lever_expected_shape": "About 3% a week.", "lever_extraction": "By region.",
                "lever_decision": "Move the budget to the worst region.", "deadline": None,
                "kind": "ad_hoc", "business_impact": 3, "is_exec_sponsored": False,
                "exec_sponsor": "", "is_confidential": False}, now=now)
        db.session.commit()


def run(app, receivers, senders):
    """Make every delivery due again, send them with ``senders`` senders; return figures."""
    with app.app_context():
        db.session.execute(update(WebhookDelivery).values(
            status="pending", attempts=0, next_attempt_at=utcnow(), locked_until=None,
            locked_by=None, delivered_at=None))
        db.session.commit()
    for receiver in receivers:
        receiver.arrived.clear()
    app.config["WEBHOOK_SENDERS"] = senders
    started = time.monotonic()
    with app.app_context():
        result = webhooks.deliver_due(utcnow())
    took = time.monotonic() - started
    fast_done = max(max(receiver.arrived) for receiver in receivers[1:]) - started
    return {"senders": senders, "run_s": round(took, 2), "fast_endpoints_done_s":
            round(fast_done, 2), "succeeded": result.succeeded, "failed": result.failed}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--slow-ms", type=int, default=1000)
    args = parser.parse_args()
    folder = Path("/tmp/bench_webhooks")
    folder.mkdir(exist_ok=True)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/webhooks.db"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    wipe(app)
    receivers = [Receiver(args.slow_ms / 1000)] + [Receiver(0)
                                                    for _ in range(args.endpoints - 1)]
    build(app, receivers, args.requests)
    figures = {"endpoints": args.endpoints, "requests": args.requests,
               "deliveries": args.endpoints * args.requests, "slow_ms": args.slow_ms,
               "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0],
               "cpus": os.cpu_count()}
    for senders in (1, 4):
        figures[f"senders_{senders}"] = found = run(app, receivers, senders)
        print(f"{senders} sender(s): the run took {found['run_s']} s; the fast endpoints had "
              f"all theirs after {found['fast_endpoints_done_s']} s "
              f"({found['succeeded']} succeeded, {found['failed']} failed)")
    for receiver in receivers:
        receiver.server.shutdown()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
