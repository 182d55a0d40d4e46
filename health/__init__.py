"""Liveness of the parts of a deployment: the database, the broker, and whether the Celery
worker and beat are doing their rounds.

An app of its own because it is nobody's domain: keeping it apart keeps programmes/ about
programmes, and gives /healthz and the container health checks one place to ask.
"""
