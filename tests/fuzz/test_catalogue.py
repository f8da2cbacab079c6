"""The fuzz catalogue is complete: a new form, field or transition cannot escape the fuzzer."""
import importlib
import pkgutil

from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from tickets import forms, lifecycle
from tickets.forms.account import NewPasswordForm
from tickets.forms.base import DatadeskForm
from tickets.forms.imports import MappingForm
from tickets.forms.reports import WhatIfForm
from tickets.forms.transitions import TRANSITION_FORMS, NoteTransitionForm, TransitionForm
from tickets.forms.webhooks import WebhookActionForm

from .catalogue import EXCLUDED, FORMS


def post_rules(app):
    """(endpoint, rule) of every route of the app that takes a POST."""
    return {(rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()
            if "POST" in rule.methods}


def declared_fields(form_class):
    """The names of the fields a form class declares (its subclasses' fields included)."""
    return {name for name in dir(form_class)
            if isinstance(getattr(form_class, name, None), UnboundField)}


def test_every_post_route_is_fuzzed_or_excluded_with_a_reason(app):
    fuzzed = {(form.endpoint, form.rule) for form in FORMS}
    assert post_rules(app) - fuzzed - set(EXCLUDED) == set()
    assert all(EXCLUDED.values())


def test_the_catalogue_names_only_routes_that_exist(app):
    fuzzed = {(form.endpoint, form.rule) for form in FORMS}
    assert fuzzed | set(EXCLUDED) <= post_rules(app)


def test_every_transition_form_is_fuzzed_with_the_roles_the_lifecycle_allows():
    fuzzed = {form.name: form for form in FORMS if form.endpoint == "requests.act"}
    assert set(fuzzed) == {f"act_{name}" for name in TRANSITION_FORMS}
    players = {"team_analyst": "analyst", "assignee": "analyst", "lead": "lead",
               "requester": "requester"}
    for name in TRANSITION_FORMS:
        actors = lifecycle.TRANSITIONS[name].actors
        assert set(fuzzed[f"act_{name}"].roles) == {players[actor] for actor in actors}, name


def test_every_field_of_every_form_class_is_fuzzed(app, make):
    from .world import Context, build_world

    context = Context(app, make, build_world(make))
    for form in FORMS:
        if form.form_class is None:
            continue
        posted = {field.name for field in form.fields_for(context) if not field.in_path}
        declared = declared_fields(form.form_class) - {"csrf_token"}
        assert declared <= posted, f"{form.name}: {sorted(declared - posted)} not fuzzed"
        extra = {name for name in posted - declared
                 if not (form.dynamic_fields and name.startswith(form.dynamic_fields))}
        assert extra <= {"next", "version"}, f"{form.name}: {sorted(extra)} not in the form"


def form_classes():
    """Every form class of the modules of tickets/forms."""
    found = set()
    for module in pkgutil.iter_modules(forms.__path__):
        names = vars(importlib.import_module(f"{forms.__name__}.{module.name}"))
        found |= {value for value in names.values() if isinstance(value, type)
                  and issubclass(value, FlaskForm) and value is not FlaskForm}
    return found


def test_every_form_class_of_the_app_is_in_the_catalogue():
    """A form class nobody fuzzes is a form nobody checked (the base classes excepted; the
    what-if of the forecast: sent by GET, it changes nothing, test_forecast.py and
    test_bad_input.py check its inputs; the import's mapping, whose fields are the uploaded
    file's columns, which test_imports.py posts wrong; and the webhook page's buttons, which
    carry only the CSRF token: their routes are EXCLUDED)."""
    bases = {DatadeskForm, TransitionForm, NoteTransitionForm, NewPasswordForm}
    fuzzed = {form.form_class for form in FORMS}
    unfuzzed = {WhatIfForm, MappingForm, WebhookActionForm}
    assert form_classes() - bases - unfuzzed - fuzzed == set()
