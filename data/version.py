"""The version of suiji, recorded in audit bundles and shown by ``suiji --version``.

It lives in the base layer so that data/ (the bundle manifest) can name it
without importing an interface; ``setup.cfg`` reads it from here.
"""

__version__ = "0.1.0"
