"""The demo's API access tokens: what scripts the data team already runs against Datadesk, so
the tokens page is not empty on first start. Their secrets are thrown away (only hashes are
kept, as always): a newcomer makes their own token to try the API."""
from datetime import timedelta

from .. import tokens
from ..extensions import db
from ..models import User

# (owner's e-mail, name, scope, expires in days, last used this long ago, revoked days ago)
DEMO_TOKENS = (
    ("analyst@example.com", "Churn notebook", "read", 90, timedelta(hours=2), None),
    ("analyst@example.com", "Team chat bot", "write", 365, timedelta(minutes=20), None),
    ("lead@example.com", "Monday board export", "read", 365, timedelta(days=3), None),
    ("lead@example.com", "Old intake script", "write", 30, timedelta(days=41), 35),
)


def seed_tokens(now):
    """Make the demo tokens, made some weeks before ``now``."""
    for email, name, scope, days, used_ago, revoked_ago in DEMO_TOKENS:
        user = db.session.scalar(db.select(User).where(User.email == email))
        made_at = now - timedelta(days=60 if revoked_ago else 20)
        token, _ = tokens.create(user, name, scope, days, made_at)
        token.last_used_at = now - used_ago
        if revoked_ago:
            tokens.revoke(token, now - timedelta(days=revoked_ago))
