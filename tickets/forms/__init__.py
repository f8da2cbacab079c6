"""The app's forms, one per screen, grouped by the area they serve; import them from their
area module (``from tickets.forms.requests import RequestForm``). Forms import the domain,
never the reverse."""
