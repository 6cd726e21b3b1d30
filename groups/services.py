"""Group writes (API.md 5.x, CONTRACT 5) with their notifications.

Every service that reads or changes memberships first locks the group row
(``_lock_normal_group``): per group, membership changes run one at a time, so ``member_count``
stays equal to the number of rows and never exceeds ``max_member_count``, and the role checks
see the roles as they are. Locks are always taken group row first, then member rows.
"""

from collections.abc import Mapping
from datetime import timedelta

from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, PositiveBigIntegerField, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from groups import notices
from groups.models import MANAGER_ROLES, Group, GroupApplication, GroupMember
from groups.selectors import (
    GROUP_NOT_FOUND,
    NOT_A_MEMBER,
    TARGET_NOT_A_MEMBER,
    manager_user_ids,
    member_user_ids,
    pending_applications_for_manager,
)
from groups.signals import members_joined
from imserver.api.errors import AppError, ErrorCode, bad_request, invalid_parameter_message
from social.models import Friendship

Role = GroupMember.Role
MAX_MUTE_SECONDS = 30 * 24 * 3600

OWNER_ONLY = _("Only the group owner can do this")
MANAGERS_ONLY = _("Only the group owner or an admin can do this")
ADMIN_PLAIN_MEMBERS_ONLY = _("Admins can only do this to plain members")
APPLICATION_NOT_FOUND = _("Application not found")


def _lock_normal_group(group_id: int) -> Group:
    """Lock the group row; unknown or dismissed is 40004."""
    group = Group.objects.select_for_update().filter(pk=group_id).first()
    if group is None or group.is_dismissed:
        raise AppError(ErrorCode.NOT_FOUND, GROUP_NOT_FOUND)
    return group


def _member(group: Group, user_id: int) -> GroupMember | None:
    return GroupMember.objects.select_related("user").filter(group=group, user_id=user_id).first()


def _actor(group: Group, user: User) -> GroupMember:
    """The caller's membership; not a member is 40003."""
    member = _member(group, user.pk)
    if member is None:
        raise AppError(ErrorCode.FORBIDDEN, NOT_A_MEMBER)
    return member


def _target(group: Group, user_id: int) -> GroupMember:
    """The member acted on; not a member is 40004."""
    member = _member(group, user_id)
    if member is None:
        raise AppError(ErrorCode.NOT_FOUND, TARGET_NOT_A_MEMBER)
    return member


def _require_owner(member: GroupMember) -> None:
    if member.role != Role.OWNER:
        raise AppError(ErrorCode.FORBIDDEN, OWNER_ONLY)


def _require_manager(member: GroupMember) -> None:
    if not member.is_manager:
        raise AppError(ErrorCode.FORBIDDEN, MANAGERS_ONLY)


def _require_may_moderate(actor: GroupMember, target: GroupMember) -> None:
    """Owner: any other member. Admin: plain members only. Member: nobody."""
    _require_manager(actor)
    if actor.role == Role.ADMIN and target.role != Role.MEMBER:
        raise AppError(ErrorCode.FORBIDDEN, ADMIN_PLAIN_MEMBERS_ONLY)


def _bad_field(field: str, reason: str | Promise) -> AppError:
    return AppError(ErrorCode.BAD_REQUEST, invalid_parameter_message(reason, field))


def _group_full_error(group: Group) -> AppError:
    return bad_request(
        gettext("the group is full (at most %(max)d members)") % {"max": group.max_member_count}
    )


def _set_member_count(group: Group, delta: int) -> None:
    """Adjust the count of the locked group row."""
    group.member_count += delta
    Group.objects.filter(pk=group.pk).update(member_count=group.member_count)


@transaction.atomic
def group_create(*, owner: User, name: str, description: str = "", avatar: str = "") -> Group:
    group = Group.objects.create(
        name=name, description=description, avatar=avatar, owner=owner, member_count=1
    )
    GroupMember.objects.create(group=group, user=owner, role=Role.OWNER)
    members_joined.send(sender=Group, group_id=group.pk, user_ids=[owner.pk])
    return group


@transaction.atomic
def group_update_info(
    *,
    user: User,
    group_id: int,
    name: str | None = None,
    description: str | None = None,
    avatar: str | None = None,
) -> Group:
    """Partial update by the owner or an admin; every member is told when something changed."""
    group = _lock_normal_group(group_id)
    _require_manager(_actor(group, user))
    _update_info(
        group, operator=user, info={"name": name, "description": description, "avatar": avatar}
    )
    return group


@transaction.atomic
def group_member_set_role(*, user: User, group_id: int, target_user_id: int, role: int) -> None:
    """Owner only; role 0 or 1 for a member other than the owner. No change, no notification."""
    group = _lock_normal_group(group_id)
    _require_owner(_actor(group, user))
    target = _target(group, target_user_id)
    if target.role == Role.OWNER:
        raise AppError(ErrorCode.FORBIDDEN, _("The owner's role cannot be changed"))
    if target.role == role:
        return
    target.role = role
    target.save(update_fields=["role", "updated_at"])
    kind = "made_admin" if role == Role.ADMIN else "admin_removed"
    notices.notify(kind, group=group, operator=user, to=[target.user_id], target=target.user)


@transaction.atomic
def group_member_mute(
    *, user: User, group_id: int, target_user_id: int, duration: int
) -> GroupMember:
    """Mute for ``duration`` seconds (0 unmutes). Owner: any member; admin: plain members."""
    _check_mute_duration(duration)
    group = _lock_normal_group(group_id)
    target = _moderated_target(group, user, target_user_id, _("you cannot mute yourself"))
    _mute(group, target, operator=user, duration=duration)
    return target


def _has_blocked(user: User) -> Exists:
    """On a ``User`` row: whether that user has blocked ``user``."""
    return Exists(
        Friendship.objects.filter(
            user=OuterRef("pk"), friend=user, status=Friendship.Status.BLOCKED
        )
    )


@transaction.atomic
def group_invite(*, user: User, group_id: int, user_ids: list[int]) -> dict[str, list[int]]:
    """Any member adds users at once. Repeated ids count once; members, unknown and banned
    users, and users who have blocked the inviter are skipped; if the rest does not fit, nobody
    is added (40000).

    A block means "nothing from this user reaches me" (CONTRACT 12): being added to the
    inviter's group would deliver the inviter's group messages, so the invitee is skipped,
    exactly like an unknown id (the inviter learns nothing they could not learn otherwise).
    """
    group = _lock_normal_group(group_id)
    _actor(group, user)
    wanted = list(dict.fromkeys(user_ids))
    existing = set(
        GroupMember.objects.filter(group=group, user_id__in=wanted).values_list(
            "user_id", flat=True
        )
    )
    invitable = {
        invitee.pk: invitee
        for invitee in User.objects.filter(pk__in=wanted, status=User.Status.ACTIVE, is_active=True)
        .exclude(pk__in=existing)
        .exclude(_has_blocked(user))
    }
    added = [user_id for user_id in wanted if user_id in invitable]
    skipped = [user_id for user_id in wanted if user_id not in invitable]
    if not added:
        return {"added": [], "skipped": skipped}
    if group.member_count + len(added) > group.max_member_count:
        raise _group_full_error(group)
    now = timezone.now()
    GroupMember.objects.bulk_create(
        [GroupMember(group=group, user_id=user_id, joined_at=now) for user_id in added]
    )
    _set_member_count(group, len(added))
    members_joined.send(sender=Group, group_id=group.pk, user_ids=added)
    # Their pending applications are answered by the invitation.
    GroupApplication.objects.filter(
        group=group, user_id__in=added, status=GroupApplication.Status.PENDING
    ).update(status=GroupApplication.Status.APPROVED, handled_by=user, updated_at=now)
    notices.notify_each(
        "invited", group=group, operator=user, targets=[invitable[user_id] for user_id in added]
    )
    return {"added": added, "skipped": skipped}


@transaction.atomic
def group_join_apply(*, user: User, group_id: int, reason: str = "") -> GroupApplication:
    """Create my pending application; the owner and admins are notified (type 1). Members:
    40009; a full group: 40000.

    Applying again while my application is pending is answered with that same application
    (CONTRACT 5: "a repeated one updates the reason") and notifies nobody: the managers were
    told once, and a client repeating the call must not write and push a notification to each
    of them every time. Only a different reason changes anything: the application takes it and
    counts as arrived again (new ``apply_time``, unread again in 6.5); the same reason writes
    nothing at all.
    """
    group = _lock_normal_group(group_id)
    if _member(group, user.pk) is not None:
        raise AppError(ErrorCode.CONFLICT, _("You are already a member of this group"))
    if group.member_count >= group.max_member_count:
        raise _group_full_error(group)
    # Read under the group lock: every change to the group's applications holds it.
    pending = GroupApplication.objects.filter(
        group=group, user=user, status=GroupApplication.Status.PENDING
    ).first()
    if pending is not None and pending.reason == reason:
        return pending
    group.application_seq += 1
    Group.objects.filter(pk=group.pk).update(application_seq=group.application_seq)
    application = pending or GroupApplication(group=group, user=user)
    application.reason = reason
    application.arrived_at = timezone.now()
    application.arrival_seq = group.application_seq
    application.save()
    if pending is None:
        notices.notify(
            "application_received",
            group=group,
            operator=user,
            to=manager_user_ids(group.pk),
            target=user,
        )
    return application


@transaction.atomic
def group_application_handle(*, user: User, application_id: int, approve: bool) -> GroupApplication:
    """Owner or admin approves or rejects a pending application of their group.

    An application of a group the caller does not manage (or a dismissed one) is 40004; an
    already handled one 40009; approving into a full group 40000.
    """
    group_id = (
        GroupApplication.objects.filter(pk=application_id)
        .values_list("group_id", flat=True)
        .first()
    )
    if group_id is None:
        raise AppError(ErrorCode.NOT_FOUND, APPLICATION_NOT_FOUND)
    try:
        group = _lock_normal_group(group_id)
    except AppError as exc:
        raise AppError(ErrorCode.NOT_FOUND, APPLICATION_NOT_FOUND) from exc
    actor = _member(group, user.pk)
    if actor is None or not actor.is_manager:
        raise AppError(ErrorCode.NOT_FOUND, APPLICATION_NOT_FOUND)
    # Read again under the group lock: every change to the group's applications holds it.
    application = GroupApplication.objects.select_related("user").get(pk=application_id)
    if application.status != GroupApplication.Status.PENDING:
        raise AppError(ErrorCode.CONFLICT, _("This application has already been handled"))
    if approve and _member(group, application.user_id) is None:
        if group.member_count >= group.max_member_count:
            raise _group_full_error(group)
        GroupMember.objects.create(group=group, user_id=application.user_id)
        _set_member_count(group, 1)
        members_joined.send(sender=Group, group_id=group.pk, user_ids=[application.user_id])
    application.status = (
        GroupApplication.Status.APPROVED if approve else GroupApplication.Status.REJECTED
    )
    application.handled_by = user
    application.save(update_fields=["status", "handled_by", "updated_at"])
    notices.notify(
        "application_approved" if approve else "application_rejected",
        group=group,
        operator=user,
        to=[application.user_id],
        target=application.user,
    )
    return application


@transaction.atomic
def group_leave(*, user: User, group_id: int) -> None:
    """Any member but the owner (40000 until ownership is transferred)."""
    group = _lock_normal_group(group_id)
    member = _actor(group, user)
    if member.role == Role.OWNER:
        raise bad_request(_("the owner cannot leave the group; transfer the ownership first"))
    member.delete()
    _set_member_count(group, -1)
    notices.notify(
        "member_left", group=group, operator=user, to=manager_user_ids(group.pk), target=user
    )


@transaction.atomic
def group_kick(*, user: User, group_id: int, target_user_id: int) -> None:
    """Owner: any member. Admin: plain members only."""
    group = _lock_normal_group(group_id)
    refusal = _("you cannot remove yourself; leave the group instead")
    target = _moderated_target(group, user, target_user_id, refusal)
    target.delete()
    _set_member_count(group, -1)
    notices.notify("kicked", group=group, operator=user, to=[target.user_id], target=target.user)


@transaction.atomic
def group_transfer(*, user: User, group_id: int, new_owner_id: int) -> None:
    """Owner only, to another member; the old owner becomes a plain member."""
    group = _lock_normal_group(group_id)
    actor = _actor(group, user)
    _require_owner(actor)
    if new_owner_id == user.pk:
        raise _bad_field("new_owner_id", _("you already own this group"))
    target = _target(group, new_owner_id)
    actor.role = Role.MEMBER
    actor.save(update_fields=["role", "updated_at"])
    target.role = Role.OWNER
    target.muted_until = None
    target.save(update_fields=["role", "muted_until", "updated_at"])
    group.owner_id = target.user_id
    group.save(update_fields=["owner", "updated_at"])
    notices.notify(
        "ownership_transferred",
        group=group,
        operator=user,
        to=[target.user_id],
        target=target.user,
    )


def _dismiss(group: Group, operator: User) -> None:
    group.status = Group.Status.DISMISSED
    group.save(update_fields=["status", "updated_at"])
    notices.notify("dismissed", group=group, operator=operator, to=member_user_ids(group.pk))


@transaction.atomic
def group_dismiss(*, user: User, group_id: int) -> None:
    """Owner only. The group keeps its rows (history) but vanishes from lists, info and search,
    and every later action on it is 40004."""
    group = _lock_normal_group(group_id)
    _require_owner(_actor(group, user))
    _dismiss(group, user)


@transaction.atomic
def group_dismiss_by_staff(*, staff_user: User, group_id: int) -> bool:
    """Moderation from the admin site; False when the group was already dismissed."""
    group = Group.objects.select_for_update().filter(pk=group_id).first()
    if group is None or group.is_dismissed:
        return False
    _dismiss(group, staff_user)
    return True


@transaction.atomic
def group_member_update_own(*, user: User, group_id: int, nickname: str) -> GroupMember:
    """My in-group nickname; "" clears it (the user's nickname shows instead)."""
    group = _lock_normal_group(group_id)
    member = _actor(group, user)
    member.nickname = nickname
    member.save(update_fields=["nickname", "updated_at"])
    return member


@transaction.atomic
def group_applications_list_and_mark_seen(
    *, user: User, offset: int, limit: int
) -> tuple[list[GroupApplication], int]:
    """Pending applications for groups I manage, newest arrival first, and their total; then
    they count as seen (6.4, 6.5).

    What counts as seen is each group's ``application_seq`` read *before* the list: arrivals of
    one group commit in sequence order (under the group row lock), so an application committed
    later has a higher sequence and still counts as unread for 6.5, exactly once. Four queries.
    """
    seen = list(
        GroupMember.objects.filter(
            user=user, role__in=MANAGER_ROLES, group__status=Group.Status.NORMAL
        ).values("pk", "group__application_seq")
    )
    pending = pending_applications_for_manager(user)
    total = pending.count()
    newest_first = pending.select_related("user", "group").order_by("-arrived_at", "-id")
    rows = list(newest_first[offset : offset + limit])
    if seen:
        newest_seen = Case(
            *[When(pk=entry["pk"], then=Value(entry["group__application_seq"])) for entry in seen],
            default=F("applications_seen_seq"),
            output_field=PositiveBigIntegerField(),
        )
        GroupMember.objects.filter(pk__in=[entry["pk"] for entry in seen]).update(
            applications_seen_seq=Greatest(F("applications_seen_seq"), newest_seen)
        )
    return rows, total


# --- shared by the members' and the staff's (admin site) writes ------------------------------


def _update_info(group: Group, *, operator: User, info: Mapping[str, str | None]) -> None:
    """Set name, description and avatar from ``info`` (None: unchanged); every member is told
    when something changed."""
    changes = {
        field: value
        for field, value in info.items()
        if value is not None and getattr(group, field) != value
    }
    if changes:
        for field, value in changes.items():
            setattr(group, field, value)
        group.save(update_fields=[*changes, "updated_at"])
        notices.notify("updated", group=group, operator=operator, to=member_user_ids(group.pk))


def _moderated_target(
    group: Group, user: User, target_user_id: int, yourself: str | Promise
) -> GroupMember:
    """The member a manager mutes or removes: an owner any other member, an admin a plain
    member; ``yourself`` is the refusal (40000) when it is the manager themself."""
    actor = _actor(group, user)
    _require_manager(actor)
    target = _target(group, target_user_id)
    if target.pk == actor.pk:
        raise _bad_field("user_id", yourself)
    _require_may_moderate(actor, target)
    return target


def _check_mute_duration(duration: int) -> None:
    if not 0 <= duration <= MAX_MUTE_SECONDS:
        raise _bad_field("duration", _("must be between 0 and 2592000 seconds"))


def _mute(group: Group, target: GroupMember, *, operator: User, duration: int) -> None:
    """Mute ``target`` for ``duration`` seconds from now (0 unmutes) and tell them who did."""
    target.muted_until = timezone.now() + timedelta(seconds=duration) if duration else None
    target.save(update_fields=["muted_until", "updated_at"])
    notices.notify(
        "muted" if duration else "unmuted",
        group=group,
        operator=operator,
        to=[target.user_id],
        target=target.user,
        seconds=duration,
    )


@transaction.atomic
def group_update_info_by_staff(*, staff_user: User, group_id: int, info: dict[str, str]) -> Group:
    """Moderation from the admin site: ``info`` holds some of name, description and avatar. What
    ``group_update_info`` does, with the staff member as the operator the members are told
    about. An unknown or dismissed group is 40004."""
    group = _lock_normal_group(group_id)
    _update_info(group, operator=staff_user, info=info)
    return group


@transaction.atomic
def group_member_mute_by_staff(
    *, staff_user: User, group_id: int, target_user_id: int, duration: int
) -> GroupMember:
    """Moderation from the admin site: mute any member, the owner included, for ``duration``
    seconds (0 unmutes); the member is told, with the staff member as the operator. The same
    refusals as ``group_member_mute`` for the duration, the group and the target."""
    _check_mute_duration(duration)
    group = _lock_normal_group(group_id)
    target = _target(group, target_user_id)
    _mute(group, target, operator=staff_user, duration=duration)
    return target
