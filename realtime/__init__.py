"""Real-time delivery: the ``/ws`` consumer, socket authentication, sessions, fan-out, presence."""
