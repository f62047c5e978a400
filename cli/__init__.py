"""Command-line interface of suiji (随机)."""

from suiji.data.version import __version__

__all__ = ["__version__"]
