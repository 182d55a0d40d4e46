"""What a pair's life tells the apps above it, which pairs/ never imports: each connects its
receivers in its ``AppConfig.ready``.

- ``pair_activity``: sent once a change to a pair's sessions or pulses has committed
  (``pair_id``). The at-risk detection looks at the pair again.
- ``partners_found``: sent inside the transaction that gives people a new pair
  (``participant_ids``, ``now``). Whatever waited for them to have a partner is settled.
- ``pair_closing``: sent inside the transaction that ends a pair (``pair``). Each receiver
  answers a ``Q`` over the outbox rows it asked about the pair; those still unsent are
  cancelled with the pair's own, in one UPDATE.
"""

from django.db import transaction
from django.dispatch import Signal

pair_activity = Signal()
partners_found = Signal()
pair_closing = Signal()


def pair_activity_on_commit(*, pair_id: int) -> None:
    """Send ``pair_activity`` once the current transaction commits. A receiver that fails is
    logged, never undoes or fails the change that called this."""
    transaction.on_commit(
        lambda: pair_activity.send_robust(sender=None, pair_id=pair_id), robust=True
    )
