"""manage.py run_worker: run the jobs table's queued jobs until SIGTERM."""

from django.core.management.base import BaseCommand

from golive_shop.settings import check_serving_env
from shop import worker


class Command(BaseCommand):
    help = "Run queued jobs (SELECT ... FOR UPDATE SKIP LOCKED) until SIGTERM or SIGINT."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--poll", type=float, default=None, help="seconds between looks when idle"
        )

    def handle(self, *args, **options):
        check_serving_env()
        worker.run(poll=options["poll"])
