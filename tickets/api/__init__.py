"""The REST API blueprint (``/api/v1``) and its schemas: views.py holds the blueprint, its
authentication and the requests; catalogue.py and work.py the other areas."""
from . import catalogue, work
from .views import bp, spec

__all__ = ["bp", "catalogue", "spec", "work"]
