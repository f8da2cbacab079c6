"""The follow-up's answers (DESIGN.md, Outcomes): the one-click landing page of a mail's link,
and the full answer on the request page."""
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import Length, ValidationError

from ..models import NOT_USED_REASONS, OUTCOMES
from ..outcomes import DECISION_MAX, NOTE_MAX
from .base import DatadeskForm, options, strip

REASON_CHOICES = options([("", "Choose a reason\u2026"), *NOT_USED_REASONS.items()])


def _outcome_field():
    return RadioField("What became of the delivery?", choices=options(OUTCOMES.items()),
                      validate_choice=False)


def _reason_field():
    return SelectField("Why was it not used?", choices=REASON_CHOICES, validate_choice=False,
                       description="Only for \u201cnot used\u201d: it tells the data team what "
                                   "to change.")


class AnswerLinkForm(DatadeskForm):
    """The landing page of an answer link: the outcome (the link's preselected) and, for
    "not used", the reason."""

    outcome = _outcome_field()
    reason = _reason_field()

    def validate_outcome(self, field):
        if field.data not in OUTCOMES:
            raise ValidationError("Choose what became of the delivery.")

    def validate_reason(self, field):
        # Sent with any outcome (the select is always there without JavaScript); it counts,
        # and must be one of the list, only with "not used".
        if self.outcome.data == "not_used" and field.data not in NOT_USED_REASONS:
            raise ValidationError("Say why it was not used: it tells the team what to change.")

    def answer(self):
        """The keyword inputs of ``outcomes.record``."""
        return {"outcome": self.outcome.data,
                "reason": self.reason.data if self.outcome.data == "not_used" else None}


class OutcomeForm(AnswerLinkForm):
    """The full answer on the request page: the outcome, the decision or action taken, the
    reason when not used, a note on the value."""

    decision = TextAreaField(
        "Which decision or action was taken?", filters=[strip],
        description="Next to the decision you said it would drive, if it did.",
        validators=[Length(max=DECISION_MAX,
                           message=f"Keep the decision under {DECISION_MAX:,} characters.")])
    note = TextAreaField(
        "A note on the value (optional)", filters=[strip],
        validators=[Length(max=NOTE_MAX, message=f"Keep the note under {NOTE_MAX:,} characters.")])

    def prefill(self, follow_up):
        """Start from ``follow_up``'s latest answer (a form not posted)."""
        self.outcome.data = follow_up.outcome
        self.decision.data = follow_up.decision
        self.reason.data = follow_up.not_used_reason or ""
        self.note.data = follow_up.note
        return self

    def answer(self):
        return {**super().answer(), "decision": self.decision.data or "",
                "note": self.note.data or ""}
