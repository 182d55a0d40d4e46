"""The test suite: PostgreSQL and Redis when DATABASE_URL and CELERY_BROKER_URL point at them
(as ./dev test and CI do), SQLite and the filesystem broker otherwise."""

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, DATABASES, VAR_DIR, env

DEBUG = False
SECRET_KEY = "test-only-key-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SITE_URL = "http://testserver"

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-process tests read django.core.mail.outbox (pytest-django forces locmem there anyway); a
# worker that the integration tests start is given EMAIL_URL to deliver to their SMTP server.
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# A real Celery worker (tests/integration) must reach the test database, so an SQLite test
# database lives in a file rather than in memory.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("TEST_SQLITE_NAME", default=str(VAR_DIR / "test.sqlite3"))
    }
DATABASES["default"]["CONN_MAX_AGE"] = 0

# In-process, tasks run where they are queued so a test sees their effect; the integration
# tests switch this off and hand the tasks to a real worker through the real broker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Keep the tests' messages apart from a demo running in the same checkout.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "test-broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "test-broker" / "queue"),
        "control_folder": str(VAR_DIR / "test-broker" / "control"),
        "store_processed": False,
    }

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Mail goes out at any hour in tests, so a test's outcome never depends on the time of day it
# runs; the tests of local hours set them back.
NOTIFICATIONS_LOCAL_HOURS = (0, 24)
