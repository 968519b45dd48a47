"""Loa settings: every knob comes from the environment, read here once through typed helpers.

Bad values fail at start-up with a message naming the variable, rather than surfacing later.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate, `<requests>/<period>` with a period starting s, m, h or d (600/min, 10/s):
    DRF reads it only when a request is counted, so a bad one would be a 500 on each of them."""
    raw = os.environ.get(name, default).strip()
    count, _, period = raw.partition("/")
    if not (count.isascii() and count.isdigit() and int(count) > 0 and period[:1] in {"s", "m", "h", "d"}
            and "/" not in period):
        raise ImproperlyConfigured(f"{name} must be a rate like 600/min (requests/s, min, hour or day), got {raw!r}")
    return raw


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


VAR_DIR = env_path("LOA_VAR_DIR", BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production).")
    # Development only: generate once and keep it so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Absolute URLs handed to stations (m3u8, playlist JSON) use this when set, else the request's host.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "stations",
    "broadcast",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "broadcast.http.RejectNulBytesMiddleware",
    "broadcast.http.PrivateByDefaultMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "broadcast.http.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "broadcast.urls"
WSGI_APPLICATION = "broadcast.wsgi.application"

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

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'loa.sqlite3'}")
# Demo accounts (known password) and demo content go only into the embedded default database, unless
# this says the database named by DATABASE_URL is a demo one (`create_demo_users`, `seed_demo`).
LOA_DEMO = env_bool("LOA_DEMO", False)
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
except Exception as exc:  # dj_database_url raises several types for a malformed URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat share the file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
# PostgreSQL: the station poll's one query is prepared once per connection. Turn off behind a pooler in
# transaction mode that does not track prepared statements (PgBouncer before 1.21).
DB_PREPARE_POLL = env_bool("DB_PREPARE_POLL", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared cache (throttling counters, login rate limits). Per-process memory by default; in production
# point it at Redis so every web worker counts the same requests.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif CACHE_URL in {"", "locmem://"}:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured(f"CACHE_URL must be empty, locmem:// or redis://…, got {CACHE_URL!r}")

# --- access settings ---
# Staff API tokens (`Authorization: Token …`) expire this many days after login.
STAFF_TOKEN_TTL_DAYS = env_int("STAFF_TOKEN_TTL_DAYS", 30, minimum=1, maximum=3650)
# Failed logins (API token, dashboard, admin) allowed per user name and per address within the lockout
# window; past either, logins wait (HTTP 429) until the window ends.
LOGIN_MAX_FAILURES_PER_USER = env_int("LOGIN_MAX_FAILURES_PER_USER", 5, minimum=1)
LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
# --- end access settings ---

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Vietnamese only, whatever Accept-Language a browser or device sends (hence no LocaleMiddleware).
# broadcast/locale fills what DRF, django-filter and Django leave untranslated (it wins over theirs).
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt")]
LOCALE_PATHS = [BASE_DIR / "broadcast" / "locale"]
# Largest request body Django reads into memory (JSON, forms; uploaded files are not counted):
# more is a 413. A full report batch or the longest bulletin is far below the default 2.5 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=65_536)
CSRF_FAILURE_VIEW = "broadcast.http.csrf_failure"
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "static")
MEDIA_URL = "media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", BASE_DIR / "media")
# Audio can be handed to the web server in front: "" (Django streams it), "x-accel-redirect" (nginx)
# or "x-sendfile" (Apache/lighttpd). AUDIO_INTERNAL_PREFIX is nginx's internal location for MEDIA_ROOT.
AUDIO_SENDFILE = env_str("AUDIO_SENDFILE", "")
if AUDIO_SENDFILE not in {"", "x-accel-redirect", "x-sendfile"}:
    raise ImproperlyConfigured("AUDIO_SENDFILE must be empty, 'x-accel-redirect' or 'x-sendfile'")
AUDIO_INTERNAL_PREFIX = env_str("AUDIO_INTERNAL_PREFIX", "/protected-media/")

LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/dashboard/"

# --- security (production = DEBUG off) ---
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
X_FRAME_OPTIONS = "DENY"

# --- REST framework ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Station devices: `Authorization: Bearer …`; staff: `Authorization: Token …` or a session.
        # (A staff view's 401 challenges for the staff token: broadcast.http.api_exception_handler.)
        "stations.auth.StationTokenAuthentication",
        "broadcast.authentication.StaffTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 50, minimum=1, maximum=1000),
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "broadcast.http.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "broadcast.api.openapi.LoaAutoSchema",
    # Anonymous clients only (AnonRateThrottle skips authenticated ones); station views use their own.
    "DEFAULT_THROTTLE_CLASSES": ["broadcast.throttling.AnonThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "station": env_rate("STATION_THROTTLE_RATE", "600/min"),
        "anon": env_rate("ANON_THROTTLE_RATE", "60/min"),
    },
    # Behind the TLS proxy the client is the last X-Forwarded-For entry; otherwise REMOTE_ADDR only
    # (a client-sent X-Forwarded-For must not pick its own throttle counter).
    "NUM_PROXIES": 1 if env_bool("BEHIND_TLS_PROXY", False) else 0,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PARSER_CLASSES": [
        "broadcast.http.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "broadcast.http.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Loa API",
    "DESCRIPTION": "Quản lý nội dung đài truyền thanh cơ sở — API v1",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per domain choice set (several models have a `status`).
    "ENUM_NAME_OVERRIDES": {
        "BulletinStatusEnum": "broadcast.models.bulletins.Bulletin.Status",
        "BulletinCategoryEnum": "broadcast.models.bulletins.Bulletin.Category",
        "BulletinPriorityEnum": "broadcast.models.bulletins.Bulletin.Priority",
        "RenditionStatusEnum": "broadcast.models.audio.AudioRendition.Status",
        "PlaybackStatusEnum": "broadcast.models.reports.PlaybackReport.Status",
        "StationStatusEnum": "stations.models.Station.Status",
        "StationKindEnum": "stations.models.Station.Kind",
    },
}

# --- Celery ---
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic tasks; each app's tasks.py owns the task, this table owns when it runs.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}

# --- stations ---
STATION_HEARTBEAT_PERIOD_SECONDS = env_int("STATION_HEARTBEAT_PERIOD_SECONDS", 300, minimum=10)
STATION_HEARTBEAT_GRACE_SECONDS = env_int("STATION_HEARTBEAT_GRACE_SECONDS", 600, minimum=0)
# After this long past its deadline a late station counts as silent.
STATION_SILENT_AFTER_SECONDS = env_int("STATION_SILENT_AFTER_SECONDS", 3600, minimum=60)

# --- workflow settings (bulletins, rendering) ---
# Engine, voice, text and upload limits come from the audio settings below (LOA_AUDIO).
# Temporary TTS failures (network, throttling) are retried this often, backoff doubling each time.
BULLETIN_RENDER_MAX_RETRIES = env_int("BULLETIN_RENDER_MAX_RETRIES", 5, minimum=0)
BULLETIN_RENDER_RETRY_BACKOFF_SECONDS = env_int("BULLETIN_RENDER_RETRY_BACKOFF_SECONDS", 30, minimum=1)
# A rendering worker refreshes its claim this often; a claim not refreshed for the timeout belongs to a
# dead worker and may be taken over (by the sweep's re-queued task, a redelivery, or an editor's retry).
BULLETIN_RENDER_HEARTBEAT_SECONDS = env_float("BULLETIN_RENDER_HEARTBEAT_SECONDS", 5.0, minimum=0.01, maximum=60)
BULLETIN_RENDER_CLAIM_TIMEOUT_SECONDS = env_int(
    "BULLETIN_RENDER_CLAIM_TIMEOUT_SECONDS", 20, minimum=max(3, int(3 * BULLETIN_RENDER_HEARTBEAT_SECONDS))
)
# A render running (still beating) longer than this is past its expected time: editors may retry it.
BULLETIN_RENDER_STUCK_SECONDS = env_int("BULLETIN_RENDER_STUCK_SECONDS", 600, minimum=60)
# A rendition still "pending" this long after its task was queued is re-queued by the sweep (lost task).
BULLETIN_RENDER_REQUEUE_AFTER_SECONDS = env_int("BULLETIN_RENDER_REQUEUE_AFTER_SECONDS", 600, minimum=30)
BULLETIN_RENDER_SWEEP_SECONDS = env_int("BULLETIN_RENDER_SWEEP_SECONDS", 10, minimum=5)
CELERY_BEAT_SCHEDULE["requeue-stale-renditions"] = {
    "task": "loa.requeue_stale_renditions",
    "schedule": BULLETIN_RENDER_SWEEP_SECONDS,
}
# --- end workflow settings ---

# --- distribution settings (schedules, playlists, station download API) ---
# Playlists are kept materialized for today and this many following days; stations may ask for dates
# from PLAYLIST_DAYS_BACK days ago up to that horizon (outside it the playlist API answers 400).
PLAYLIST_DAYS_AHEAD = env_int("PLAYLIST_DAYS_AHEAD", 2, minimum=0, maximum=60)
PLAYLIST_DAYS_BACK = env_int("PLAYLIST_DAYS_BACK", 7, minimum=0, maximum=366)
# Silence between two plays packed into one slot (counts against the slot's length).
PLAYLIST_SLOT_GAP_SECONDS = env_float("PLAYLIST_SLOT_GAP_SECONDS", 2.0, minimum=0, maximum=600)
# No PLAYLIST_BUILD_CHUNK any more: a build writes all stations in ONE transaction of a fixed number
# of set-based statements (broadcast/services/bulk.py), so its statement count does not grow with the
# number of stations and a crash leaves every previous version intact. Memory is bounded by streaming
# the existing items one station at a time; only the rows to write are held (~100 MB at most for a
# first national build of one day, nothing for a rebuild that changes nothing).
# Local time (Asia/Ho_Chi_Minh) of the nightly build of the coming days, "HH:MM".
PLAYLIST_NIGHTLY_AT = env_str("PLAYLIST_NIGHTLY_AT", "01:30")
try:
    _nightly_h, _nightly_m = (int(x) for x in PLAYLIST_NIGHTLY_AT.split(":"))
    if not (0 <= _nightly_h < 24 and 0 <= _nightly_m < 60):
        raise ValueError
except ValueError:
    raise ImproperlyConfigured(f"PLAYLIST_NIGHTLY_AT must be HH:MM, got {PLAYLIST_NIGHTLY_AT!r}") from None
from celery.schedules import crontab as _crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["playlists-nightly"] = {
    "task": "broadcast.nightly_playlists",
    "schedule": _crontab(hour=_nightly_h, minute=_nightly_m),
}
# --- end distribution settings ---

# --- station download and retention settings ---
# Signed audio URLs in an M3U8 stop working this many days after their playlist's date.
STATION_AUDIO_URL_DAYS = env_int("STATION_AUDIO_URL_DAYS", 3, minimum=1, maximum=60)
# Who signs the printable monthly coverage report.
DEPARTMENT_NAME = env_str("DEPARTMENT_NAME", "Sở Thông tin và Truyền thông")
# A station's last_seen_at is written at most once per this many seconds (every request reads it).
STATION_LAST_SEEN_RESOLUTION_SECONDS = env_int("STATION_LAST_SEEN_RESOLUTION_SECONDS", 60, minimum=1)
# Largest heartbeat `state` (as JSON) kept on the station row; larger → 400.
STATION_HEARTBEAT_STATE_MAX_BYTES = env_int("STATION_HEARTBEAT_STATE_MAX_BYTES", 4096, minimum=256, maximum=65536)
# Retention (manage.py prune and its nightly beat task): station status history, failed and superseded
# uploads and audio no playlist or play log refers to are kept this long; cached bundles and player
# copies for RETENTION_CACHE_DAYS; the play log (planned plays and their reports) for the legal period.
RETENTION_DAYS = env_int("RETENTION_DAYS", 90, minimum=1)
RETENTION_CACHE_DAYS = env_int("RETENTION_CACHE_DAYS", 10, minimum=1)
RETENTION_PLAY_LOG_DAYS = env_int("RETENTION_PLAY_LOG_DAYS", 730, minimum=1)
RETENTION_BROKER_HOURS = env_int("RETENTION_BROKER_HOURS", 24, minimum=1)
CELERY_BEAT_SCHEDULE["retention-prune"] = {
    "task": "broadcast.prune_retention",
    "schedule": _crontab(hour=3, minute=15),
}
# --- end station download and retention settings ---

# --- proof-of-play settings (reports, health, coverage, dashboard) ---
# Most playback reports one POST /station/reports/ may carry (more → 413).
REPORTS_MAX_BATCH = env_int("REPORTS_MAX_BATCH", 1000, minimum=1, maximum=10000)
# A report may claim a time at most this far in the future (station clocks drift).
REPORTS_MAX_FUTURE_SECONDS = env_int("REPORTS_MAX_FUTURE_SECONDS", 86400, minimum=0)
# Tolerated station clock error: a play may claim to start this much before its slot began or after
# its day ended; further out, the report is refused as implausible.
REPORTS_CLOCK_SKEW_SECONDS = env_int("REPORTS_CLOCK_SKEW_SECONDS", 900, minimum=0, maximum=86400)
# A planned play stays `pending` until its slot has ended plus this grace, then it is `missed`.
COVERAGE_GRACE_SECONDS = env_int("COVERAGE_GRACE_SECONDS", 3600, minimum=0)
# How often the health sweep turns overdue stations late/silent.
STATION_HEALTH_SWEEP_SECONDS = env_int("STATION_HEALTH_SWEEP_SECONDS", 60, minimum=5)
CELERY_BEAT_SCHEDULE["stations-health-sweep"] = {
    "task": "stations.tasks.sweep_station_health",
    "schedule": float(STATION_HEALTH_SWEEP_SECONDS),
}
LOGIN_URL = "/accounts/login/"
# Each role's start page is chosen at the site root (broadcast/newsroom/home.py).
LOGIN_REDIRECT_URL = "/"
# --- end proof-of-play settings ---

# --- push settings (MQTT: the doorbell; the database stays the truth) ---
# How Loa's own processes reach the broker's internal listener, e.g. mqtt://loa:secret@127.0.0.1:1884.
# Empty: push is off and stations learn of every change by polling and heartbeats.
MQTT_URL = env_str("MQTT_URL", "")
# The station listener's address told to stations in the heartbeat reply (mqtt://host:1883, mqtts://…).
MQTT_PUBLIC_URL = env_str("MQTT_PUBLIC_URL", "")
MQTT_TOPIC_PREFIX = env_str("MQTT_TOPIC_PREFIX", "loa")
# Where the broker's generated config, password and ACL files live (see `manage.py broker_config`).
MQTT_BROKER_DIR = env_path("MQTT_BROKER_DIR", VAR_DIR / "mosquitto")
# The generated broker's listeners: stations' (0: none, TLS only), and the internal one on 127.0.0.1 for
# Loa's processes, whose user (loa) has MQTT_PASSWORD (empty: the password in MQTT_URL). With a
# certificate and key, a TLS listener for stations on MQTT_TLS_PORT too (same users and ACL).
MQTT_STATION_PORT = env_int("MQTT_STATION_PORT", 1883, minimum=0, maximum=65535)
MQTT_INTERNAL_PORT = env_int("MQTT_INTERNAL_PORT", 1884, minimum=1, maximum=65535)
MQTT_PASSWORD = env_str("MQTT_PASSWORD", "")
MQTT_TLS_PORT = env_int("MQTT_TLS_PORT", 8883, minimum=1, maximum=65535)
MQTT_TLS_CERTFILE = env_str("MQTT_TLS_CERTFILE", "")
MQTT_TLS_KEYFILE = env_str("MQTT_TLS_KEYFILE", "")
# A broker that does not answer within these never holds up a request or a task for longer.
MQTT_CONNECT_TIMEOUT_S = env_float("MQTT_CONNECT_TIMEOUT_S", 2.0, minimum=0.1, maximum=60)
MQTT_PUBLISH_TIMEOUT_S = env_float("MQTT_PUBLISH_TIMEOUT_S", 5.0, minimum=0.1, maximum=120)
# A command older than this is ignored by the station (it polls anyway).
PUSH_COMMAND_TTL_S = env_int("PUSH_COMMAND_TTL_S", 3600, minimum=10)
# A station that has not acknowledged "received" this long after the last send gets the command again;
# this long after the first send it is listed as unreachable, for a person to phone.
PUSH_RESEND_AFTER_S = env_int("PUSH_RESEND_AFTER_S", 20, minimum=1)
PUSH_UNREACHABLE_AFTER_S = env_int("PUSH_UNREACHABLE_AFTER_S", 90, minimum=2)
# How often the escalation sweep runs (beat); safe to run twice.
PUSH_ESCALATION_SECONDS = env_int("PUSH_ESCALATION_SECONDS", 5, minimum=1)
CELERY_BEAT_SCHEDULE["push-escalation-sweep"] = {
    "task": "broadcast.escalate_emergencies",
    "schedule": float(PUSH_ESCALATION_SECONDS),
}
# --- end push settings ---

# --- audio settings (owned by broadcast/audio) ---
# Read by broadcast.audio.config.AudioConfig.from_django_settings(). Engine "espeak" works offline;
# "chain" tries LOA_TTS_CHAIN in order (e.g. gtts,espeak) and records why earlier engines failed.
LOA_AUDIO: dict = {
    "ENGINE": env_str("LOA_TTS_ENGINE", "espeak"),
    "CHAIN": env_list("LOA_TTS_CHAIN", ["gtts", "espeak"]),
    "VOICE": env_str("LOA_TTS_VOICE", "vi"),
    "ESPEAK_BINARY": env_str("LOA_ESPEAK_BINARY", "espeak-ng"),
    "ESPEAK_RATE": env_int("LOA_ESPEAK_RATE", 165, minimum=80, maximum=450),
    "ESPEAK_PITCH": env_int("LOA_ESPEAK_PITCH", 50, minimum=0, maximum=99),
    "ESPEAK_TIMEOUT_S": env_float("LOA_ESPEAK_TIMEOUT", 60.0, minimum=1.0, maximum=3600.0),
    "GTTS_TIMEOUT_S": env_float("LOA_GTTS_TIMEOUT", 10.0, minimum=0.5, maximum=120.0),
    "GTTS_RETRIES": env_int("LOA_GTTS_RETRIES", 2, minimum=0, maximum=5),
    "GTTS_BACKOFF_S": env_float("LOA_GTTS_BACKOFF", 1.0, minimum=0.0, maximum=60.0),
    "GTTS_TLD": env_str("LOA_GTTS_TLD", "com.vn"),
    "GTTS_BASE_URL": env_str("LOA_GTTS_BASE_URL", ""),
    "FFMPEG_BINARY": env_str("LOA_FFMPEG_BINARY", "ffmpeg"),
    "FFPROBE_BINARY": env_str("LOA_FFPROBE_BINARY", "ffprobe"),
    "TOOL_TIMEOUT_S": env_float("LOA_AUDIO_TOOL_TIMEOUT", 600.0, minimum=5.0, maximum=7200.0),
    "TARGET_LUFS": env_float("LOA_AUDIO_TARGET_LUFS", -16.0, minimum=-40.0, maximum=-5.0),
    "TRUE_PEAK_DBTP": env_float("LOA_AUDIO_TRUE_PEAK_DBTP", -1.0, minimum=-10.0, maximum=0.0),
    "SAMPLE_RATE": env_int("LOA_AUDIO_SAMPLE_RATE", 22050, minimum=8000, maximum=48000),
    "BITRATE": env_str("LOA_AUDIO_BITRATE", "64k"),
    "CHANNELS": env_int("LOA_AUDIO_CHANNELS", 1, minimum=1, maximum=2),
    "LEAD_SILENCE_MS": env_int("LOA_AUDIO_LEAD_SILENCE_MS", 300, minimum=0, maximum=10000),
    "TAIL_SILENCE_MS": env_int("LOA_AUDIO_TAIL_SILENCE_MS", 700, minimum=0, maximum=10000),
    "SENTENCE_GAP_MS": env_int("LOA_AUDIO_SENTENCE_GAP_MS", 300, minimum=0, maximum=5000),
    "INTRO_JINGLE": env_str("LOA_AUDIO_INTRO_JINGLE", ""),
    "OUTRO_JINGLE": env_str("LOA_AUDIO_OUTRO_JINGLE", ""),
    "DEFAULT_CHIME": env_bool("LOA_AUDIO_DEFAULT_CHIME", True),
    "MAX_TEXT_CHARS": env_int("LOA_AUDIO_MAX_TEXT_CHARS", 20000, minimum=100, maximum=1_000_000),
    "MAX_UPLOAD_MB": env_int("LOA_AUDIO_MAX_UPLOAD_MB", 50, minimum=1, maximum=2048),
    "MIN_RECORDING_S": env_float("LOA_AUDIO_MIN_RECORDING_S", 1.0, minimum=0.0, maximum=600.0),
    "MAX_RECORDING_S": env_float("LOA_AUDIO_MAX_RECORDING_S", 1800.0, minimum=1.0, maximum=14400.0),
    "MAX_RECORDING_CHANNELS": env_int("LOA_AUDIO_MAX_RECORDING_CHANNELS", 2, minimum=1, maximum=8),
    "MAX_RECORDING_RATE": env_int("LOA_AUDIO_MAX_RECORDING_RATE", 48000, minimum=8000, maximum=384000),
    "DECODE_CPU_S": env_float("LOA_AUDIO_DECODE_CPU_S", 60.0, minimum=1.0, maximum=3600.0),
    "WORKERS": env_int("LOA_AUDIO_WORKERS", 2, minimum=1, maximum=16),
}
# --- end audio settings ---

# --- mail settings (newsroom notifications) ---
# Approvers are e-mailed when a bulletin waits for them, authors when theirs is approved or sent back.
# Development prints the messages on the worker's console; production names its SMTP server, e.g.
# EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend EMAIL_HOST=smtp.example.vn EMAIL_PORT=587
# EMAIL_USE_TLS=true EMAIL_HOST_USER=… EMAIL_HOST_PASSWORD=….
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1, maximum=600)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Loa <loa@localhost>")
EMAIL_SUBJECT_PREFIX = "[Loa] "
# --- end mail settings ---

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
