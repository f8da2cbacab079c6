"""Lead-time policy (DESIGN.md, Limits): which deadlines are short notice.

A deadline closer than N business days (setting ``lead_time_business_days``) is short notice.
The cutoff is the N-th working day after today on the business-hours calendar (working
weekdays, holidays skipped); a deadline before the cutoff is short notice, one on or after it
is not. With N = 0 the cutoff is today itself, so no deadline is short notice. The flag is
stored on the request when it is submitted and recomputed when an edit changes the deadline
(from the date of the edit): it records how much notice the team was given.
"""
from . import settings


def short_notice_cutoff(today, settings_values=None, calendar=None):
    """Return the date ``lead_time_business_days`` working days after ``today``.

    ``calendar`` (a ``business_hours.BusinessHours``) defaults to the settings' business hours;
    pass one to count with holidays.
    """
    values = settings_values or settings.current()
    calendar = calendar or settings.business_hours(values)
    return calendar.working_days_after(today, values["lead_time_business_days"])


def is_short_notice(deadline, today, settings_values=None, calendar=None):
    """Tell whether ``deadline`` (a date, or None) falls before the short-notice cutoff."""
    if deadline is None:
        return False
    return deadline < short_notice_cutoff(today, settings_values, calendar)
