from django.contrib import admin
from django.urls import include, path

from health.views import healthz
from mentoring import views

admin.site.site_header = "Reverse mentoring: programme administration"
admin.site.site_title = "Reverse mentoring admin"
admin.site.index_title = "Programmes, people and pairs"
# Wide lists (participants, pairs, flags) need the room more than a second navigation.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("", include("programmes.urls")),
    path("", include("surveys.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
