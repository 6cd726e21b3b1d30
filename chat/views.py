"""Section 8 endpoints: validate, call one service or selector, return data."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from accounts.authentication import AuthenticatedRequest
from chat import selectors, services
from chat.openapi import (
    ChatMessageSerializer,
    ConversationEntrySerializer,
    ConversationMuteResultSerializer,
    HistorySerializer,
    MessageDeletedSerializer,
    MessageReadersSerializer,
    MessageSearchSerializer,
    PinResultSerializer,
    ReactionSummarySerializer,
    ReadResultSerializer,
    UnreadBadgeSerializer,
)
from chat.presenters import message_data
from chat.serializers import (
    ConversationDeleteSerializer,
    ConversationMuteSerializer,
    ConversationPinSerializer,
    ConversationTargetSerializer,
    HistoryQuerySerializer,
    MessageEditInputSerializer,
    MessageForwardInputSerializer,
    MessageIdSerializer,
    MessageSearchQuerySerializer,
    ReactionInputSerializer,
    SendMessageInputSerializer,
    send_input,
)
from imserver import metrics
from imserver.api.schema import responses
from imserver.api.throttling import messages_by_user
from imserver.api.validation import validated


class MessageViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="8.1 Send a message (documented or alternate form; `client_msg_id` deduplicates)",
        request=SendMessageInputSerializer,
        responses=responses(ChatMessageSerializer, 403, 404),
    )
    def send(self, request: AuthenticatedRequest) -> Response:
        data = send_input(request.data)
        # Every well-formed send counts, also one refused later or a retry; a refused one
        # stores nothing.
        messages_by_user.hit(request.user.pk)
        message = services.message_send(sender=request.user, **data)
        metrics.message_sent("rest", message.chat_type)
        return Response(message_data(message))

    @extend_schema(
        summary="8.2 History, ascending seq (`before_seq` older page, `after_seq` catch-up)",
        parameters=[HistoryQuerySerializer],
        responses=responses(HistorySerializer, 403, 404),
    )
    def history(self, request: AuthenticatedRequest) -> Response:
        params = validated(HistoryQuerySerializer, request.query_params)
        messages, has_more = selectors.message_history(user=request.user, **params)
        return Response(
            {"hasMore": has_more, "messages": [message_data(message) for message in messages]}
        )

    @extend_schema(
        summary="8.3 Mark a conversation read",
        request=ConversationTargetSerializer,
        responses=responses(ReadResultSerializer, 403, 404),
    )
    def read(self, request: AuthenticatedRequest) -> Response:
        data = validated(ConversationTargetSerializer, request.data)
        return Response({"read_seq": services.conversation_read(user=request.user, **data)})

    @extend_schema(
        summary="8.4 Recall a message (sender within the window, or a group owner/admin)",
        request=MessageIdSerializer,
        responses=responses(ChatMessageSerializer, 403, 404),
    )
    def recall(self, request: AuthenticatedRequest) -> Response:
        data = validated(MessageIdSerializer, request.data)
        return Response(message_data(services.message_recall(user=request.user, **data)))

    @extend_schema(
        summary="8.5 Delete a message for me",
        request=MessageIdSerializer,
        responses=responses(MessageDeletedSerializer, 404),
    )
    def delete_message(self, request: AuthenticatedRequest) -> Response:
        data = validated(MessageIdSerializer, request.data)
        services.message_delete_for_me(user=request.user, **data)
        return Response({"message_id": data["message_id"]})


class ConversationViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="8.6 My conversations: pinned first, then by last message time",
        responses=responses(ConversationEntrySerializer(many=True)),
    )
    def list(self, request: AuthenticatedRequest) -> Response:
        return Response(selectors.conversation_list_for_user(user=request.user))

    @extend_schema(
        summary="8.7 Delete a conversation for me (clears my history up to now)",
        request=ConversationDeleteSerializer,
        responses=responses(
            {"type": "object", "nullable": True, "description": "always null"}, 404
        ),
    )
    def delete_conversation(self, request: AuthenticatedRequest) -> Response:
        data = validated(ConversationDeleteSerializer, request.data)
        services.conversation_delete(user=request.user, **data)
        return Response(None)

    @extend_schema(
        summary="8.8 Pin or unpin a conversation",
        request=ConversationPinSerializer,
        responses=responses(PinResultSerializer, 403, 404),
    )
    def pin(self, request: AuthenticatedRequest) -> Response:
        data = validated(ConversationPinSerializer, request.data)
        entry = services.conversation_pin(user=request.user, **data)
        return Response({"conversation_id": entry.pk, "is_pinned": entry.is_pinned})


# --- Reactions (CONTRACT 10) ------------------------------------------------------------------
class MessageReactionViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="React to a message I see in history (again with the same emoji: no change)",
        request=ReactionInputSerializer,
        responses=responses(ReactionSummarySerializer(many=True), 403, 404),
    )
    def react(self, request: AuthenticatedRequest) -> Response:
        data = validated(ReactionInputSerializer, request.data)
        return Response(services.message_react(user=request.user, **data))

    @extend_schema(
        summary="Take back my reaction (one I have not given: no change)",
        request=ReactionInputSerializer,
        responses=responses(ReactionSummarySerializer(many=True), 403, 404),
    )
    def unreact(self, request: AuthenticatedRequest) -> Response:
        data = validated(ReactionInputSerializer, request.data)
        return Response(services.message_unreact(user=request.user, **data))


# --- Read receipts, mute, badge (CONTRACT 10) -------------------------------------------------
class MessageReadersViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="Who of the group read a group message (its sender, the owner and admins)",
        parameters=[MessageIdSerializer],
        responses=responses(MessageReadersSerializer, 403, 404),
    )
    def readers(self, request: AuthenticatedRequest) -> Response:
        params = validated(MessageIdSerializer, request.query_params)
        return Response(selectors.message_readers(user=request.user, **params))


class ConversationAlertViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="The badge: unread of unmuted and of muted conversations, and mentions of me",
        responses=responses(UnreadBadgeSerializer),
    )
    def unread_count(self, request: AuthenticatedRequest) -> Response:
        return Response(selectors.unread_badge(user=request.user))

    @extend_schema(
        summary="Mute or unmute a conversation (do not disturb; delivery does not change)",
        request=ConversationMuteSerializer,
        responses=responses(ConversationMuteResultSerializer, 403, 404),
    )
    def mute(self, request: AuthenticatedRequest) -> Response:
        data = validated(ConversationMuteSerializer, request.data)
        entry = services.conversation_mute(user=request.user, **data)
        return Response({"conversation_id": entry.pk, "is_muted": entry.is_muted})


# --- Edit and forward (CONTRACT 10) -----------------------------------------------------------
class MessageEditForwardViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="Edit the text of my message (within the edit window; `edit` push)",
        request=MessageEditInputSerializer,
        responses=responses(ChatMessageSerializer, 403, 404),
    )
    def edit(self, request: AuthenticatedRequest) -> Response:
        data = validated(MessageEditInputSerializer, request.data)
        return Response(message_data(services.message_edit(user=request.user, **data)))

    @extend_schema(
        summary="Forward a message I can see to a user or group (a send: same rules and push)",
        request=MessageForwardInputSerializer,
        responses=responses(ChatMessageSerializer, 403, 404, 409),
    )
    def forward(self, request: AuthenticatedRequest) -> Response:
        data = validated(MessageForwardInputSerializer, request.data)
        messages_by_user.hit(request.user.pk)  # a forward is a message sent, as 8.1 counts
        message = services.message_forward(sender=request.user, **data)
        metrics.message_sent("rest", message.chat_type)
        return Response(message_data(message))


# --- Message search (CONTRACT 11) -------------------------------------------------------------
class MessageSearchViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="Search the messages I can see: every term a substring, newest first",
        parameters=[MessageSearchQuerySerializer],
        responses=responses(MessageSearchSerializer, 403, 404),
    )
    def search(self, request: AuthenticatedRequest) -> Response:
        params = validated(MessageSearchQuerySerializer, request.query_params)
        return Response(selectors.message_search_results(user=request.user, **params))
