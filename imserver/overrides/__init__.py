"""Server overrides of third-party internals (daphne, Twisted, Autobahn, asgiref, Django),
installed together by :func:`install` from the server entry point only (gate.py)."""

from imserver.overrides.gate import install, is_active, log_report, report

__all__ = ["install", "is_active", "log_report", "report"]
