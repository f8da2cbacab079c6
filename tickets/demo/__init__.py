"""Demo data: the teams, people and requests behind ``flask seed-demo``.

Everything is created through the domain functions (people, intake, lifecycle) with back-dated
times, so each request's history is a real sequence of events that replays to its state. The data
comes from a small table of hand-written request templates, reused with variations; a seeded
random generator keeps the result the same on every run (only the dates follow ``now``).

Seeding is idempotent: when admin@example.com exists, nothing is added. It flushes; the caller
commits.

The modules: ``teams`` (the teams, people and budgets), ``texts`` (the hand-written request
templates and what people write at each step), ``stories`` (the steps a request goes through,
and the plan of the demo's requests), ``histories`` (scheduling and playing them),
``catalogue`` (the assets that answered them, deflections, searches that found nothing and
platform gaps), ``outcomes`` (what became of the deliveries: follow-ups asked, reminded and
answered), ``attachments`` (the files on a few requests and comments: a sample CSV, a
screenshot, a first cut), ``notifications`` (what people were told: the latest unread),
``tokens`` (the API access tokens of the scripts the data team runs), ``webhooks`` (the
lead's endpoint and its delivery log).
"""
from datetime import timezone

from .. import sla_clocks
from ..extensions import db
from ..models import OutboxMessage, User, utcnow
from .attachments import seed_attachments
from .catalogue import seed_catalogue
from .histories import Seeder
from .notifications import seed_notifications
from .outcomes import seed_outcomes
from .teams import DEMO_PASSWORD
from .tokens import seed_tokens
from .webhooks import seed_webhooks

__all__ = ["DEMO_PASSWORD", "seed_demo"]


def seed_demo(now=None):
    """Create the demo teams, people and requests; return False if they were already there."""
    if db.session.scalars(db.select(User).where(User.email == "admin@example.com")).first():
        return False
    now = now or utcnow()
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    seeder = Seeder(now)
    seeder.run()
    db.session.flush()
    # The catalogue answers the requests just played: its assets link to them.
    seed_catalogue(now)
    # The weeks since the first follow-up was due: asked, reminded, answered (through the mail
    # the outbox holds until it is cleared below).
    seed_outcomes(now, seeder.played)
    # A few files on open requests and comments (written into place when the caller commits).
    seed_attachments(seeder.played)
    # Class and clocks of untriaged requests as of now (the seeder replays past events).
    sla_clocks.refresh_all(now)
    # What people were told meanwhile: the older notifications read, the latest not.
    seed_notifications(now)
    # The scripts the data team already runs against the REST API (their secrets unknown).
    seed_tokens(now)
    # The lead's webhook to the team chat, with its past deliveries (nothing is sent).
    seed_webhooks(now)
    # The seeder replays weeks of history: nobody is told about it by mail.
    db.session.execute(db.delete(OutboxMessage))
    return True
