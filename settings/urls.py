from django.contrib import admin
from django.urls import path

from resolvers.downloads import evidence_download
from schema.views import graphql_view

admin.site.site_header = "پیشخوان مدیریت سکوی معنا"
admin.site.site_title = "سکوی معنا"
admin.site.index_title = "مدیریت"

# DEBUG off: an unhandled failure (the database down, in the admin console too) is a Persian page.
handler500 = "schema.unavailable.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", graphql_view, name="graphql"),
    path("evidence/<int:pk>/<str:name>", evidence_download, name="evidence-download"),
]
