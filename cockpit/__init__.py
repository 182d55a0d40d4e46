"""The managers' cockpit: the admin pages that bring together what several apps know.

The programme, cohort and pair lists of the admin show figures that pairs, surveys and risks
keep (sessions held, pulses answered, open flags) and link to pages of reporting and risks
(the KPI page, the seven-day diagnosis). An app of its own, at the top of the layers, because
no domain app may import the apps above it; each domain app registers the admin pages of its
own models.
"""
