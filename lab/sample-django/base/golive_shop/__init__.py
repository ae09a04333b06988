"""golive-shop: the Django project of the lab's second sample application."""
