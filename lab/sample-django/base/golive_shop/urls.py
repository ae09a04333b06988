"""The URLs: the JSON API at the root, Django's admin under /admin/."""

from django.contrib import admin
from django.urls import path

from shop.views import errors, health, jobs, orders, uploads

urlpatterns = [
    path("health", health.health),
    path("orders", orders.orders),
    path("orders/<int:order_id>", orders.order),
    path("uploads", uploads.uploads),
    path("uploads/<int:upload_id>", uploads.upload),
    path("uploads/<int:upload_id>/content", uploads.upload_content),
    path("jobs", jobs.jobs),
    path("jobs/<int:job_id>", jobs.job),
    path("admin/", admin.site.urls),
]

handler400 = errors.bad_request
handler404 = errors.not_found
handler500 = errors.server_error
