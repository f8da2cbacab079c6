"""What one domain rule announces so that others react to it without importing it back.

``request_transitioned``
    Sent by ``lifecycle.transition`` once a transition and its event are flushed, with the
    request as sender and ``event`` and ``now``. Receivers: ``sla_clocks`` refreshes the
    request's clocks, ``notifications`` queues the mail the transition calls for, ``budget``
    releases the team's next waitlisted request when the transition gave a place back,
    ``outcomes`` schedules the follow-up of a resolution, ``webhooks`` queues
    "request.state_changed" (and "request.delivered" for the deliver transition). A
    requester's reply (the ``answer`` transition, ``conversation.reply``) may mention people:
    its event's ``data["mentions"]`` lists them (``lifecycle.mention_records``: id, name,
    e-mail), as a comment's does.
``comment_added``
    Sent by ``intake.add_comment`` once a comment's event is flushed, with the request as
    sender and ``event``, ``mentioned`` (the users the comment mentions, who may all see the
    request) and ``now``. Receivers: ``notifications`` tells the people concerned,
    ``webhooks`` queues "request.commented".
``request_created``
    Sent by ``intake.submit_request`` once a new request and its 'created' event are flushed,
    with the request as sender and ``now``. Receiver: ``webhooks`` queues "request.created".
``follow_up_answered``
    Sent by ``outcomes.record`` once an answer to a follow-up and its 'outcome' event are
    flushed, with the request as sender and ``event``, ``follow_up`` and ``now``. Receiver:
    ``webhooks`` queues "follow_up.answered".
``attachments_added``
    Sent by ``attachments.attach`` once new files' rows are flushed, with the request as
    sender and ``event`` (the creation, comment or "attached" event that brought them),
    ``attachments`` and ``now``. No receiver yet: notifications may tell watchers.
``settings_changed``
    Sent by ``settings.update`` after the changes are flushed, with ``keys`` (the settings that
    changed), ``values`` (all settings, new) and ``now``. Receiver: ``sla_clocks`` recomputes
    every open request's clocks when a key moves them.
``team_budget_changed``
    Sent by ``settings.set_team_budget`` after a team's weekly ad-hoc budget changed and was
    flushed, with the team as sender and ``old``, ``new`` (None: no limit) and ``now``.
    Receiver: ``budget`` releases the team's waitlist at once, as far as the new budget goes,
    and returns the requests it released.

Receivers run in the sender's transaction, one after the other in no set order, so none may
depend on another having run; an exception propagates to the sender's caller, which rolls
back. A receiver connects when its module is imported: the ``tickets`` package imports them
all, so they are connected wherever the domain runs (the app, a command, a test).
"""
from blinker import Namespace

_signals = Namespace()

request_transitioned = _signals.signal(
    "request-transitioned", doc="A request moved by a transition (sender: the request).")
comment_added = _signals.signal(
    "comment-added", doc="A comment was added (sender: the request; event, mentioned, now).")
attachments_added = _signals.signal(
    "attachments-added", doc="Files were attached (sender: the request; event, attachments, now).")
settings_changed = _signals.signal(
    "settings-changed", doc="Settings were changed (keys, values, now).")
team_budget_changed = _signals.signal(
    "team-budget-changed", doc="A team's weekly ad-hoc budget changed (sender: the team; "
                               "old, new, now).")
request_created = _signals.signal(
    "request-created", doc="A request was submitted (sender: the request; now).")
follow_up_answered = _signals.signal(
    "follow-up-answered", doc="A follow-up was answered (sender: the request; event, "
                              "follow_up, now).")
