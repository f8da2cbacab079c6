"""The forms of webhooks: an endpoint (add or edit) and the buttons of the endpoint page."""
from wtforms import BooleanField, SelectMultipleField, StringField, ValidationError
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..errors import Refusal
from ..webhooks import DESCRIPTION_LENGTH, EVENTS, URL_LENGTH, split_url
from .base import DatadeskForm, options, required, strip, version_field


class WebhookForm(DatadeskForm):
    """An endpoint: its URL, a description, the events it receives and (an admin's choice
    only) whether it may call private addresses. The domain checks the URL's addresses."""

    url = StringField("Payload URL", filters=[strip],
                      description="Where Datadesk POSTs each event as JSON, e.g. "
                                  "https://hooks.example.com/datadesk.",
                      validators=[required("Enter the URL of the endpoint."),
                                  Length(max=URL_LENGTH, message=f"Keep the URL under "
                                                                 f"{URL_LENGTH} characters.")])
    description = StringField("Description", filters=[strip],
                              description="What receives it: \u201cData team chat\u201d.",
                              validators=[Length(max=DESCRIPTION_LENGTH, message=(
                                  f"Keep it under {DESCRIPTION_LENGTH} characters."))])
    events = SelectMultipleField("Events", choices=options(EVENTS.items()),
                                 validate_choice=False, widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())
    allow_private = BooleanField(
        "Allow private and loopback addresses",
        description="Only for a receiver inside your network that you trust: Datadesk "
                    "otherwise refuses them, so an endpoint cannot reach internal services.")

    def validate_url(self, field):
        # The URL's form at once, beside the other fields' errors; its addresses are the
        # domain's to judge (they depend on who may allow private ones).
        try:
            split_url(field.data)
        except Refusal as refusal:
            raise ValidationError(str(refusal)) from None

    def validate_events(self, field):
        if not field.data:
            raise ValidationError("Choose at least one event.")
        if any(name not in EVENTS for name in field.data):
            raise ValidationError("Choose events from the list.")


class EditWebhookForm(WebhookForm):
    """An endpoint's changes, with the version the page showed (a concurrent change is 409)."""

    version = version_field()


class WebhookActionForm(DatadeskForm):
    """A button of the endpoint page (pause, resume, roll the secret, delete, test, send
    again): the CSRF token only."""
