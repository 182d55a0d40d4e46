"""What the programme's intake tells the apps above it, which programmes/ never imports: each
connects its receivers in its ``AppConfig.ready``.

- ``intake_submitted``: sent inside the transaction that saves a complete intake
  (``participant``, ``confidence``: {key skill id: 1–5}, ``now``). surveys/ keeps the
  confidence ratings, the intake's among them as each skill's baseline.
"""

from django.dispatch import Signal

intake_submitted = Signal()
