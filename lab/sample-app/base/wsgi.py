"""WSGI entry point: ``gunicorn wsgi:app`` from the release directory."""

from golive_app import create_app

app = create_app()
