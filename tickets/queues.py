"""Queues in priority order: an analyst's queue, the leads' backlog, and queue positions.

(Stub: filled in by the queue work of issue 3.)
"""


def detail_context(request, user, now):
    """Extra template values for the request page: queue position and rank override."""
    return {}
