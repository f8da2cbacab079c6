"""The /settings form: WIP and lead-time policy, business hours, SLA targets, holidays, the
digest, outcomes (follow-up days, the reminder, the track record in the score), and per install
one budget field per team and one WIP field per analyst."""
import re
from datetime import date, time

from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional, StopValidation, ValidationError

from ..models import KINDS, SLA_CLASSES
from ..settings import (ATTACHMENT_MB_RANGE, AUTO_RESOLVE_RANGE, BUDGET_RANGE, FOLLOW_UP_DAYS_RANGE, HOLIDAY_YEARS,
                        LEAD_TIME_RANGE, MAX_HOLIDAYS, OLDEST_FIRST_RANGE, PRIORITY_RANGES,
                        REMINDER_DAYS_RANGE, SLA_HOURS_RANGE,
                        WEEKDAY_NAMES, WIP_LIMIT_RANGE, SettingError, attachment_types,
                        timezones, working_day_error)
from .base import DatadeskForm, NumberField, int_or_none, number_in, options, strip

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WEEKDAY_CHOICES = list(enumerate(WEEKDAY_NAMES))


def if_posted(form, field):
    """Judge the field only when the page sent it (a page older than the field leaves its
    setting alone)."""
    if not field.raw_data:
        field.errors = []
        raise StopValidation()


def sla_hours(form, field):
    """Require a number of business hours in SLA_HOURS_RANGE."""
    low, high = SLA_HOURS_RANGE
    if field.data is None or not low <= field.data <= high:
        raise ValidationError(f"Enter a number of hours from {low} to {high}.")


def _sla_fields(sla_class):
    label = sla_class.capitalize()
    return (NumberField(f"{label}: first response (business hours)", whole=False,
                        validators=[sla_hours]),
            NumberField(f"{label}: resolution (business hours)", whole=False,
                        validators=[sla_hours]))


def _follow_up_field(kind):
    low, high = FOLLOW_UP_DAYS_RANGE
    return NumberField(
        f"{KINDS[kind][0]} requests", validators=[number_in(
            low, high, f"Enter the business days before the follow-up: a whole number from {low} to "
                       f"{high}.")])


def _priority_field(key, label, description, what):
    low, high = PRIORITY_RANGES[key]
    return NumberField(label, whole=False, description=description, validators=[
        if_posted, number_in(low, high, f"Enter {what} from {low} to {high}.")])


def oldest_first_days(form, field):
    """Require 0 (the rule off) or a whole number of working days in OLDEST_FIRST_RANGE."""
    low, high = OLDEST_FIRST_RANGE
    if field.data is None or not (field.data == 0 or low <= field.data <= high):
        raise ValidationError(f"Enter 0 to switch the rule off, or a whole number of working "
                              f"days from {low} to {high}.")


class SettingsForm(DatadeskForm):
    """The /settings page: WIP and lead-time policy, business hours, SLA targets, and (added
    per install by ``for_people``) one budget field per team and one WIP field per analyst."""

    wip_limit_default = NumberField(
        "Default WIP limit", description="Requests an analyst may have in progress or blocked.",
        validators=[number_in(*WIP_LIMIT_RANGE, "Enter a whole number from 1 to 50.")])
    lead_time_business_days = NumberField(
        "Lead time (business days)",
        description="A deadline closer than this marks a request short-notice.",
        validators=[number_in(*LEAD_TIME_RANGE, "Enter a whole number of days from 0 to 60.")])
    timezone = SelectField("Timezone", validate_choice=False)
    working_days = SelectMultipleField("Working days", coerce=int_or_none,
                                       choices=options(WEEKDAY_CHOICES), validate_choice=False)
    work_start = StringField("Day starts", filters=[strip], render_kw={"type": "time"})
    work_end = StringField("Day ends", filters=[strip], render_kw={"type": "time"})
    sla_high_first_response, sla_high_resolution = _sla_fields("high")
    sla_standard_first_response, sla_standard_resolution = _sla_fields("standard")
    sla_low_first_response, sla_low_resolution = _sla_fields("low")
    holidays = TextAreaField(
        "Holidays", filters=[strip], render_kw={"rows": 6},
        description="One date per line, written YYYY-MM-DD (e.g. 2026-12-25). SLA clocks and "
                    "the lead time skip them.")
    digest_weekday = SelectField(
        "Weekly digest day", coerce=int_or_none, choices=options(WEEKDAY_CHOICES),
        validate_choice=False, description="Each person may choose another day in their mail "
                                           "preferences.")
    digest_time = StringField("Weekly digest time", filters=[strip], render_kw={"type": "time"},
                              description="In the timezone above.")
    auto_resolve_days = NumberField(
        "Auto-resolve after (days)",
        description="A delivery nobody confirms or reopens is resolved after this many days.",
        validators=[number_in(*AUTO_RESOLVE_RANGE, "Enter a whole number of days from 1 to 365.")])
    # Outcomes: business days after resolution before the requester is asked, per kind.
    follow_up_days_ad_hoc = _follow_up_field("ad_hoc")
    follow_up_days_project = _follow_up_field("project")
    follow_up_days_data_issue = _follow_up_field("data_issue")
    follow_up_reminder_days = NumberField(
        "Reminder after (days)",
        description="One reminder this many days after the question, then it stops.",
        validators=[number_in(*REMINDER_DAYS_RANGE, "Enter a whole number of days from "
                                                    f"{REMINDER_DAYS_RANGE[0]} to "
                                                    f"{REMINDER_DAYS_RANGE[1]}.")])
    track_record_in_priority = BooleanField(
        "Weigh the team's track record in the priority score",
        description="A team that used little of what it asked for lately gets a lower score "
                    "(down to half the points of impact, urgency and sponsor); every score it "
                    "changes says so, and triage shows the track record either way.")

    attachment_max_mb = NumberField(
        "Largest file (MB)",
        description="Each attached file may be at most this large.",
        validators=[if_posted, number_in(*ATTACHMENT_MB_RANGE,
                              f"Enter a whole number of MB from {ATTACHMENT_MB_RANGE[0]} to "
                              f"{ATTACHMENT_MB_RANGE[1]}.")])
    attachment_types = StringField(
        "File types allowed", filters=[strip],
        description="Extensions separated by commas, e.g. csv, xlsx, pdf, png. Web pages, "
                    "scripts and programs are never allowed.")

    # Priority: the weights of the score and the oldest-first rule (priority.Weights).
    priority_impact_weight = _priority_field(
        "priority_impact_weight", "Impact weight",
        "Multiplies the impact points (1 keeps them as they are).", "a weight")
    priority_urgency_weight = _priority_field(
        "priority_urgency_weight", "Urgency weight",
        "Multiplies the deadline's urgency points.", "a weight")
    priority_sponsor_points = _priority_field(
        "priority_sponsor_points", "Sponsor points",
        "Points an executive sponsor adds to the cost of delay.", "points")
    priority_ageing_per_day = _priority_field(
        "priority_ageing_per_day", "Ageing per day",
        "Points added for each full day a request has waited.", "points")
    priority_ageing_cap = _priority_field(
        "priority_ageing_cap", "Ageing cap", "The most ageing can add.", "points")
    priority_oldest_first_after = NumberField(
        "Oldest first after (working days)",
        description="A request waiting this many working days goes ahead of every scored one, "
                    "oldest first: no request waits much longer to start. 0 switches it off.",
        validators=[if_posted, oldest_first_days])

    PRIORITY_KEYS = ("priority_impact_weight", "priority_urgency_weight",
                     "priority_sponsor_points", "priority_ageing_per_day", "priority_ageing_cap",
                     "priority_oldest_first_after")
    SLA_CLASSES = tuple(SLA_CLASSES)  # the settings page has a row of targets per class
    FOLLOW_UP_KINDS = tuple(KINDS)  # ... and a follow-up field per kind

    @classmethod
    def for_people(cls, teams, analysts):
        """A form class with a budget field per team and a WIP field per analyst or lead."""
        fields = {}
        for team in teams:
            fields[f"budget_{team.id}"] = NumberField(
                f"{team.name}: weekly ad-hoc budget", validators=[Optional(), number_in(
                    *BUDGET_RANGE, "Enter a whole number from 0 to 1000, or leave it blank for "
                                   "no limit.")])
        for analyst in analysts:
            fields[f"wip_{analyst.id}"] = NumberField(
                f"{analyst.name}: WIP limit", validators=[Optional(), number_in(
                    *WIP_LIMIT_RANGE, "Enter a whole number from 1 to 50, or leave it blank "
                                      "for the default.")])
        return type("PeopleSettingsForm", (cls,), fields)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = options((name, name) for name in timezones())
        self.holiday_dates = []
        self.attachment_type_list = []

    def validate_holidays(self, field):
        """One date per line; blank lines are skipped, repeats and order do not matter."""
        days = set()
        for number, line in enumerate((field.data or "").splitlines(), 1):
            text = line.strip()
            if not text:
                continue
            shown = text if len(text) <= 30 else text[:30] + "\u2026"
            if not _ISO_DATE.match(text):
                raise ValidationError(f"Line {number}: \u201c{shown}\u201d is not written "
                                      "YYYY-MM-DD (e.g. 2026-12-25).")
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValidationError(f"Line {number}: {text} is not a real date.") from None
            if day.year not in HOLIDAY_YEARS:
                raise ValidationError(f"Line {number}: {text} is out of range; use a year from "
                                      f"{HOLIDAY_YEARS.start} to {HOLIDAY_YEARS.stop - 1}.")
            days.add(day)
        if len(days) > MAX_HOLIDAYS:
            raise ValidationError(f"That is {len(days)} dates; keep at most {MAX_HOLIDAYS} "
                                  "(remove past years).")
        self.holiday_dates = sorted(days)

    def validate_attachment_types(self, field):
        if not field.raw_data:
            return  # not sent: the setting stays
        try:
            self.attachment_type_list = attachment_types(
                "attachment_types", [part for part in re.split(r"[\s,;]+", field.data or "")
                                     if part])
        except SettingError as error:
            raise ValidationError(str(error)) from None

    def validate_timezone(self, field):
        if field.data not in timezones():
            raise ValidationError("Choose a timezone from the list.")

    def validate_working_days(self, field):
        days = field.data or []
        if any(day not in range(7) for day in days):
            raise ValidationError("Choose working days from the list.")
        if not days:
            raise ValidationError("Choose at least one working day.")

    def _clock(self, field):
        try:
            parsed = time.fromisoformat(field.data or "")
        except ValueError:
            parsed = None
        if parsed is None or len(field.data) != 5 or field.data[2] != ":":
            raise ValidationError("Enter a time of day as HH:MM, e.g. 09:00.")
        return parsed

    def validate_work_start(self, field):
        self._clock(field)

    def validate_digest_time(self, field):
        self._clock(field)

    def validate_digest_weekday(self, field):
        if field.data not in range(7):
            raise ValidationError("Choose a day of the week.")

    def validate_work_end(self, field):
        self._clock(field)
        if self.work_start.errors:
            return  # the start field says what is wrong with it
        problem = working_day_error(self.work_start.data, field.data)
        if problem:
            raise ValidationError(problem)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        for sla_class in self.SLA_CLASSES:
            first = self[f"sla_{sla_class}_first_response"]
            resolution = self[f"sla_{sla_class}_resolution"]
            if (not first.errors and not resolution.errors
                    and resolution.data <= first.data):
                resolution.errors.append("Resolution must take longer than the first response.")
                valid = False
        return valid

    def priority_weights(self):
        """The priority settings the page sent ({key: value}); a page without them sends none."""
        return {key: self[key].data for key in self.PRIORITY_KEYS if self[key].raw_data}

    def follow_up_business_days(self):
        """The follow-up days per kind as the settings store them."""
        return {kind: self[f"follow_up_days_{kind}"].data for kind in self.FOLLOW_UP_KINDS}

    def sla_targets(self):
        """The SLA targets as the settings store them."""
        return {sla_class: {"first_response_hours": self[f"sla_{sla_class}_first_response"].data,
                            "resolution_hours": self[f"sla_{sla_class}_resolution"].data}
                for sla_class in self.SLA_CLASSES}

    @staticmethod
    def initial(values, teams, analysts):
        """The form's data from the settings as they are, to fill the page."""
        data = {key: values[key] for key in ("wip_limit_default", "lead_time_business_days",
                                             "timezone", "working_days", "work_start",
                                             "work_end", "digest_weekday", "digest_time",
                                             "auto_resolve_days", "follow_up_reminder_days",
                                             "track_record_in_priority",
                                             "attachment_max_mb", *SettingsForm.PRIORITY_KEYS)}
        data["attachment_types"] = ", ".join(values["attachment_types"])
        for kind, days in values["follow_up_business_days"].items():
            data[f"follow_up_days_{kind}"] = days
        for sla_class, target in values["sla_targets"].items():
            data[f"sla_{sla_class}_first_response"] = target["first_response_hours"]
            data[f"sla_{sla_class}_resolution"] = target["resolution_hours"]
        data["holidays"] = "\n".join(values["holidays"])
        data.update({f"budget_{team.id}": team.weekly_ad_hoc_budget for team in teams})
        data.update({f"wip_{analyst.id}": analyst.wip_limit for analyst in analysts})
        return data
