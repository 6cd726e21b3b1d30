from django.urls import path

from chat.views import (
    ConversationAlertViewSet,
    ConversationViewSet,
    MessageEditForwardViewSet,
    MessageReactionViewSet,
    MessageReadersViewSet,
    MessageSearchViewSet,
    MessageViewSet,
)

urlpatterns = [
    path("chat/send", MessageViewSet.as_view({"post": "send"})),
    path("chat/history", MessageViewSet.as_view({"get": "history"})),
    path("chat/read", MessageViewSet.as_view({"post": "read"})),
    path("chat/message/recall", MessageViewSet.as_view({"post": "recall"})),
    path("chat/message/delete", MessageViewSet.as_view({"post": "delete_message"})),
    path("chat/conversation/list", ConversationViewSet.as_view({"get": "list"})),
    path("chat/conversation/delete", ConversationViewSet.as_view({"post": "delete_conversation"})),
    path("chat/conversation/pin", ConversationViewSet.as_view({"post": "pin"})),
    path("chat/message/react", MessageReactionViewSet.as_view({"post": "react"})),
    path("chat/message/unreact", MessageReactionViewSet.as_view({"post": "unreact"})),
    path("chat/message/readers", MessageReadersViewSet.as_view({"get": "readers"})),
    path("chat/conversation/mute", ConversationAlertViewSet.as_view({"post": "mute"})),
    path("chat/unread-count", ConversationAlertViewSet.as_view({"get": "unread_count"})),
    path("chat/message/edit", MessageEditForwardViewSet.as_view({"post": "edit"})),
    path("chat/message/forward", MessageEditForwardViewSet.as_view({"post": "forward"})),
    path("chat/search", MessageSearchViewSet.as_view({"get": "search"})),
]
