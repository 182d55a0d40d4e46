"""Production: every secret and address comes from the environment and has no default, so a
missing one stops the process at boot rather than running with a guess."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import BASE_DIR, REQUIRED_IN_PRODUCTION, env, env_bool

_missing = [name for name in REQUIRED_IN_PRODUCTION if not env.str(name, default="").strip()]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
# Every participant link and password-reset link is signed with it: refuse one that could be
# guessed, by the same rule as Django's own deployment check (security.W009).
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
    raise ImproperlyConfigured(
        "SECRET_KEY must be at least 50 characters with at least 5 different ones, and not "
        "Django's generated 'django-insecure-' key; generate one with: python3 -c "
        '"import secrets; print(secrets.token_urlsafe(50))"'
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
SITE_URL = env.str("SITE_URL").rstrip("/")
if not SITE_URL.startswith("https://") and not env_bool("ALLOW_HTTP_SITE_URL", default=False):
    raise ImproperlyConfigured("SITE_URL must start with https:// in production")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (the usual deployment).
if env_bool("USE_X_FORWARDED_PROTO", default=True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
# The container health check calls /healthz over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading a domain into browsers is a decision for whoever owns the domain, and hard to
# undo, so it is opt-in; Django's reminder about it is silenced for that reason alone.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# PostgreSQL's JIT compiles a query when the planner's cost estimate passes jit_above_cost.
# The admin lists' page queries (a LIMIT over correlated subqueries) are estimated far above
# it although they read a page of rows, so JIT spent 0.1-1.4 s compiling for queries that run
# in milliseconds (docs/performance.md, "Admin lists"). It is off for this project's
# connections unless POSTGRES_JIT=true; the server's own setting is left alone. The workers
# share these settings: whether JIT would repay the KPI task's large aggregate is not
# measured (bench/kpis.py with POSTGRES_JIT=true would say).
if "postgresql" in DATABASES["default"]["ENGINE"] and not env_bool(  # noqa: F405
    "POSTGRES_JIT", default=False
):
    options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

ADMINS = [("Operations", a) for a in env.list("ADMIN_EMAILS", default=[])]
