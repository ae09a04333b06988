"""The JSON API: health, orders, uploads and jobs."""
