"""Daphne's shutdown step cancels every open connection's application, so consumers run their
cleanup (a socket leaves its push group, the registry and presence) before the process exits.

Stock ``Server.kill_all_applications`` reads ``details["application_instance"]`` of every
connection it tracks. Some are tracked without one: the HTTP request that carried a ``/ws``
upgrade (until the next ``application_checker`` round, up to a second later) and a request the
``daphne_body_limit`` override answered before any application started. A SIGTERM in that window
makes the stock step raise KeyError and end before it cancels any consumer, so presence entries
would stay until their TTL. Entries without an application are dropped first; the stock step
then runs unchanged.
"""

from typing import Any

from imserver.overrides.gate import Calls, Override

_KILL_CALLS = Calls()


def _patch() -> None:
    from daphne.server import Server

    stock = Server.kill_all_applications

    def kill_all_applications(self: Any) -> Any:
        _KILL_CALLS.count += 1
        for protocol, details in list(self.connections.items()):
            if "application_instance" not in details:
                del self.connections[protocol]
        return stock(self)

    # Daphne.run registers the bound method as a "before shutdown" trigger after this runs.
    Server.kill_all_applications = kill_all_applications


OVERRIDE = Override(
    "daphne_shutdown",
    servers=("daphne",),
    written_for={"daphne": "4.2.3"},
    needs=("daphne.server:Server.kill_all_applications",),
    patch=_patch,
    hooks={"Server.kill_all_applications": _KILL_CALLS},
)
