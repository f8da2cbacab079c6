"""Blueprints: one module an area, each exporting ``bp``."""
