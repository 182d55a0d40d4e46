"""Realistic demo data for one organisation, built by ``manage.py demo``.

An app of its own because it reaches into every other app (people, matching, pulses...),
which none of them should do to each other. Each area adds a step module here and one line to
``STEPS`` in ``demo/build.py``; steps run in order inside one transaction.
"""
