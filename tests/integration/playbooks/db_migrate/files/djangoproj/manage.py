"""manage.py of the minimal Django project db_migrate's integration test migrates."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "golive_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
