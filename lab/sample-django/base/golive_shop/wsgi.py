"""WSGI entry point: ``gunicorn --chdir <release> golive_shop.wsgi:application``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "golive_shop.settings")

from django.core.wsgi import get_wsgi_application

from golive_shop.settings import check_serving_env

check_serving_env()
application = get_wsgi_application()
