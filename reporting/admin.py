"""The admin of reporting: the KPI page of a programme, success stories and the sponsors'
monthly asks, each in its own module."""

from reporting import admin_kpis, admin_sponsor, admin_stories

__all__ = ["admin_kpis", "admin_sponsor", "admin_stories"]
