"""GET/POST /items: reads and writes the items table."""

from flask import Blueprint, jsonify, request
from sqlalchemy import text

from .db import engine

bp = Blueprint("items", __name__)

COLUMNS = "id, name, note, created_at"
MAX_NAME = 500


def _row(row):
    return {
        "id": row.id,
        "name": row.name,
        "note": row.note,
        "created_at": row.created_at.isoformat(),
    }


@bp.get("/items")
def list_items():
    limit = min(max(request.args.get("limit", 10, type=int), 1), 100)
    with engine().connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM items")).scalar_one()
        rows = conn.execute(
            text(f"SELECT {COLUMNS} FROM items ORDER BY id DESC LIMIT :limit"), {"limit": limit}
        ).all()
    return jsonify(count=count, items=[_row(row) for row in rows])


@bp.post("/items")
def create_item():
    body = request.get_json(silent=True) or {}
    name = body.get("name")
    note = body.get("note", "")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        return jsonify(error="BadRequest", detail=f"name: a string of 1-{MAX_NAME} chars"), 400
    if not isinstance(note, str):
        return jsonify(error="BadRequest", detail="note: a string"), 400
    with engine().begin() as conn:
        row = conn.execute(
            text(f"INSERT INTO items (name, note) VALUES (:name, :note) RETURNING {COLUMNS}"),
            {"name": name, "note": note},
        ).one()
    return jsonify(_row(row)), 201
