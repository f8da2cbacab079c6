"""What the demo's people were told: their notifications, read up to a few days ago.

Playing the histories told everyone concerned, as it happens in use (tickets/notifications.py
reacts to every transition and comment). A newcomer opening the demo finds the latest of them
unread under the bell, the older ones read, and one person (the demo analyst) who takes
comments and answers in a daily batch instead of one mail each. Two comments of this morning
mention the demo analyst and the demo lead, whom the histories seldom tell anything (they do
the work), so that their bells ring too.
"""
from datetime import timedelta

from .. import conversation, notifications
from ..extensions import db
from ..models import Notification, Request, User

__all__ = ["seed_notifications"]

UNREAD_DAYS = 4  # notifications of the last days stay unread
DAILY = {"analyst@example.com": ("comment", "answered")}


def seed_notifications(now):
    """Mark the demo's notifications older than UNREAD_DAYS read (when they came) and
    give the demo analyst a daily batch for some kinds."""
    db.session.execute(
        db.update(Notification)
        .where(Notification.created_at < now - timedelta(days=UNREAD_DAYS))
        .values(read_at=Notification.created_at)
        .execution_options(synchronize_session=False))
    for email, kinds in DAILY.items():
        notifications.set_modes(_user(email), {kind: "daily" for kind in kinds})
    analyst, lead = _user("analyst@example.com"), _user("lead@example.com")
    worked = db.session.scalars(
        db.select(Request).where(Request.assignee_id == analyst.id,
                                 Request.state == "in_progress")
        .order_by(Request.id)).first()
    if worked is not None:
        # Five and three hours ago, or between its last step and now when its history ended
        # later (a history can end minutes ago: the comments must come after it).
        last = max(event.created_at for event in worked.events)
        asked, answered = now - timedelta(hours=5), now - timedelta(hours=3)
        if last >= asked:
            asked, answered = last + (now - last) / 3, last + (now - last) * 2 / 3
        # Written as people write them (tickets/conversation.py resolves the mentions).
        conversation.post(
            worked, worked.requester, f"Thanks! Could you split it by region as well, "
            f"@[{analyst.name}]? The board asks for that every quarter.", asked)
        conversation.post(
            worked, analyst, f"@[{lead.name}] the region split adds about a day. Fine to keep it "
            "in this request rather than a new one?", answered)


def _user(email):
    return db.session.scalars(db.select(User).where(User.email == email)).one()
