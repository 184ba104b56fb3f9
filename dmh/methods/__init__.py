"""DMH and the deep baselines, registered by name (`METHODS`, `create_method`)."""
from . import builders  # noqa: F401  (registers every method)
from .registry import METHODS, Method, create_method, label, register_method

__all__ = ["METHODS", "Method", "create_method", "label", "register_method"]
