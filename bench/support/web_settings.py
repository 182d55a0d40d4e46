"""bench/web.py's settings: the production settings, served over plain HTTP on 127.0.0.1, with
the benchmark's bare views beside the product's (support/web_urls.py). Nothing in the product
imports this; bench/web.py sets the environment the production settings require (a 50+
character SECRET_KEY, ALLOWED_HOSTS, an http:// SITE_URL with ALLOW_HTTP_SITE_URL=true,
SECURE_SSL_REDIRECT=false, STATIC_ROOT in a temporary folder)."""

from mentoring.settings.production import *  # noqa: F403

# The load runs over http://, so cookies marked Secure would never be sent back.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ROOT_URLCONF = "support.web_urls"
# Hashed names from a manifest as in production, without WhiteNoise's compression of every
# file (half a minute of collectstatic): the load runs request no static file.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
