"""The one gate for the server's overrides of third-party internals.

Each override module declares an :class:`Override`: the distribution versions it was written
for (the pins of requirements.txt), the attributes it replaces or relies on, and how to put it
in place. :func:`install` installs every override whose versions and attributes are the known
ones; for any other it logs one warning and leaves the library as it is (stock behaviour).
Only the server entry point (``imserver/serve.py``) calls it: importing ``imserver.asgi``, a
``manage.py`` command or a test process in which nobody called it runs stock code throughout.

Each hook counts its calls (:class:`Calls`), so a test through a real server can tell that the
library still calls it; a worker logs the counts when it stops (:func:`log_report`).
"""

import importlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

logger = logging.getLogger("imserver.overrides")

# The modules of this package that declare an ``OVERRIDE``, in installation order.
MODULES = (
    "lanes",
    "http_handler",
    "write_through",
    "prepared_frames",
    "autobahn_quiet",
    "daphne_limits",
    "daphne_body_limit",
    "daphne_streaming",
    "daphne_shutdown",
    "uvicorn_websocket",
)


class Calls:
    """How often the library called one hook (a plain attribute: cheap on per-frame paths)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


@dataclass
class Override:
    name: str
    # Distribution name -> the exact version the hooks were checked against.
    written_for: dict[str, str]
    # "module:Attribute.path" that must exist (what is replaced, subclassed or called).
    needs: tuple[str, ...]
    # Puts the override in place; None when the composition root (imserver/asgi.py) uses it.
    patch: Callable[[], None] | None = None
    # Why it stays off although it fits (a setting), or None.
    turned_off: Callable[[], str | None] | None = None
    # The ASGI servers (``imserver.serve --server``) whose internals it changes; None: any
    # server (what it changes is asgiref's, Channels' or Django's).
    servers: tuple[str, ...] | None = None
    # The library's calls into this override, counted per hook.
    hooks: dict[str, Calls] = field(default_factory=dict)
    active: bool = False
    # Why install() left it out (the warning it logged), or None.
    left_out: str | None = None

    def mismatch(self) -> str | None:
        """Why this override does not fit the installed libraries, or None."""
        found = {}
        for distribution in self.written_for:
            try:
                found[distribution] = version(distribution)
            except PackageNotFoundError:
                found[distribution] = "not installed"
        if found != self.written_for:
            return f"written for {_versions(self.written_for)}, found {_versions(found)}"
        for need in self.needs:
            if not _exists(need):
                return f"{need} is missing"
        return None


def _versions(versions: dict[str, str]) -> str:
    return ", ".join(f"{name} {number}" for name, number in versions.items())


def _exists(need: str) -> bool:
    module_name, _, path = need.partition(":")
    try:
        target = importlib.import_module(module_name)
    except ImportError:
        return False
    for attribute in filter(None, path.split(".")):
        if not hasattr(target, attribute):
            return False
        target = getattr(target, attribute)
    return True


def overrides() -> list[Override]:
    return [importlib.import_module(f"{__package__}.{name}").OVERRIDE for name in MODULES]


# The server install() was called for; report() shows the overrides of that server.
_installed_for = "daphne"


def _for_this_server(override: Override) -> bool:
    return override.servers is None or _installed_for in override.servers


def install(server: str = "daphne") -> dict[str, bool]:
    """Install every override for ``server`` that fits; returns which are active. Idempotent:
    an override is checked (and a mismatch logged) once per process. An override of another
    server's internals is left out without a word, and its library is not even imported."""
    global _installed_for
    _installed_for = server
    for override in overrides():
        if override.active or override.left_out is not None:
            continue
        if override.servers is not None and server not in override.servers:
            override.left_out = f"for {', '.join(override.servers)} only"
            continue
        override.left_out = override.mismatch()
        if override.left_out is not None:
            logger.warning(
                "server override %s not installed (stock behaviour): %s",
                override.name,
                override.left_out,
            )
            continue
        override.left_out = override.turned_off() if override.turned_off else None
        if override.left_out is not None:
            logger.info("server override %s turned off by %s", override.name, override.left_out)
            continue
        if override.patch is not None:
            override.patch()
        override.active = True
    on = [name for name, is_on in active().items() if is_on]
    logger.info("server overrides active: %s", ", ".join(on) or "none")
    return active()


def active() -> dict[str, bool]:
    """The overrides of the server installed for (daphne unless install() said otherwise)."""
    return {
        override.name: override.active for override in overrides() if _for_this_server(override)
    }


def is_active(name: str) -> bool:
    """Whether :func:`install` put the override ``name`` (a module of this package) in place."""
    override: Override = importlib.import_module(f"{__package__}.{name}").OVERRIDE
    return override.active


def report() -> dict[str, dict[str, object]]:
    """``{"write_through": {"active": true, "calls": {"Connection.write": 12}}, ...}``."""
    return {
        override.name: {
            "active": override.active,
            "calls": {hook: calls.count for hook, calls in override.hooks.items()},
        }
        for override in overrides()
        if _for_this_server(override)
    }


def log_report() -> None:
    logger.info("server overrides: %s", json.dumps(report(), sort_keys=True))
