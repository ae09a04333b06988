"""manage.py run_worker, manage.py run_beat."""
