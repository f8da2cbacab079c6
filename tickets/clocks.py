"""SLA clocks stored on requests: class, first response, resolution, and at-risk/due instants.

(Stub: filled in by the SLA work of issue 3.)
"""


def refresh(request, now):
    """Recompute ``request``'s stored SLA fields after a change at ``now`` (a flushed event)."""


def detail_context(request, user, now):
    """Extra template values for the request page's SLA panel."""
    return {}
