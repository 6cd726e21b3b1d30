"""What groups tell the apps above them, without knowing them.

``members_joined(group_id, user_ids)`` is sent inside the transaction that adds the members
(create, invite, an approved application); receivers run in that transaction. Chat connects its
conversation entries to it (``chat.apps``).
"""

from django.dispatch import Signal

members_joined = Signal()
