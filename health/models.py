from django.db import models


class Heartbeat(models.Model):
    """The last time a periodic task ran, written by a Celery worker when beat asks it to.

    One row per name, so a beat that fires twice, or a task redelivered after a crash, only
    moves the time forward: nothing accumulates.
    """

    name = models.CharField(max_length=50, unique=True)
    last_seen = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_seen:%Y-%m-%d %H:%M:%S}"
