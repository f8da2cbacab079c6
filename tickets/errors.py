"""The domain's refusals, and the one way a view runs an action: ``run_action``.

A domain function that will not do what it is asked raises a Refusal: its message is for the
person, ``field`` names the form field it concerns (None: the action as a whole), and
``status`` is the HTTP status of the page that says so (400 an input to correct, 403 not
allowed, 409 the request moved on or changed meanwhile). Domain functions flush and never
commit; the view commits once, through ``run_action``.
"""
from dataclasses import dataclass

from flask import abort, flash
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db

# What a lost race on a row says (its version changed between the read and the write).
CHANGED_MEANWHILE = ("Someone else changed this request at the same moment, and their change "
                     "came first. Nothing of yours was saved; review the request and try again.")


class Refusal(Exception):
    """An action the domain refuses; ``str(refusal)`` is the message for the person."""

    status = 400

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field
        # {field: message} for the form; empty when the refusal concerns no one field.
        self.messages = {field: message} if field else {}


class Conflict(Refusal):
    """The row changed between the page and the post (a lost race at the flush)."""

    status = 409


@dataclass(frozen=True)
class Outcome:
    """What ``run_action`` did: true when the action is done (``result`` is what the call
    returned), false when it was refused (``refusal``; ``status`` for the page that says so)."""

    result: object = None
    refusal: Refusal | None = None

    def __bool__(self):
        return self.refusal is None

    @property
    def status(self):
        return 200 if self.refusal is None else self.refusal.status


def run_action(call, *, form=None, success=None, field_of=None, commit=True):
    """Run the domain ``call`` and commit; on a refusal roll back and show it. Return an Outcome.

    On success, flash ``success``: a message, a (message, category) pair when it is not plain
    good news, or a function of the call's result giving either. A refusal not allowed (403)
    aborts. One that names fields of ``form`` shows its messages on them (``form.refuse``;
    ``field_of`` maps a refusal's field to the form's name for it); any other is flashed, as a
    warning when the request changed (409). A lost race at the commit is a Conflict saying the
    request changed meanwhile. ``commit=False`` runs a check that writes nothing.
    """
    done = attempt(call, commit=commit)
    if not done:
        _show(done.refusal, form, field_of or (lambda field: field))
        return done
    if success is not None:
        message = success(done.result) if callable(success) else success
        flash(*(message if isinstance(message, tuple) else (message, "success")))
    return done


def attempt(call, *, commit=True):
    """Run the domain ``call`` and commit; on a refusal roll back. Return an Outcome, for the
    caller to show (``run_action`` on a page, the API as a problem document). A lost race at
    the commit is a Conflict saying the request changed meanwhile."""
    try:
        result = call()
        if commit:
            db.session.commit()
    except (Refusal, StaleDataError) as error:
        db.session.rollback()
        return Outcome(refusal=error if isinstance(error, Refusal)
                       else Conflict(CHANGED_MEANWHILE))
    return Outcome(result=result)


def _show(refusal, form, field_of):
    if refusal.status == 403:
        abort(403)
    messages = {field_of(field): message for field, message in refusal.messages.items()}
    if form is not None and messages and all(name in form for name in messages):
        form.refuse(messages)
    else:
        flash(str(refusal), "warning" if refusal.status == 409 else "danger")
