"""The REST API blueprint (``/api/v1``) and its schemas: see views.py."""
from .views import bp, spec

__all__ = ["bp", "spec"]
