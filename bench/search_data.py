"""Scenario 6's data (issue 23): a million messages in ten thousand conversations of a thousand
users, written straight into PostgreSQL with ``COPY``, not through the API.

Everything is drawn from one seeded random generator, so two runs load the same rows. The text
comes from a fixed mixed Chinese/English vocabulary; the searched terms (``TERMS``) are put
into exactly chosen shares of the messages, and no filler sentence contains any of them, so
rare and common terms exist in known numbers (the actual counts are reported). Private pairs
and groups of 10-20 members are drawn at random, so each user is in about 16 private
conversations and 30 groups; message counts per conversation are skewed (log-normal), and ids,
``seq`` and ``created_at`` all grow with time over one year.

The bigram GIN index of search is dropped before the ``COPY`` and built again afterwards
(faster than maintaining it row by row); foreign-key triggers are skipped for the load
(``session_replication_role = replica``): the generated rows are consistent by construction.
"""

import hashlib
import itertools
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

SEED = 23
PASSWORD = "bench-password"
SEARCH_INDEX = "chat_message_search_bigrams"

# What the searches look for, with the share of all messages that contain each.
TERMS: dict[str, tuple[str, float]] = {
    "rare": ("zephyr", 0.0001),
    "common": ("meeting", 0.07),
    "zh2_common": ("项目", 0.05),
    "zh2_rare": ("鲸鱼", 0.0001),
    "zh3": ("数据库", 0.005),
}

_TEXT_EN = (
    "the a to and of in is it you that we for on this with be are have at not but can will "
    "just so what about from they all one get like if time do your there up out know when "
    "today tomorrow yesterday please thanks okay sure sorry hello team report review build "
    "release deploy server client update version bug fix test plan lunch dinner coffee call "
    "phone email file photo video link office home weekend morning evening night week month "
    "year budget price order customer product design draft note list task issue ticket branch "
    "merge commit code data api cache queue latency memory disk network window door train "
    "flight hotel ticket weather rain sunny cloud music movie game football party birthday "
    "happy great good nice cool fine busy late early soon later maybe really actually again"
)
_TEXT_ZH = (
    "我们 你们 他们 今天 明天 昨天 现在 已经 可以 没有 知道 觉得 时候 事情 问题 工作 公司 "
    "老板 同事 朋友 家里 周末 晚上 早上 中午 吃饭 开会 报告 文件 图片 视频 电话 邮件 系统 "
    "服务 客户 产品 设计 测试 上线 发布 版本 修改 需要 一起 一下 谢谢 好的 收到 明白 "
    "辛苦 加油 哈哈 不错 真的 可能 应该 还是 因为 所以 但是 如果 然后 这个 那个 什么 怎么 "
    "为什么 下午 地址 时间 安排 准备 计划 预算 价格 订单 质量 进度 结果 方案 会议室 "
    "天气 下雨 咖啡 电影 音乐 旅行 火车 飞机 酒店 生日 快乐 周一 周五 月底 年底 北京 上海"
)
WORDS_EN, WORDS_ZH = _TEXT_EN.split(), _TEXT_ZH.split()


@dataclass
class Dataset:
    """What was loaded: ids, per-user conversations and term counts, for the searches."""

    user_ids: list[int]
    # Per user index: (chat_type, target_id, message count) of each conversation it is in.
    conversations_of: list[list[tuple[int, int, int]]]
    term_counts: dict[str, int]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def password_hash(salt: str = "benchsearchsaltabcdefgh") -> str:
    """Django's MD5 hasher format (the bench settings' only hasher): ``md5$salt$hex``."""
    return f"md5${salt}${hashlib.md5((salt + PASSWORD).encode()).hexdigest()}"


def _filler_pool(rng: random.Random, size: int) -> list[list[str]]:
    """Sentences of 2-14 words, English words spaced, Chinese runs written together; none
    contains a searched term (checked on the joined text, lower-cased)."""
    terms = [term.lower() for term, _share in TERMS.values()]
    pool: list[list[str]] = []
    while len(pool) < size:
        chinese = rng.random() < 0.6
        words = [
            rng.choice(WORDS_ZH if (rng.random() < 0.8) == chinese else WORDS_EN)
            for _ in range(rng.randint(2, 14))
        ]
        if not any(term in _join(words).lower() for term in terms):
            pool.append(words)
    return pool


def _is_chinese(word: str) -> bool:
    return word[0] >= "\u4e00"


def _join(words: Sequence[str]) -> str:
    out = [words[0]]
    for before, word in itertools.pairwise(words):
        out.append(word if _is_chinese(before) and _is_chinese(word) else " " + word)
    return "".join(out)


def _pairs(rng: random.Random, users: int, count: int) -> list[tuple[int, int]]:
    chosen: set[tuple[int, int]] = set()
    while len(chosen) < count:
        a, b = rng.sample(range(users), 2)
        chosen.add((min(a, b), max(a, b)))
    return sorted(chosen)


def _message_counts(rng: random.Random, conversations: int, total: int) -> list[int]:
    """Skewed (log-normal) counts, at least one each, summing to ``total``."""
    weights = [rng.lognormvariate(0, 1.2) for _ in range(conversations)]
    scale = (total - conversations) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    for index in rng.sample(range(conversations), total - sum(counts)):
        counts[index] += 1
    return counts


def _next_ids(connection: psycopg.Connection, tables: Iterable[str]) -> dict[str, int]:
    return {
        table: connection.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]
        for table in tables
    }


def load(
    database_url: str,
    *,
    users: int = 1000,
    privates: int = 8000,
    groups: int = 2000,
    messages: int = 1_000_000,
    seed: int = SEED,
) -> Dataset:
    rng = random.Random(seed)
    t0 = time.perf_counter()
    pairs = _pairs(rng, users, privates)
    members = [rng.sample(range(users), rng.randint(10, 20)) for _ in range(groups)]
    counts = _message_counts(rng, privates + groups, messages)
    order = [c for c, n in enumerate(counts) for _ in range(n)]
    rng.shuffle(order)  # the time order of all messages: conversation of the i-th message
    pool = _filler_pool(rng, 20_000)
    injected: dict[int, list[str]] = {}
    for term, share in TERMS.values():
        for index in rng.sample(range(messages), round(share * messages)):
            injected.setdefault(index, []).append(term)

    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365)
    step = timedelta(days=365) / messages
    created = start - timedelta(days=1)
    term_counts = dict.fromkeys(TERMS, 0)
    with psycopg.connect(database_url) as connection:
        ids = _next_ids(
            connection,
            [
                "accounts_user",
                "groups_group",
                "groups_groupmember",
                "chat_conversation",
                "chat_conversationmember",
                "chat_message",
            ],
        )
        user_ids = [ids["accounts_user"] + n for n in range(users)]
        group_ids = [ids["groups_group"] + n for n in range(groups)]
        conversation_ids = [ids["chat_conversation"] + n for n in range(privates + groups)]
        index_sql = connection.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", [SEARCH_INDEX]
        ).fetchone()
        connection.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")
        connection.execute("SET LOCAL session_replication_role = replica")
        t = time.perf_counter()
        seconds: dict[str, float] = {"draw": t - t0}
        _copy(
            connection,
            "accounts_user (id, password, is_superuser, username, first_name, last_name, email, "
            "is_staff, is_active, date_joined, nickname, avatar, status, token_version, "
            "created_at, updated_at)",
            (
                (uid, password_hash(), False, f"search{n}", "", "", f"search{n}@bench.example",
                 False, True, created, f"search user {n}", "", 1, 0, created, created)
                for n, uid in enumerate(user_ids)
            ),
        )  # fmt: skip
        _copy(
            connection,
            "groups_group (id, name, description, avatar, member_count, max_member_count, "
            "status, owner_id, application_seq, created_at, updated_at)",
            (
                (gid, f"群 {n} group", "", "", len(members[n]), 500, 1,
                 user_ids[members[n][0]], 0, created, created)
                for n, gid in enumerate(group_ids)
            ),
        )  # fmt: skip
        _copy(
            connection,
            "groups_groupmember (group_id, user_id, role, nickname, joined_at, updated_at, "
            "applications_seen_seq)",
            (
                (gid, user_ids[u], 2 if k == 0 else 0, "", created, created, 0)
                for gid, group_members in zip(group_ids, members, strict=True)
                for k, u in enumerate(group_members)
            ),
        )
        seq = [0] * len(conversation_ids)
        last_id = [0] * len(conversation_ids)

        def message_rows() -> Iterable[tuple[Any, ...]]:
            for i, c in enumerate(order):
                seq[c] += 1
                message_id = ids["chat_message"] + i
                last_id[c] = message_id
                if c < privates:
                    low, high = pairs[c]
                    sender, to_user = (low, high) if rng.random() < 0.5 else (high, low)
                    to_user_id, group_id = user_ids[to_user], None
                else:
                    sender = rng.choice(members[c - privates])
                    to_user_id, group_id = None, group_ids[c - privates]
                words = pool[rng.randrange(len(pool))]
                extra = injected.get(i)
                if extra:  # only these can contain a term: no filler sentence does
                    words = list(words)
                    for term in extra:
                        word = term.capitalize() if rng.random() < 0.2 else term
                        words.insert(rng.randrange(len(words) + 1), word)
                    lowered = _join(words).lower()
                    for key, (term, _share) in TERMS.items():
                        term_counts[key] += term in lowered
                text = _join(words)
                yield (message_id, conversation_ids[c], seq[c], user_ids[sender], to_user_id,
                       group_id, 0, text, 1, start + step * i, text)  # fmt: skip

        _copy(
            connection,
            "chat_message (id, conversation_id, seq, sender_id, to_user_id, group_id, type, "
            "content, status, created_at, search_text)",
            message_rows(),
        )
        _copy(
            connection,
            "chat_conversation (id, type, last_seq, created_at, updated_at, group_id, "
            "user_low_id, user_high_id, last_message_id)",
            (
                (cid, 0 if c < privates else 1, seq[c], created, created,
                 None if c < privates else group_ids[c - privates],
                 user_ids[pairs[c][0]] if c < privates else None,
                 user_ids[pairs[c][1]] if c < privates else None, last_id[c])
                for c, cid in enumerate(conversation_ids)
            ),
        )  # fmt: skip
        conversation_users = [list(pair) for pair in pairs] + members
        _copy(
            connection,
            "chat_conversationmember (conversation_id, user_id, read_seq, clear_seq, is_pinned, "
            "is_muted, created_at, updated_at)",
            (
                (cid, user_ids[u], seq[c], 0, False, False, created, created)
                for c, cid in enumerate(conversation_ids)
                for u in conversation_users[c]
            ),
        )
        seconds["generate_and_copy"] = time.perf_counter() - t
        connection.commit()
        t = time.perf_counter()
        connection.execute("SET maintenance_work_mem = '1GB'")
        if index_sql is not None:
            connection.execute(index_sql[0])
        connection.commit()
        seconds["index"] = time.perf_counter() - t
        _reset_sequences(connection, ids)
        connection.commit()
        connection.autocommit = True
        t = time.perf_counter()
        for table in ids:
            connection.execute(f"VACUUM ANALYZE {table}")
        seconds["vacuum_analyze"] = time.perf_counter() - t

    conversations_of: list[list[tuple[int, int, int]]] = [[] for _ in range(users)]
    for c, (low, high) in enumerate(pairs):
        conversations_of[low].append((0, user_ids[high], counts[c]))
        conversations_of[high].append((0, user_ids[low], counts[c]))
    for g, group_members in enumerate(members):
        for u in group_members:
            conversations_of[u].append((1, group_ids[g], counts[privates + g]))
    return Dataset(
        user_ids=user_ids,
        conversations_of=conversations_of,
        term_counts=term_counts,
        counts={
            "users": users,
            "private_conversations": privates,
            "groups": groups,
            "group_members": sum(len(m) for m in members),
            "messages": messages,
            "largest_conversation": max(counts),
        },
        seconds={k: round(v, 1) for k, v in seconds.items()},
    )


def _copy(connection: psycopg.Connection, target: str, rows: Iterable[Sequence[Any]]) -> None:
    with connection.cursor().copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _reset_sequences(connection: psycopg.Connection, tables: Iterable[str]) -> None:
    """Identity columns continue after the loaded ids (later API writes must not collide)."""
    for table in tables:
        connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
