"""golive-app: the sample application that the lab deploys."""

import logging
import sys

from flask import Flask, jsonify

from . import auth, health, items

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def create_app():
    """Build the Flask application; errors go to stderr (journald) with a traceback."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format=LOG_FORMAT)
    app = Flask(__name__)
    app.json.sort_keys = False
    app.register_blueprint(health.bp)
    app.register_blueprint(items.bp)
    app.register_blueprint(auth.bp)

    @app.errorhandler(500)
    def internal_error(_error):
        # Flask has already logged "ERROR ... Exception on <path>" with the traceback.
        return jsonify(status="error", error="internal server error"), 500

    return app
