"""A tiny greeting service."""

from .greeting import greet

__all__ = ["greet"]
