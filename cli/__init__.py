"""Command-line interface of suiji (随机)."""

__version__ = "0.1.0"
