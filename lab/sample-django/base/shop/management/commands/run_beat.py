"""manage.py run_beat: enqueue a heartbeat job every GOLIVE_BEAT_SECONDS until SIGTERM."""

from django.core.management.base import BaseCommand

from golive_shop.settings import check_serving_env
from shop import beat


class Command(BaseCommand):
    help = "Enqueue a heartbeat job every GOLIVE_BEAT_SECONDS until SIGTERM or SIGINT."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=None, help="seconds between jobs")

    def handle(self, *args, **options):
        check_serving_env()
        beat.run(every=options["every"])
