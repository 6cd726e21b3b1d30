from django.apps import AppConfig
from django.conf import settings


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from chat import frames
        from chat.services import conversation_members_joined
        from groups.signals import members_joined
        from realtime.frames import register_frame

        members_joined.connect(conversation_members_joined, dispatch_uid="chat.members_joined")

        register_frame("message", frames.on_message, batch=frames.on_messages)
        register_frame("read", frames.on_read)
        register_frame("typing", frames.on_typing, per_second=lambda: settings.IM_WS_TYPING_PER_S)
