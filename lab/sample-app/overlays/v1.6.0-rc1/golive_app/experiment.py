"""GET /v1/experiment: an experiment that has not been merged to main."""

from flask import Blueprint, jsonify

bp = Blueprint("experiment", __name__, url_prefix="/v1")


@bp.get("/experiment")
def experiment():
    return jsonify(experiment="recommendations", enabled=True)
