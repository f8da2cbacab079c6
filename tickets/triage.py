"""Triage: routing new requests, the triage queue, waitlisting and releasing ad-hoc work.

(Stub: filled in by the triage work of issue 3.)
"""


def detail_context(request, user, now):
    """Extra template values for the request page: triage extras (change kind)."""
    return {}
