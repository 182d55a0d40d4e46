"""Settings, split by environment: ``dev`` (the default for manage.py), ``test`` and
``production``. Every value that differs between deployments comes from an environment
variable, read in ``base`` with django-environ; the README lists them all."""
