from django.contrib import admin
from django.urls import include, path

from health.views import healthz
from mentoring import views
from programmes import views as programme_views

admin.site.site_header = "Reverse mentoring: programme administration"
admin.site.site_title = "Reverse mentoring admin"
admin.site.index_title = "Programmes, people and pairs"
# Wide lists (participants, pairs, flags) need the room more than a second navigation.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("", include("programmes.urls")),
    path("", include("pairs.urls")),
    path("", include("surveys.urls")),
    path("", include("risks.urls")),
    path("", include("reporting.urls")),
    # Django's sign-in and password views, two of them with our own e-mail links and wording.
    path("accounts/after-login/", programme_views.after_login, name="after_login"),
    path(
        "accounts/password_reset/",
        programme_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        programme_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
