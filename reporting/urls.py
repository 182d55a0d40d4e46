from django.urls import path, register_converter

from reporting import sponsor_views

app_name = "reporting"

register_converter(sponsor_views.MonthConverter, "yyyy_mm")

# The sponsors' status pages (reporting/sponsor_views.py).
urlpatterns = [
    path("sponsor/", sponsor_views.sponsor_index, name="sponsor_index"),
    path("sponsor/<slug:slug>/", sponsor_views.sponsor_programme, name="sponsor_programme"),
    path(
        "sponsor/<slug:slug>/<yyyy_mm:month>/",
        sponsor_views.sponsor_status,
        name="sponsor_status",
    ),
    path(
        "sponsor/<slug:slug>/<yyyy_mm:month>/figures.csv",
        sponsor_views.sponsor_figures_csv,
        name="sponsor_figures_csv",
    ),
    path(
        "sponsor/<slug:slug>/charts/<str:kpi>.svg",
        sponsor_views.sponsor_chart,
        name="sponsor_chart",
    ),
]
