"""The message admin page shows what CONTRACT 10 keeps for staff: the edit history, the reactions
with their summary, and the new message fields, all read-only."""

from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import services
from chat.models import Message, MessageEdit, Reaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def edited_and_reacted(actor, make_group) -> dict:
    owner, member = actor("owner"), actor("member")
    group_id = make_group(owner, member)
    first = owner.send_to_group(group_id, "the first words")
    sent = owner.send_to_group(
        group_id, "the final words", reply_to=first["id"], mentions=[member.id]
    )
    message = Message.objects.get(pk=sent["id"])
    start = timezone.now() - timedelta(minutes=5)
    for number, (before, after) in enumerate(
        [("the frist words", "the first wrods"), ("the first wrods", "the final words")]
    ):
        MessageEdit.objects.create(
            message=message,
            editor=owner.user,
            previous_content=before,
            content=after,
            edited_at=start + timedelta(minutes=number),
        )
    Message.objects.filter(pk=message.pk).update(edited_at=start + timedelta(minutes=1))
    services.message_react(user=member.user, message_id=message.pk, emoji="🎉")
    services.message_react(user=owner.user, message_id=message.pk, emoji="🎉")
    services.message_react(user=member.user, message_id=message.pk, emoji="looks good")
    return {"owner": owner, "member": member, "message": message, "first": first}


def test_staff_see_the_edit_history_and_the_reactions_on_the_change_page(
    staff_client, edited_and_reacted
):
    message = edited_and_reacted["message"]
    response = staff_client.get(f"/admin/chat/message/{message.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("the frist words", "the first wrods", "the final words"):
        assert text in page
    assert "编辑历史" in page and "表情回应" in page
    assert "🎉" in page and "looks good" in page

    inlines = {
        formset.formset.model: formset for formset in response.context["inline_admin_formsets"]
    }
    edits = inlines[MessageEdit]
    assert [form.instance.previous_content for form in edits.formset.forms] == [
        "the frist words",
        "the first wrods",
    ]
    assert [form.instance.content for form in edits.formset.forms] == [
        "the first wrods",
        "the final words",
    ]
    assert {form.instance.editor_id for form in edits.formset.forms} == {
        edited_and_reacted["owner"].id
    }
    reactions = inlines[Reaction]
    member, owner = edited_and_reacted["member"], edited_and_reacted["owner"]
    assert [(form.instance.user_id, form.instance.emoji) for form in reactions.formset.forms] == [
        (member.id, "🎉"),
        (owner.id, "🎉"),
        (member.id, "looks good"),
    ]
    # Neither inline can add, change or delete anything.
    for inline in (edits, reactions):
        assert not inline.has_add_permission
        assert not inline.has_change_permission
        assert not inline.has_delete_permission


def test_the_new_message_fields_are_shown_read_only(staff_client, edited_and_reacted):
    message = edited_and_reacted["message"]
    response = staff_client.get(f"/admin/chat/message/{message.pk}/change/")
    admin_form = response.context["adminform"]
    readonly = set(admin_form.readonly_fields)
    assert {
        "edited_at",
        "reply_to",
        "mentions",
        "mention_all",
        "forwarded",
        "reactions",
    } <= readonly
    assert not set(admin_form.form.fields) & readonly  # none of them is an input
    page = unescape(response.content.decode())
    # The summary, as stored: first-use order, counts and users.
    member, owner = edited_and_reacted["member"], edited_and_reacted["owner"]
    assert f'"user_ids": [{member.id}, {owner.id}]' in page
    assert f"[{member.id}]" in page  # mentions


def test_posting_the_change_form_changes_no_edit_or_reaction(staff_client, edited_and_reacted):
    message = edited_and_reacted["message"]
    before = (
        list(MessageEdit.objects.order_by("pk").values_list()),
        list(Reaction.objects.order_by("pk").values_list()),
        Message.objects.get(pk=message.pk).reactions,
    )
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.post(
            f"/admin/chat/message/{message.pk}/change/",
            {
                "edits-TOTAL_FORMS": "1",
                "edits-INITIAL_FORMS": "0",
                "edits-0-previous_content": "forged",
                "edits-0-content": "forged",
                "reaction_rows-TOTAL_FORMS": "1",
                "reaction_rows-INITIAL_FORMS": "0",
                "reaction_rows-0-emoji": "forged",
            },
        )
    assert response.status_code in (200, 302)
    # Not even an UPDATE writing the row back as it was read: that would undo a recall or a
    # reaction committed between the read and the write.
    writes = [q["sql"] for q in queries if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))]
    assert not [sql for sql in writes if '"chat_' in sql], writes
    after = (
        list(MessageEdit.objects.order_by("pk").values_list()),
        list(Reaction.objects.order_by("pk").values_list()),
        Message.objects.get(pk=message.pk).reactions,
    )
    assert after == before
