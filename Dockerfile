# syntax=docker/dockerfile:1
# The production image: one image for web (gunicorn), the Celery worker, beat and the
# migrate step; docker-compose.yml picks the process with `command:`.

# --- Stage 1: front-end assets from the npm registry (pinned in package-lock.json) ------------
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# --- Stage 2: the application ------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_SETTINGS_MODULE=mentoring.settings.production
# gunicorn reads its worker count from WEB_CONCURRENCY; override it per deployment.
ENV WEB_CONCURRENCY=3

# The processes run as this unprivileged user; the code and collected static files stay
# owned by root, so the app cannot rewrite them.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, from pyproject.toml and constraints.txt alone, so a code change does not
# reinstall them. `--group` needs pip 25.1 or later; ./dev pins the same pip.
COPY pyproject.toml constraints.txt ./
RUN pip install --no-cache-dir "pip==26.3" \
    && pip install --no-cache-dir --group runtime -c constraints.txt

COPY . .
COPY --from=assets /build/node_modules/bootstrap/dist ./node_modules/bootstrap/dist

# The production settings refuse to load without their required variables. These dummy
# values exist for this one RUN line only (collectstatic touches neither the database, the
# broker nor e-mail) and are not baked into the image.
RUN SECRET_KEY=build-only-not-a-secret \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build:build@build.invalid:5432/build \
    CELERY_BROKER_URL=redis://build.invalid:6379/0 \
    SITE_URL=https://build.invalid \
    EMAIL_URL=consolemail:// \
    python manage.py collectstatic --noinput

USER app

EXPOSE 8000

# Worker heartbeat files go to /dev/shm (memory) rather than the container's disk.
CMD ["gunicorn", "mentoring.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--timeout", "30", \
     "--graceful-timeout", "30", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--error-logfile", "-"]
