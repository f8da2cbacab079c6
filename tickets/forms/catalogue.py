"""The catalogue's forms: an asset (new and edit), and the asset page's actions (verify,
deprecate or reactivate, link to a request)."""
from datetime import date

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from ..catalogue import MAX_DESCRIPTION, MAX_REASON
from ..models import ASSET_KINDS, ASSET_LINK_KINDS, ASSET_STATUSES
from .base import (DatadeskForm, NumberField, OptionalDateField, int_or_none, options, required,
                   strip, version_field, web_link)


class AssetForm(DatadeskForm):
    """An asset of the catalogue as the data team describes it for the people who look for it."""

    title = StringField(
        "Title", filters=[strip],
        description="What people would look for, e.g. \u201cWeekly churn by region dashboard\u201d.",
        validators=[required("Give the asset a title."),
                    Length(max=200, message="Keep the title under 200 characters.")])
    url = StringField(
        "Link", filters=[strip], render_kw={"inputmode": "url", "placeholder": "https://"},
        description="Where it lives: the dashboard, the table's documentation, the shared file.",
        validators=[required("Give the link to the asset."),
                    Length(max=500, message="Keep the link under 500 characters."), web_link])
    kind = SelectField("Kind", choices=options(ASSET_KINDS.items()), validate_choice=False)
    team_id = SelectField("Owning team", coerce=int_or_none, validate_choice=False,
                          description="The business team it was made for and that asks about it.")
    description = TextAreaField(
        "Description", filters=[strip], render_kw={"rows": 5},
        description="What it shows, for which period, how often it is refreshed, and its caveats.",
        validators=[Length(max=MAX_DESCRIPTION,
                           message=f"Keep the description under {MAX_DESCRIPTION:,} characters.")])
    tags = StringField(
        "Tags", filters=[strip],
        description="A few words people search by, separated by commas: churn, retention, weekly.",
        validators=[Length(max=400, message="Keep the tags under 400 characters.")])
    status = SelectField("Status", choices=options(ASSET_STATUSES.items()), default="active",
                         validate_choice=False,
                         description="Deprecated assets stay findable, marked as no longer maintained.")
    last_verified_on = OptionalDateField(
        "Last verified", invalid_value_message="Enter the date as YYYY-MM-DD.",
        description="The day someone last checked it still works and shows what it says.")

    def __init__(self, *args, today=None, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or date.today()
        self.team_id.choices = options((team.id, team.name) for team in teams)

    def keep_unchanged_verified_on(self, day):
        """Accept the asset's own last-verified ``day`` sent back unchanged as it is."""
        if day and self.last_verified_on.data == day:
            self.today = max(self.today, day)

    def validate_kind(self, field):
        if field.data not in ASSET_KINDS:
            raise ValidationError("Choose what kind of asset it is.")

    def validate_team_id(self, field):
        if field.data not in {choice.value for choice in self.team_id.choices}:
            raise ValidationError("Choose one of the teams in the list.")

    def validate_status(self, field):
        if field.data not in ASSET_STATUSES:
            raise ValidationError("Choose active or deprecated.")

    def validate_last_verified_on(self, field):
        if field.data is None:
            if field.raw_data and field.raw_data[0].strip():
                return  # not a date: processing the input already said how to write one
            raise ValidationError("Give the day it was last verified (today if you just checked it).")
        if field.data > self.today:
            raise ValidationError("The last verified date cannot be in the future.")


class EditAssetForm(AssetForm):
    """An edit of an asset: the version the page showed catches a concurrent change."""

    version = version_field()


class VerifyForm(DatadeskForm):
    """"Mark verified today" on the asset page."""

    version = version_field()


class StatusForm(DatadeskForm):
    """Deprecate (with a reason) or reactivate an asset."""

    status = SelectField("Status", choices=options(ASSET_STATUSES.items()), validate_choice=False)
    reason = StringField(
        "Reason", filters=[strip],
        description="Why, and what to use instead. It is kept at the end of the description.",
        validators=[Length(max=MAX_REASON, message=f"Keep the reason under {MAX_REASON} characters.")])
    version = version_field()

    def validate_status(self, field):
        if field.data not in ASSET_STATUSES:
            raise ValidationError("Choose active or deprecated.")

    def validate_reason(self, field):
        if self.status.data == "deprecated" and not field.data:
            raise ValidationError("Say why it is deprecated, and what to use instead.")


class LinkForm(DatadeskForm):
    """Link an asset to a request it answered, by the request's number."""

    request_id = NumberField(
        "Request number", description="The number shown on the request's page, e.g. 128.",
        validators=[required("Give the number of the request it answered.")])
    how = SelectField("How it answered it", choices=options(ASSET_LINK_KINDS.items()),
                      default="linked", validate_choice=False)

    version = version_field()

    def validate_how(self, field):
        if field.data not in ASSET_LINK_KINDS:
            raise ValidationError("Choose how the asset answered the request.")
