"""Settings, read from environment variables with working defaults.

Nothing set: SQLite file, in-memory channel layer, local-memory cache, DEBUG off.
`DATABASE_URL` switches to PostgreSQL (psycopg 3), `REDIS_URL` to the Redis channel layer and cache.
Every variable is listed in the README.
"""

from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

# Signs sessions and (unless JWT_SIGNING_KEY is set) every token. Production must set it.
# Development (DEBUG on, SECRET_KEY unset) uses a random key generated on first run into a
# git-ignored file of this machine (imserver/dev_secret.py): a key written in the repository
# would let anyone who can reach a `make run` server mint tokens for any user.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set SECRET_KEY to a long random value, or DEBUG=1 for development."
    )
if not SECRET_KEY:
    from imserver.dev_secret import development_secret_key

    SECRET_KEY = development_secret_key(
        Path(env.str("IM_DEV_SECRET_FILE", default=str(BASE_DIR / ".dev-secret")))
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS, cookies, HSTS (docs/security.md "Production settings") ---------------------------
# The admin's session and CSRF cookies travel over HTTPS only, unless DEBUG (plain-HTTP loopback).
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Opt-in: trust X-Forwarded-Proto: https from the reverse proxy that terminates TLS. Only set
# it when that proxy always sets or strips the header, or any client could claim HTTPS.
if env.bool("IM_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Sent on HTTPS responses only (SecurityMiddleware); off by default with DEBUG.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# The proxy redirects HTTP to HTTPS; daphne behind it would also redirect load balancers'
# plain-HTTP probes of /livez and /healthz. Opt-in for a server that faces clients itself.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# `check --deploy` warnings accepted on purpose (CI fails on any other; docs/security.md):
# W008 SECURE_SSL_REDIRECT off (the proxy redirects, above); W005 and W021 HSTS without
# includeSubDomains / preload (they bind every other host of the domain: the operator's call).
SILENCED_SYSTEM_CHECKS = ["security.W008", "security.W005", "security.W021"]

INSTALLED_APPS = [
    "daphne",
    "imserver.admin_apps.IMAdminConfig",  # django.contrib.admin with imserver's AdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "channels",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "social",
    "groups",
    "chat",
    "files",
    "notifications",
    "realtime",
    "webclient",
]

MIDDLEWARE = [
    "imserver.api.request_id.RequestIdMiddleware",
    "imserver.api.access_log.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Counts and times each request by its URL pattern (static files above are not counted).
    "imserver.api.request_metrics.RequestMetricsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Oversized bodies, too many fields, hostile JSON: refused here, in the client's language,
    # before anything reads the body or the query string (imserver/api/request_limits.py).
    "imserver.api.request_limits.RequestLimitsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "imserver.urls"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "imserver.asgi.application"

# --- Database --------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # An unreachable database fails a request within seconds instead of hanging it.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DB_CONNECT_TIMEOUT_S", default=5
    )
    _options = DATABASES["default"]["OPTIONS"]
    _server_options = [_options.get("options", "")]  # settings of the session, "-c name=value"
    # A server host lost in the middle of a transaction (power, network) leaves its session
    # idle in that transaction, holding its row locks (a conversation's, for its seq), until
    # PostgreSQL notices the client is gone: hours for a silent network. PostgreSQL ends such a
    # session after this many seconds, so sends from the other hosts wait at most that long.
    # 0: not set here (behind a pooler that refuses startup options, set it in PostgreSQL).
    _idle_in_transaction_s = env.int("DB_IDLE_IN_TRANSACTION_TIMEOUT_S", default=10)
    if _idle_in_transaction_s:
        _server_options.append(f"-c idle_in_transaction_session_timeout={_idle_in_transaction_s}s")
    # A host lost outside a transaction leaves its session idle, and no timeout ends an idle
    # session; yet it may hold a session-level lock (a message's ordering lock, between its
    # transaction and its pushes: chat/ordering.py) that every later edit or recall of that
    # message waits for. PostgreSQL probes the client of each session with TCP keepalives and
    # ends the session, freeing its locks, once the client has not answered (probes, or data
    # sent to it: tcp_user_timeout) for about this many seconds; the server probes PostgreSQL
    # the same way. 0: not set here (behind a pooler, set the tcp_* settings in PostgreSQL).
    _keepalive_s = env.int("DB_TCP_KEEPALIVE_S", default=20)
    if _keepalive_s:
        _idle_s = max(1, _keepalive_s // 2)  # silence before the first probe
        _interval_s = max(1, (_keepalive_s - _idle_s) // 4)  # then one probe every so often
        _keepalive = {
            "keepalives_idle": _idle_s,
            "keepalives_interval": _interval_s,
            "keepalives_count": 4,
            "tcp_user_timeout": _keepalive_s * 1000,  # ms
        }
        _options.update(keepalives=1, **_keepalive)  # the server's end (libpq)
        _server_options += [  # PostgreSQL's end
            f"-c {name.replace('keepalives', 'tcp_keepalives')}={value}"
            for name, value in _keepalive.items()
        ]
    if any(_server_options):
        _options["options"] = " ".join(filter(None, _server_options))
    # Parameters travel apart from the SQL (psycopg's C dumpers instead of quoting every value
    # in Python), and a statement a connection has run five times is prepared (parsed and
    # planned once): less CPU per message in the server and in PostgreSQL.
    # Preparing needs server-side binding. Prepared statements are off behind a pooler that
    # cannot keep them per client (PgBouncer before 1.21 in transaction mode).
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = env.bool(
        "DB_SERVER_SIDE_BINDING", default=True
    )
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = (
        5 if env.bool("DB_PREPARED_STATEMENTS", default=True) else None
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent requests write from several threads: a transaction takes the write lock when
    # it starts (a read lock upgraded later fails at once with "database is locked"), waits up
    # to 20 s for it, and readers are not blocked by the writer (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and cache ---------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The channel layer may live on another Redis than the cache and presence.
CHANNEL_LAYER_REDIS_URL = env.str("CHANNEL_LAYER_REDIS_URL", default=REDIS_URL)
# "pubsub" (default): Redis pub/sub, one PUBLISH per push and each process reads its pushes as a
# stream; "lists": channels-redis's list-based layer, which bounds each process's queue at
# IM_CHANNEL_CAPACITY but costs several Redis round trips per push.
IM_CHANNEL_LAYER = env.str("IM_CHANNEL_LAYER", default="pubsub")
if IM_CHANNEL_LAYER not in ("pubsub", "lists"):
    raise ImproperlyConfigured('IM_CHANNEL_LAYER must be "pubsub" or "lists"')
# The start of the layer's Redis names (channels-redis's prefix). Pub/sub channels span every
# database of a Redis server: two deployments (or test workers) on one server need different ones.
IM_CHANNEL_PREFIX = env.str("IM_CHANNEL_PREFIX", default="asgi")
# Events waiting for one process's listener in the "lists" and in-memory layers.
IM_CHANNEL_CAPACITY = env.int("IM_CHANNEL_CAPACITY", default=10000)
# With the pub/sub layer, a push to a user whose sockets are all in the sending process skips the
# round trip through Redis (imserver/local_delivery.py). 0: every push goes through Redis.
IM_LOCAL_DELIVERY = env.bool("IM_LOCAL_DELIVERY", default=True)
if CHANNEL_LAYER_REDIS_URL and IM_CHANNEL_LAYER == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [CHANNEL_LAYER_REDIS_URL], "prefix": IM_CHANNEL_PREFIX},
        }
    }
elif CHANNEL_LAYER_REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # A socket's receive blocks in BZPOPMIN for up to 5 s (channels-redis's
                # brpop_timeout); redis-py's own read timeout (5 s by default) must be longer,
                # or an idle socket's receive fails as the two expire together.
                "hosts": [
                    {
                        "address": CHANNEL_LAYER_REDIS_URL,
                        "socket_timeout": 15,
                        "socket_connect_timeout": 5,
                    }
                ],
                # Events waiting for one process's listener (realtime/fanout.py) before the
                # layer drops new ones (channels-redis defaults to 100, which a burst outruns; a
                # client that missed events catches up with after_seq).
                "capacity": IM_CHANNEL_CAPACITY,
                "prefix": IM_CHANNEL_PREFIX,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            # The process's one listener reads every push of its sockets (realtime/fanout.py);
            # Channels' default of 100 waiting events would drop pushes in a burst.
            "CONFIG": {"capacity": IM_CHANNEL_CAPACITY},
        }
    }
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("IM_CACHE_PREFIX", default="im"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Session logins (the admin) refuse banned users as well as inactive ones, and a banned staff
# member's open admin session ends at the next request (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.AccountBackend"]
# Django's validators run only where Django calls them: the admin's password forms,
# createsuperuser and changepassword (staff and admin-set passwords). The API never calls them:
# CONTRACT 3 sets its only rule, 6-50 characters (tests/operations/test_admin_security.py).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

IM_ACCESS_TOKEN_LIFETIME_S = env.int("IM_ACCESS_TOKEN_LIFETIME_S", default=7200)
IM_REFRESH_TOKEN_LIFETIME_S = env.int("IM_REFRESH_TOKEN_LIFETIME_S", default=604800)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=IM_ACCESS_TOKEN_LIFETIME_S),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=IM_REFRESH_TOKEN_LIFETIME_S),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.TokenVersionJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["imserver.api.renderers.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "imserver.api.exceptions.envelope_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "imserver.api.schema.EnvelopeAutoSchema",
}

# --- OpenAPI (/api/schema, /api/docs): see imserver/api/schema.py ----------------------------
SPECTACULAR_SETTINGS = {
    "TITLE": "imserver API",
    "DESCRIPTION": (
        "Instant messaging over REST (API.md). Every JSON response is an envelope: "
        '`{"code": 20000, "message": "success", "data": ...}` on success, '
        '`{"code": 4xxxx|5xxxx, "message": "..."}` on failure. Real-time events: `GET /ws`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # JSON bodies only (the upload declares its multipart body itself).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "SORT_OPERATIONS": False,  # the URL table's order, which follows API.md
    "POSTPROCESSING_HOOKS": ["imserver.api.schema.postprocess_schema"],
}

# --- Product limits (CONTRACT 9) ------------------------------------------------------------
IM_THROTTLE = env.bool("IM_THROTTLE", default=True)
IM_LOGIN_FAILURE_WINDOW_S = env.int("IM_LOGIN_FAILURE_WINDOW_S", default=300)
IM_LOGIN_FAILURES_PER_IP = env.int("IM_LOGIN_FAILURES_PER_IP", default=30)
IM_LOGIN_FAILURES_PER_USERNAME = env.int("IM_LOGIN_FAILURES_PER_USERNAME", default=10)
# Failed /admin/login/ attempts, counted apart from the API's (HTTP 429 on the login page).
IM_ADMIN_LOGIN_FAILURE_WINDOW_S = env.int("IM_ADMIN_LOGIN_FAILURE_WINDOW_S", default=900)
IM_ADMIN_LOGIN_FAILURES_PER_IP = env.int("IM_ADMIN_LOGIN_FAILURES_PER_IP", default=20)
IM_ADMIN_LOGIN_FAILURES_PER_USERNAME = env.int("IM_ADMIN_LOGIN_FAILURES_PER_USERNAME", default=10)
# /healthz answers from its last result for this long per process, so a flood of probes costs at
# most one round of checks per interval and process; 0 checks on every call.
IM_HEALTHZ_CACHE_S = env.float("IM_HEALTHZ_CACHE_S", default=5)
# Abuse limits, "count/period" with period s, m(in), h(our) or d(ay).
IM_RATE_REGISTER_PER_IP = env.str("IM_RATE_REGISTER_PER_IP", default="20/h")
# Logins and refreshes that succeed cost a password hash or database writes each: every login
# attempt per address, successful logins per user, refreshes per address and per user.
IM_RATE_LOGIN_PER_IP = env.str("IM_RATE_LOGIN_PER_IP", default="60/min")
IM_RATE_LOGIN_PER_USER = env.str("IM_RATE_LOGIN_PER_USER", default="10/min")
IM_RATE_REFRESH_PER_IP = env.str("IM_RATE_REFRESH_PER_IP", default="120/min")
IM_RATE_REFRESH_PER_USER = env.str("IM_RATE_REFRESH_PER_USER", default="30/min")
IM_RATE_MESSAGES_PER_USER = env.str("IM_RATE_MESSAGES_PER_USER", default="20/s")
IM_RATE_FRIEND_REQUESTS_PER_USER = env.str("IM_RATE_FRIEND_REQUESTS_PER_USER", default="30/h")
IM_RATE_UPLOADS_PER_USER = env.str("IM_RATE_UPLOADS_PER_USER", default="60/h")
IM_RATE_GROUP_CREATE_PER_USER = env.str("IM_RATE_GROUP_CREATE_PER_USER", default="30/h")
IM_RATE_GROUP_INVITE_PER_USER = env.str("IM_RATE_GROUP_INVITE_PER_USER", default="60/h")
IM_RATE_GROUP_JOIN_PER_USER = env.str("IM_RATE_GROUP_JOIN_PER_USER", default="30/h")
IM_RATE_GROUP_UPDATE_PER_USER = env.str("IM_RATE_GROUP_UPDATE_PER_USER", default="60/h")
IM_MAX_MEMBER_COUNT = env.int("IM_MAX_MEMBER_COUNT", default=500)
IM_RECALL_WINDOW_S = env.int("IM_RECALL_WINDOW_S", default=120)
# How long a sender may edit a text message (CONTRACT 10); 0 turns editing off.
IM_EDIT_WINDOW_S = env.int("IM_EDIT_WINDOW_S", default=900)
IM_FILE_TTL_S = env.int("IM_FILE_TTL_S", default=604800)
IM_MAX_UPLOAD_BYTES = env.int("IM_MAX_UPLOAD_BYTES", default=52428800)
# Bytes of unexpired files one user may hold in storage (0: no quota); an upload past it: 413.
IM_STORAGE_QUOTA_BYTES = env.int("IM_STORAGE_QUOTA_BYTES", default=1024 * 1024 * 1024)
# The largest request body of every other endpoint (CONTRACT 12: 1 MiB, that size accepted);
# larger ones get 413 before they are read. Django's own limit on bodies read whole agrees.
IM_MAX_BODY_BYTES = env.int("IM_MAX_BODY_BYTES", default=1048576)
DATA_UPLOAD_MAX_MEMORY_SIZE = IM_MAX_BODY_BYTES
# Query parameters and form fields per request (CONTRACT 12: 1,000); more are 40000.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("IM_MAX_REQUEST_FIELDS", default=1000)
IM_WS_IDLE_TIMEOUT_S = env.int("IM_WS_IDLE_TIMEOUT_S", default=90)
# A connection's presence entry expires this long after its last refresh (a crashed process's
# users go offline by then); each connection refreshes it every third of that.
IM_PRESENCE_TTL_S = env.int("IM_PRESENCE_TTL_S", default=75)
IM_WS_MAX_FRAME_BYTES = env.int("IM_WS_MAX_FRAME_BYTES", default=65536)
# Open sockets one user may hold in the whole cluster; one more is closed with 4029.
IM_WS_MAX_CONNECTIONS_PER_USER = env.int("IM_WS_MAX_CONNECTIONS_PER_USER", default=10)
# How often each process re-reads the users of its sockets (token version, ban, active), so a
# revocation whose push was lost still closes them (CONTRACT 12: at most 30 s).
IM_WS_SESSION_CHECK_S = env.float("IM_WS_SESSION_CHECK_S", default=30)
if not 0 < IM_WS_SESSION_CHECK_S <= 30:
    raise ImproperlyConfigured("IM_WS_SESSION_CHECK_S must be more than 0 and at most 30")
# Output a socket may leave unsent (a client that does not read) before it is closed with 4009.
IM_WS_MAX_BUFFERED_BYTES = env.int("IM_WS_MAX_BUFFERED_BYTES", default=4 * 1024 * 1024)
# Frames of one socket read ahead while one is handled (message frames among them are stored
# together); with that many waiting, the socket is read no further until they are taken.
IM_WS_FRAMES_AHEAD = env.int("IM_WS_FRAMES_AHEAD", default=16)
if IM_WS_FRAMES_AHEAD < 1:
    raise ImproperlyConfigured("IM_WS_FRAMES_AHEAD must be at least 1")
# typing frames a socket may send per second (a token bucket of this size); more are dropped.
IM_WS_TYPING_PER_S = env.int("IM_WS_TYPING_PER_S", default=5)
# Browser origins allowed on /ws besides ALLOWED_HOSTS (e.g. "https://chat.example.com").
IM_WS_ALLOWED_ORIGINS = env.list("IM_WS_ALLOWED_ORIGINS", default=[])
IM_REQUIRE_FRIENDSHIP = env.bool("IM_REQUIRE_FRIENDSHIP", default=True)
# Threads per process for the synchronous code of requests and socket frames, each with its own
# persistent database connection (imserver/overrides/lanes.py).
IM_SYNC_THREADS = env.int("IM_SYNC_THREADS", default=8)
# How often a server process's threads hand the GIL over (Python's default is 5 ms): shorter
# lets the event loop deliver pushes while the lanes are busy (imserver/serve.py).
IM_GIL_SWITCH_MS = env.float("IM_GIL_SWITCH_MS", default=0.5)
# A server process freezes what it loaded at start-up out of the garbage collector's scans and
# runs young collections every this many allocations (Python's default is 700); 0 leaves the
# collector as Python sets it: fewer, shorter pauses.
IM_GC_GEN0_THRESHOLD = env.int("IM_GC_GEN0_THRESHOLD", default=10000)
# Sends that a process stores at the same time share one transaction (chat/group_commit.py);
# off, every send is its own transaction.
IM_GROUP_COMMIT = env.bool("IM_GROUP_COMMIT", default=True)

# --- Metrics (/metrics, docs/deployment.md "Metrics") ----------------------------------------
# Client addresses (CIDR blocks) that may read /metrics, as Django sees them (REMOTE_ADDR: the
# peer, or X-Forwarded-For's first address under daphne's --proxy-headers); empty: none.
IM_METRICS_ALLOW = env.list("IM_METRICS_ALLOW", default=["127.0.0.1/32", "::1/128"])
for _block in IM_METRICS_ALLOW:
    try:
        ip_network(_block, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"IM_METRICS_ALLOW: {exc}") from exc
# A bearer token that reads /metrics from any address (Authorization: Bearer ...); empty: none.
IM_METRICS_TOKEN = env.str("IM_METRICS_TOKEN", default="")

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "imserver" / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files (admin, API docs) ---------------------------------------------------------
STATIC_URL = "static/"
# WhiteNoise serves straight from the apps' static folders; collectstatic is optional.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = env.str("IM_STATIC_ROOT", default="") or None
MEDIA_ROOT = Path(env.str("IM_MEDIA_ROOT", default=str(BASE_DIR / "media")))

# --- Files and storage ---------------------------------------------------------------------
# IM_STORAGE=local (default): FileSystemStorage under MEDIA_ROOT. IM_STORAGE=s3: django-storages
# against AWS S3 or any S3-compatible store (MinIO, Ceph, R2...) named by AWS_S3_ENDPOINT_URL.
IM_STORAGE = env.str("IM_STORAGE", default="local")
if IM_STORAGE == "local":
    _FILE_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }
elif IM_STORAGE == "s3":
    AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME")
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
    # Unset keys: boto3's own chain (instance role, ~/.aws, AWS_* variables) decides.
    AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
    AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
    AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="") or None
    AWS_LOCATION = env.str("AWS_LOCATION", default="")
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = True  # object names are fresh UUIDs: skip the existence check
    # Multipart uploads hold part size x concurrency in memory: 8 MiB x 2 per upload.
    from boto3.s3.transfer import TransferConfig

    AWS_S3_TRANSFER_CONFIG = TransferConfig(
        multipart_chunksize=8 * 1024 * 1024,
        max_concurrency=env.int("AWS_S3_MAX_CONCURRENCY", default=2),
    )
    _FILE_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    raise ImproperlyConfigured(f"IM_STORAGE must be 'local' or 's3', not {IM_STORAGE!r}.")
STORAGES = {
    "default": _FILE_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Request bodies beyond this size are spooled to disk (Django's ASGI handler and the parser).
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("IM_UPLOAD_MAX_MEMORY_SIZE", default=2621440)
FILE_UPLOAD_TEMP_DIR = env.str("IM_UPLOAD_TEMP_DIR", default="") or None
# Feed request bodies to the app lazily under daphne (imserver/overrides/daphne_streaming.py).
IM_DAPHNE_STREAMING_BODY = env.bool("IM_DAPHNE_STREAMING_BODY", default=True)

# --- Logging --------------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'plain' or 'json', not {LOG_FORMAT!r}.")
# Everything a server process prints is a line of this one handler, on stderr; stdout stays
# empty (imserver/logs.py, docs/deployment.md "Logs").
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "imserver.api.request_id.RequestIdLogFilter"},
        # connection_id and user_id on the lines of a /ws connection
        "socket": {"()": "imserver.logs.SocketLogFilter"},
    },
    "formatters": {
        "plain": {
            "class": "imserver.api.access_log.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        # One JSON object per line: time, level, logger, message, request_id, a socket's
        # connection_id and user_id, the access log's method, path, status, duration_ms
        # (imserver/api/access_log.py).
        "json": {"()": "imserver.api.access_log.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "filters": ["request_id", "socket"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # Autobahn (daphne's WebSocket layer) warns of what clients do: a handshake refused, a
        # close not answered. The access line and the socket's close line say that already.
        "autobahn": {"level": "ERROR"},
    },
}
