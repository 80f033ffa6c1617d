from django.contrib import admin
from django.urls import include, path

from integrations.sina import sina_callback, sina_failed, sina_start
from resolvers.downloads import evidence_download, non_applicability_evidence_download
from resolvers.excel_downloads import dashboard_export, import_template, results_export
from schema.views import graphql_view

admin.site.site_header = "پیشخوان مدیریت سکوی معنا"
admin.site.site_title = "سکوی معنا"
admin.site.index_title = "مدیریت"

# DEBUG off: an unhandled failure (the database down, in the admin console too) is a Persian page.
handler500 = "schema.unavailable.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Captcha images (Query.captcha gives their URLs).
    path("captcha/", include("captcha.urls")),
    path("graphql/", graphql_view, name="graphql"),
    path("evidence/<int:pk>/<str:name>", evidence_download, name="evidence-download"),
    path(
        "non-applicability-evidence/<int:pk>/<str:name>",
        non_applicability_evidence_download,
        name="non-applicability-evidence-download",
    ),
    # Excel: the import templates and the exports, checked like evidence (resolvers/excel_downloads.py).
    path("imports/template/<str:kind>.xlsx", import_template, name="import-template"),
    path("exports/results/<str:period>/<str:organization>.xlsx", results_export, name="results-export"),
    path("exports/dashboard/<str:period>.xlsx", dashboard_export, name="dashboard-export"),
    path("exports/dashboard/<str:period>/<str:organization>.xlsx", dashboard_export, name="dashboard-export-of"),
    # Sina sign-in of main leaders (integrations/sina.py). Always routed: while MANA_SINA_ENABLED is
    # off they answer 404 with the code SINA_DISABLED.
    path("auth/sina/start/", sina_start, name="sina-start"),
    path("auth/sina/callback/", sina_callback, name="sina-callback"),
    path("auth/sina/failed/", sina_failed, name="sina-failed"),
]
