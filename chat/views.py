"""Section 8 endpoints: validate, call one service or selector, return data."""

from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from chat import selectors, services
from chat.presenters import message_data
from chat.serializers import (
    ConversationDeleteSerializer,
    ConversationPinSerializer,
    ConversationTargetSerializer,
    HistoryQuerySerializer,
    MessageIdSerializer,
    SendMessageInputSerializer,
)
from imserver.api.validation import validated


class MessageViewSet(viewsets.ViewSet):
    def send(self, request: Request) -> Response:
        data = validated(SendMessageInputSerializer, request.data)
        return Response(message_data(services.message_send(sender=request.user, **data)))

    def history(self, request: Request) -> Response:
        params = validated(HistoryQuerySerializer, request.query_params)
        messages, has_more = selectors.message_history(user=request.user, **params)
        return Response(
            {"hasMore": has_more, "messages": [message_data(message) for message in messages]}
        )

    def read(self, request: Request) -> Response:
        data = validated(ConversationTargetSerializer, request.data)
        return Response({"read_seq": services.conversation_read(user=request.user, **data)})

    def recall(self, request: Request) -> Response:
        data = validated(MessageIdSerializer, request.data)
        return Response(message_data(services.message_recall(user=request.user, **data)))

    def delete_message(self, request: Request) -> Response:
        data = validated(MessageIdSerializer, request.data)
        services.message_delete_for_me(user=request.user, **data)
        return Response({"message_id": data["message_id"]})


class ConversationViewSet(viewsets.ViewSet):
    def list(self, request: Request) -> Response:
        return Response(selectors.conversation_list_for_user(user=request.user))

    def delete_conversation(self, request: Request) -> Response:
        data = validated(ConversationDeleteSerializer, request.data)
        services.conversation_delete(user=request.user, **data)
        return Response(None)

    def pin(self, request: Request) -> Response:
        data = validated(ConversationPinSerializer, request.data)
        entry = services.conversation_pin(user=request.user, **data)
        return Response({"conversation_id": entry.pk, "is_pinned": entry.is_pinned})
