"""The demo's webhook: the lead's endpoint for new and delivered requests, with a short
delivery log (each sent at once, but one whose first attempt got a 502 and whose retry a minute
later went through), so the webhooks page is not empty on first start. Nothing is sent: the
log is written as it would have been."""
from datetime import timedelta

from .. import webhooks
from ..extensions import db
from ..models import Request, User, Webhook, WebhookDelivery

DEMO_URL = "https://hooks.example.com/datadesk"
DEMO_EVENTS = ["request.created", "request.delivered"]


def seed_webhooks(now):
    """Register the lead's endpoint (made three weeks before ``now``) and its past deliveries:
    the latest requests created, each sent at once, one after a 502 and a retry."""
    lead = db.session.scalar(db.select(User).where(User.email == "lead@example.com"))
    made_at = now - timedelta(days=21)
    # Written as webhooks.create would, without its look-up of the host: no network at seed time.
    webhook = Webhook(url=DEMO_URL, description="Data team chat: new and delivered requests",
                      events=DEMO_EVENTS, secret=webhooks.new_secret(), is_active=True,
                      allow_private=False, created_by_id=lead.id, created_at=made_at,
                      updated_at=made_at, consecutive_failures=0)
    db.session.add(webhook)
    db.session.flush()
    latest = db.session.scalars(db.select(Request).order_by(Request.created_at.desc(),
                                                            Request.id.desc()).limit(4)).all()
    for number, request in enumerate(reversed(latest)):
        at = max(request.created_at, now - timedelta(days=20))
        delivery = WebhookDelivery(
            webhook_id=webhook.id, event="request.created",
            event_key=f"request:{request.id}:created", request_id=request.id,
            payload=webhooks.body("request.created", at, request, {}), status="succeeded",
            attempts=1, next_attempt_at=at, created_at=at, last_attempt_at=at,
            last_status_code=200, duration_ms=84 + 13 * number, delivered_at=at)
        if number == 1:  # the receiver was being redeployed: a 502, then the retry went
            retried = at + webhooks.retry_delay(1)
            delivery.attempts = 2
            delivery.last_attempt_at = delivery.delivered_at = retried
            delivery.last_error = None
        db.session.add(delivery)
    db.session.flush()
    return webhook
