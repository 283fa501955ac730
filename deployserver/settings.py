"""Settings, read from the environment.

Every default is the embedded one: a SQLite file, a Celery broker on the filesystem and a file
cache, all under ``DEPLOYSERVER_DATA_DIR``. ``DATABASE_URL``, ``CELERY_BROKER_URL`` and
``CACHE_URL`` switch to PostgreSQL and Redis. With ``DEBUG`` off, ``SECRET_KEY`` and
``DEPLOYSERVER_MASTER_KEY`` have no default; ``make run`` generates both once and keeps them in
``<data dir>/secrets.env``, which is read here when it exists.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from deployserver.web.csp import DEFAULT_POLICY, merge_policy

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
DATA_DIR = Path(env.str("DEPLOYSERVER_DATA_DIR", default=str(BASE_DIR / "data"))).resolve()
if (DATA_DIR / "secrets.env").exists():
    # Values already in the environment win over the file.
    env.read_env(str(DATA_DIR / "secrets.env"), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
MASTER_KEYS = [
    k.strip() for k in env.str("DEPLOYSERVER_MASTER_KEY", default="").split(",") if k.strip()
]
if DEBUG:
    SECRET_KEY = SECRET_KEY or "insecure-development-key-do-not-use-in-production"
    # A fixed development key keeps DEBUG data readable across restarts; never used with DEBUG off.
    MASTER_KEYS = MASTER_KEYS or ["ZGV2ZWxvcG1lbnQtb25seS1tYXN0ZXIta2V5LTMyYnk="]
missing = [
    name
    for name, value in (("SECRET_KEY", SECRET_KEY), ("DEPLOYSERVER_MASTER_KEY", MASTER_KEYS))
    if not value
]
if missing:
    raise ImproperlyConfigured(
        f"{' and '.join(missing)} must be set when DEBUG is off "
        "(make run generates both in the data directory)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "deployserver.core",
    "feeds",
    "releases",
    "deployments",
    "triggers",
    "notifications",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "deployserver.web.csp.ContentSecurityPolicyMiddleware",
    "deployserver.web.errors.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "deployserver.urls"
WSGI_APPLICATION = "deployserver.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "deployserver.web.context.access",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'deployserver.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and worker share the file: wait for locks instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "deployserver",
        }
    }
elif CACHE_URL:
    CACHES = {"default": env.cache_url_config(CACHE_URL)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The site's stylesheets and scripts, beside its templates.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Security headers and cookies. DEPLOYSERVER_HTTPS=1 (or SESSION_COOKIE_SECURE=1, its older
# name) says users reach the server over HTTPS only: cookies are Secure and responses to HTTPS
# requests carry Strict-Transport-Security.
HTTPS = env.bool("DEPLOYSERVER_HTTPS", default=False) or env.bool(
    "SESSION_COOKIE_SECURE", default=False
)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Only behind a TLS-terminating proxy that sets X-Forwarded-Proto itself (and strips the
# client's): otherwise any client could claim its plain-HTTP request was HTTPS.
if env.bool("DEPLOYSERVER_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy of every response (deployserver.web.csp): scripts from this site only.
# DEPLOYSERVER_CSP_EXTRA adds sources, e.g. "img-src https://avatars.example.org".
CONTENT_SECURITY_POLICY = merge_policy(
    DEFAULT_POLICY, env.str("DEPLOYSERVER_CSP_EXTRA", default="")
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "deployserver.core.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["deployserver.web.permissions.SignedIn"],
    "DEFAULT_PAGINATION_CLASS": "deployserver.web.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["deployserver.web.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "deployserver.web.schema.AutoSchema",
    "EXCEPTION_HANDLER": "deployserver.web.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "deployserver.web.errors.JSONBodyParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "deployserver API",
    "DESCRIPTION": "Feeds, projects, releases and deployments of Docker images to AWS ECS.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs need a signed-in user or an API key, like the rest of /api/.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from the package, not a CDN: the server may have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Deployments and drift rows both have a "state": name each set of choices.
    "ENUM_NAME_OVERRIDES": {
        "DriftStateEnum": "deployments.models.ServiceDrift.State",
        "DeploymentStateEnum": "deployments.models.Deployment.State",
    },
}

# Celery: JSON only, explicit limits. The embedded broker is a pair of folders on disk.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = DATA_DIR / "broker"
    # kombu's filesystem transport expects its folders to exist.
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=3600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3900)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="deployserver")
CELERY_BEAT_SCHEDULE: dict = {}

# Deployment engine: a waiting rollout is checked every DEPLOYSERVER_ROLLOUT_POLL_SECONDS by check
# rounds (sent for when checks are due; beat sends one every DEPLOYSERVER_CHECK_SECONDS too, in
# case a message was lost). The worker heartbeat, and the reaper that fails deployments whose
# worker vanished mid-action (heartbeat older than DEPLOYSERVER_WORKER_LOST_SECONDS).
DEPLOYSERVER_ROLLOUT_POLL_SECONDS = env.float("DEPLOYSERVER_ROLLOUT_POLL_SECONDS", default=3.0)
_check_seconds = env.float("DEPLOYSERVER_CHECK_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE["deployments-check"] = {
    "task": "deployments.check",
    "schedule": _check_seconds,
    "options": {"expires": max(_check_seconds * 2, 10.0)},
}
DEPLOYSERVER_HEARTBEAT_SECONDS = env.float("DEPLOYSERVER_HEARTBEAT_SECONDS", default=5.0)
DEPLOYSERVER_WORKER_LOST_SECONDS = env.float("DEPLOYSERVER_WORKER_LOST_SECONDS", default=45.0)
CELERY_BEAT_SCHEDULE["deployments-reap"] = {
    "task": "deployments.reap",
    "schedule": env.float("DEPLOYSERVER_REAPER_SECONDS", default=10.0),
}
# The dispatcher sends again, every DEPLOYSERVER_DISPATCH_SECONDS, the run of queue heads never
# sent (the queue was unreachable) or last sent over DEPLOYSERVER_REDISPATCH_SECONDS ago.
DEPLOYSERVER_REDISPATCH_SECONDS = env.float("DEPLOYSERVER_REDISPATCH_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE["deployments-dispatch"] = {
    "task": "deployments.dispatch",
    "schedule": env.float("DEPLOYSERVER_DISPATCH_SECONDS", default=5.0),
}
# Release retention (each lifecycle's "keep the last N releases / N days"), hourly by default.
CELERY_IMPORTS = ["deployments.tasks", "triggers.tasks", "notifications.tasks"]
# A deployment awaiting approval longer than this many days is cancelled (checked hourly).
DEPLOYSERVER_APPROVAL_EXPIRY_DAYS = env.float("DEPLOYSERVER_APPROVAL_EXPIRY_DAYS", default=7.0)
CELERY_BEAT_SCHEDULE["deployments-expire-approvals"] = {
    "task": "deployments.expire-approvals",
    "schedule": env.float("DEPLOYSERVER_APPROVAL_EXPIRY_CHECK_SECONDS", default=3600.0),
}
CELERY_BEAT_SCHEDULE["releases-retention"] = {
    "task": "deployments.retention",
    "schedule": env.float("DEPLOYSERVER_RETENTION_SECONDS", default=3600.0),
}

# Drift: every DRIFT_CHECK_SECONDS a round compares each ECS service with what the last successful
# deployment set there; a service short of tasks (or a rollout in progress) for longer than
# DRIFT_GRACE_SECONDS is "degraded".
DRIFT_CHECK_SECONDS = env.float("DRIFT_CHECK_SECONDS", default=300.0)
DRIFT_GRACE_SECONDS = env.float("DRIFT_GRACE_SECONDS", default=300.0)
CELERY_BEAT_SCHEDULE["deployments-drift"] = {
    "task": "deployments.drift",
    "schedule": DRIFT_CHECK_SECONDS,
    "options": {"expires": DRIFT_CHECK_SECONDS},
}

# AWS: botocore's adaptive retries and short timeouts, so a dead endpoint fails fast.
AWS_CONNECT_TIMEOUT = env.float("AWS_CONNECT_TIMEOUT", default=3.0)
AWS_READ_TIMEOUT = env.float("AWS_READ_TIMEOUT", default=10.0)
AWS_MAX_ATTEMPTS = env.int("AWS_MAX_ATTEMPTS", default=5)

# How long a registry's repository and tag listings are cached (refresh=1 bypasses it).
FEED_CACHE_SECONDS = env.int("FEED_CACHE_SECONDS", default=60)

# Feed triggers: beat checks every triggered feed every FEED_TRIGGER_SECONDS (a push hook checks
# one feed at once); a trigger failing FEED_TRIGGER_UNHEALTHY_AFTER times in a row is unhealthy.
FEED_TRIGGER_SECONDS = env.float("FEED_TRIGGER_SECONDS", default=60.0)
FEED_TRIGGER_UNHEALTHY_AFTER = 10
CELERY_BEAT_SCHEDULE["triggers-poll"] = {
    "task": "triggers.poll",
    "schedule": FEED_TRIGGER_SECONDS,
}
# Push hooks: wrong tokens from one address within the window before 429.
DEPLOYSERVER_HOOK_ATTEMPTS = env.int("DEPLOYSERVER_HOOK_ATTEMPTS", default=20)
DEPLOYSERVER_HOOK_WINDOW_SECONDS = env.int("DEPLOYSERVER_HOOK_WINDOW_SECONDS", default=60)

# Webhooks: events are recorded with the change that causes them (the outbox) and delivered at
# once; beat's round every DEPLOYSERVER_EVENTS_SECONDS picks up what a lost message left behind
# and the retries that are due. Links in payloads start with DEPLOYSERVER_PUBLIC_URL.
DEPLOYSERVER_EVENTS_SECONDS = env.float("DEPLOYSERVER_EVENTS_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE["notifications-dispatch"] = {
    "task": "notifications.dispatch",
    "schedule": DEPLOYSERVER_EVENTS_SECONDS,
}
DEPLOYSERVER_EVENTS_KEEP_DAYS = env.int("DEPLOYSERVER_EVENTS_KEEP_DAYS", default=30)
CELERY_BEAT_SCHEDULE["notifications-purge"] = {"task": "notifications.purge", "schedule": 3600.0}
DEPLOYSERVER_PUBLIC_URL = env.str("DEPLOYSERVER_PUBLIC_URL", default="http://127.0.0.1:8000")
# Retry delays (s) after each failed attempt, before jitter; 7 attempts over about 42 minutes.
DEPLOYSERVER_WEBHOOK_BACKOFF = [
    float(x)
    for x in env.list(
        "DEPLOYSERVER_WEBHOOK_BACKOFF", default=["10", "30", "120", "300", "900", "1200"]
    )
]
DEPLOYSERVER_WEBHOOK_TIMEOUT = env.float("DEPLOYSERVER_WEBHOOK_TIMEOUT", default=5.0)

# Brute force: failed sign-ins per account (and 4x that per address) lock sign-in for the
# window; invalid API keys per address within their window answer 429.
DEPLOYSERVER_LOGIN_ATTEMPTS = env.int("DEPLOYSERVER_LOGIN_ATTEMPTS", default=5)
DEPLOYSERVER_LOGIN_LOCKOUT_SECONDS = env.int("DEPLOYSERVER_LOGIN_LOCKOUT_SECONDS", default=900)
DEPLOYSERVER_API_KEY_ATTEMPTS = env.int("DEPLOYSERVER_API_KEY_ATTEMPTS", default=20)
DEPLOYSERVER_API_KEY_WINDOW_SECONDS = env.int("DEPLOYSERVER_API_KEY_WINDOW_SECONDS", default=60)

# Where feed, AWS endpoint and webhook connections may go (deployserver.core.endpoints): "private"
# (loopback and link-local refused), "public" (public addresses only) or "any" (sandbox, tests).
# Cloud metadata addresses are refused under every policy.
DEPLOYSERVER_ENDPOINT_POLICY = env.str("DEPLOYSERVER_ENDPOINT_POLICY", default="private")
if DEPLOYSERVER_ENDPOINT_POLICY not in ("private", "public", "any"):
    raise ImproperlyConfigured(
        "DEPLOYSERVER_ENDPOINT_POLICY must be 'private', 'public' or 'any', "
        f"not {DEPLOYSERVER_ENDPOINT_POLICY!r}"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "werkzeug": {"level": "WARNING"},
    },
}
