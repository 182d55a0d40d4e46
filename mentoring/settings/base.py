from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from lib.clients import parse_networks

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# Production has no defaults for these (see production.py); the others all have one.
REQUIRED_IN_PRODUCTION = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "SITE_URL",
    "EMAIL_URL",
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean strictly: a typo such as ``DEBUG=flase`` fails at boot instead of
    silently meaning False (django-environ's own parser treats any unknown word as False)."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/yes/no/on/off/1/0, not {raw!r}")


DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

# Every absolute link (e-mails, .ics files, participant links) is built from SITE_URL, never
# from the request's Host header, which a client controls.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "auditlog",
    # The layers, lowest first (docs/architecture.md): an app imports only apps listed before it.
    "audit",
    "notifications",
    "programmes",
    "pairs",
    "matching",
    "surveys",
    "risks",
    "reporting",
    "cockpit",
    "health",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mentoring.middleware.RefuseUnreadableInput",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mentoring.urls"
WSGI_APPLICATION = "mentoring.wsgi.application"
ASGI_APPLICATION = "mentoring.asgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out account or client is refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
# Managers to the admin, sponsors to their programmes, anyone else home (after_login); a
# ?next= still wins.
LOGIN_REDIRECT_URL = "after_login"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "French"), ("de", "German"), ("es", "Spanish")]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Installed from the npm registry by ./dev setup (and by the Dockerfile); never copied
    # into the repository, never loaded from a CDN.
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# A mail server that stops answering must not hold a send for ever: the outbox's lease
# (NOTIFICATIONS_LEASE_SECONDS) has to outlast the longest send.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Reverse mentoring <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The most pairs one person may mentor at once across all programmes: the same few
# under-represented colleagues otherwise get asked again and again. The initial value of the
# organisation settings' load cap (programmes/models/organisation.py), which organisation
# administrators change in the admin.
MAX_MENTORING_LOAD = env.int("MAX_MENTORING_LOAD", default=2)

# --- The audit trail (audit/) ----------------------------------------------------------------
# audit.AuditEntry extends django-auditlog's abstract entry with the event and the programme.
# It is a model of its own, not swapped in for auditlog's (whose migrations create their table
# whatever the setting, which Django's flush then cannot empty); auditlog's own table stays
# empty. No address is kept: the trail says who did what.
AUDITLOG_DISABLE_REMOTE_ADDR = True

# --- Who is asking ---------------------------------------------------------------------------
# Addresses (or CIDR networks) of the reverse proxies in front of the web processes. A request
# from one of them is attributed to the right-most X-Forwarded-For address that is not itself
# a trusted proxy (lib.clients.client_ip); from anywhere else, X-Forwarded-For is ignored.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
try:
    parse_networks(TRUSTED_PROXIES)
except ValueError as error:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from error

# --- Sign-in throttling (django-axes) -------------------------------------------------------
# Failed sign-ins are counted in the database, which every web process shares, per account and
# per client (programmes.sign_in.LoginThrottle): five in a row lock the account, twenty lock the
# client whatever usernames it tries, each for AXES_COOLOFF_TIME after the last failure. Both
# /accounts/login/ and /admin/login/ are covered; the lockout page offers a password reset.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = 5
AXES_CLIENT_FAILURE_LIMIT = 20
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_HANDLER = "programmes.sign_in.LoginThrottle"
AXES_CLIENT_IP_CALLABLE = "lib.clients.client_ip"
AXES_USERNAME_CALLABLE = "programmes.sign_in.attempted_username"
AXES_LOCKOUT_CALLABLE = "programmes.sign_in.locked_out"
# Its start-up banner on every manage.py command says nothing an operator needs.
AXES_VERBOSE = False
# Failures while locked out do not extend the lockout, so the page can say when it ends (and
# a stranger cannot keep someone locked out for longer than one cool-off per burst).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not wipe the client's count: otherwise signing in to one's own account between
# guesses at another would reset the per-client limit.
AXES_RESET_ON_SUCCESS = False
# Attempts are read with manage.py axes_list_attempts and cleared with axes_reset_username /
# axes_reset_ip, not in the admin.
AXES_ENABLE_ADMIN = False

# --- Password reset ---------------------------------------------------------------------------
# Reset e-mails go through the outbox; at most this many per address in the short and the long
# window, and per client per hour (programmes.password_resets).
PASSWORD_RESET_PER_ADDRESS = (1, timedelta(minutes=15))
PASSWORD_RESET_PER_ADDRESS_DAILY = (3, timedelta(days=1))
PASSWORD_RESET_PER_CLIENT = (10, timedelta(hours=1))

# --- Content-Security-Policy (django-csp) -----------------------------------------------------
# Scripts and styles come only from our own static files: no inline script or style element,
# style attribute or event-handler attribute anywhere (tests/security/test_headers.py scans the
# templates and the Python that writes HTML). Bootstrap's
# stylesheet draws its form controls with data: SVG images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Celery ---------------------------------------------------------------------------------
# With no CELERY_BROKER_URL the app uses kombu's filesystem transport under var/, so a worker
# and beat run with no server at all; production and CI set a Redis URL.
BROKER_DIR = VAR_DIR / "broker"
# "localhost" only to spare kombu a warning: the transport has no host.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# A task whose worker dies mid-run is redelivered (acks_late + reject_on_worker_lost), so
# every task must be idempotent; prefetching one at a time keeps redelivery to that one task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every task has a soft and a hard limit; a task may set lower ones, never higher ones.
CELERY_TASK_SOFT_TIME_LIMIT = 5 * 60
CELERY_TASK_TIME_LIMIT = 6 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request must fail fast when the broker is down: every task we publish has
# its row in the database (an outbox message, a matching run) or a scan behind it, and beat's
# sweep or scan publishes it again, so one quick retry is enough. Celery's default (three
# retries, 0.2 s apart) made each failed publish cost 0.6 s; the connection attempt itself is
# bounded by the timeouts below (2 s for a broker that does not answer at all). After one
# failure notifications.sending.publish skips the broker for 30 s (docs/operations.md).
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Redis redelivers a message that was not acknowledged within the visibility timeout.
    # It must be longer than the longest task time limit above (6 minutes) and than any
    # countdown or ETA (we use none longer than a few minutes: reminders are found by beat's
    # "what is due" scans), or a slow task would run twice and a long countdown run again
    # and again. One hour leaves a wide margin; a worker killed outright gets its task back
    # after it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 60 * 60,
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
    }

# The one beat schedule. Exactly one beat process must run per deployment.
# Participants' and sponsors' mail goes out between these hours where they live (from, to).
NOTIFICATIONS_LOCAL_HOURS = (8, 20)
# How long one send owns an outbox row before the sweep may hand it to another worker; well
# above a slow mail server's time to accept a message.
NOTIFICATIONS_LEASE_SECONDS = env.int("NOTIFICATIONS_LEASE_SECONDS", default=300)
# How long a matching run's worker owns the run without reporting a stage before the sweep
# hands the run to another worker; below the broker's one-hour visibility timeout.
MATCHING_LEASE_SECONDS = env.int("MATCHING_LEASE_SECONDS", default=300)
# Sponsors never see a figure computed from fewer people than this (a programme may ask for
# more with its own minimum group size, never fewer). The initial value of the organisation
# settings' minimum group, which organisation administrators change in the admin.
SPONSOR_MIN_GROUP = env.int("SPONSOR_MIN_GROUP", default=5)

CELERY_BEAT_SCHEDULE = {
    "health-heartbeat": {
        "task": "health.tasks.record_heartbeat",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # The outbox's sweep: messages held for a local hour, waiting after a failed attempt, lost
    # with the broker, or left by a worker that died mid-send.
    "sweep-notifications": {
        "task": "notifications.tasks.sweep_notifications",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Matching runs lost with the broker or left by a worker that died mid-run: handed out
    # again, or failed after three attempts (matching/runs.py).
    "sweep-matching-runs": {
        "task": "matching.tasks.sweep_matching_runs",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Pulse requests go out an hour after each session ends; the scan also re-queues any
    # request whose e-mail was not sent (a failed send, a task lost with the broker).
    "request-due-pulses": {
        "task": "surveys.tasks.request_due_pulses",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    # Reminders are found by "what is due" scans, never by long countdowns: intake (3 and 7
    # days after the invitation), agreement (3 days after the introduction), session (24
    # hours ahead); the pulse nudge (48 hours after its request) and the programme questions.
    "send-due-intake-reminders": {
        "task": "programmes.tasks.send_due_intake_reminders",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    "send-due-reminders": {
        "task": "pairs.tasks.send_due_reminders",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    "send-due-survey-reminders": {
        "task": "surveys.tasks.send_due_survey_reminders",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    # The check-in after two missed or cancelled sessions in a row, and pairs whose pause is
    # over made active again (risks/checkins.py).
    "send-due-checkins": {
        "task": "risks.tasks.send_due_checkins",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    # The managers' weekly digest (Monday 08:00) and the sponsors' monthly status (first
    # working day, 08:00), both in TIME_ZONE; due for days, so an outage delays, not loses.
    "send-due-digests": {
        "task": "risks.tasks.send_due_digests",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    "send-due-sponsor-statuses": {
        "task": "reporting.tasks.send_due_sponsor_statuses",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    # At-risk flags: the whole scan hourly (rules such as "no session for 30 days" come due
    # with the clock); pulses and session changes also queue a scan of their pair.
    "detect-risks": {
        "task": "risks.tasks.detect_risks",
        "schedule": 3600.0,
        "options": {"expires": 3300},
    },
    # The risk score's weights, refitted nightly on the ended pairs of earlier cohorts
    # (risks/learning.py); the same data gives the same weights, so a run twice is harmless.
    "refit-risk-models": {
        "task": "risks.tasks.refit_risk_models",
        "schedule": 86400.0,
        "options": {"expires": 82800},
    },
    # The KPI snapshots, computed nightly (02:00 in each programme's time zone); a scan finds
    # programmes whose night has come, so an outage delays the figures rather than skips them.
    "compute-due-kpis": {
        "task": "reporting.tasks.compute_due_kpis",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
