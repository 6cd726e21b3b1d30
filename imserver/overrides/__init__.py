"""Server overrides of third-party internals (daphne, Twisted, Autobahn, asgiref, Django)."""
