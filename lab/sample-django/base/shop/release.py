"""Which release this code is: RELEASE.json, written next to the code by the deploy."""

import json

from django.conf import settings

# settings.BASE_DIR is the resolved release directory: a process reports the release it
# was loaded from, even after the ``current`` symlink has moved on.
RELEASE_FILE = settings.BASE_DIR / "RELEASE.json"


def load_release():
    """Return the release's metadata: version (tag), sha (full commit), release_id."""
    try:
        with RELEASE_FILE.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {"version": "unknown", "sha": "unknown", "release_id": "unknown"}


RELEASE = load_release()
