from django.urls import path

from chat.views import ConversationViewSet, MessageViewSet

urlpatterns = [
    path("chat/send", MessageViewSet.as_view({"post": "send"})),
    path("chat/history", MessageViewSet.as_view({"get": "history"})),
    path("chat/read", MessageViewSet.as_view({"post": "read"})),
    path("chat/message/recall", MessageViewSet.as_view({"post": "recall"})),
    path("chat/message/delete", MessageViewSet.as_view({"post": "delete_message"})),
    path("chat/conversation/list", ConversationViewSet.as_view({"get": "list"})),
    path("chat/conversation/delete", ConversationViewSet.as_view({"post": "delete_conversation"})),
    path("chat/conversation/pin", ConversationViewSet.as_view({"post": "pin"})),
]
