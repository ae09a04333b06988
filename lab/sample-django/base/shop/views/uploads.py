"""POST /uploads (multipart field ``file``, or the raw body named by ?name=), GET /uploads,
GET /uploads/<id> (the row) and GET /uploads/<id>/content (the file from MEDIA_ROOT)."""

import hashlib
import os
import tempfile

from django.conf import settings
from django.core.files import File
from django.http import FileResponse, JsonResponse
from django.utils.text import get_valid_filename

from ..models import Upload
from .api import BadRequest, api, error, limit_arg, one

CHUNK = 64 * 1024


class TooLarge(Exception):
    pass


def _copy(chunks, target):
    """Copy the chunks into ``target``, counting and hashing them; TooLarge past the limit."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > settings.UPLOAD_MAX_BYTES:
            raise TooLarge
        digest.update(chunk)
        target.write(chunk)
    target.seek(0)
    return size, digest.hexdigest()


def _raw_chunks(request):
    while True:
        chunk = request.read(CHUNK)
        if not chunk:
            return
        yield chunk


def _safe_name(name):
    name = get_valid_filename(os.path.basename(name or "")).lstrip(".")[:100]
    return name or "upload.bin"


@api("GET", "POST")
def uploads(request):
    if request.method == "GET":
        rows = Upload.objects.order_by("-id")[: limit_arg(request)]
        return JsonResponse({"uploads": [row.as_json() for row in rows]})
    if request.content_type == "multipart/form-data":
        incoming = request.FILES.get("file")
        if incoming is None:
            raise BadRequest("multipart: a file field named 'file'")
        name, content_type, chunks = incoming.name, incoming.content_type, incoming.chunks()
    else:
        name = request.GET.get("name") or request.headers.get("X-Filename")
        content_type, chunks = request.content_type, _raw_chunks(request)
    with tempfile.TemporaryFile() as spool:
        try:
            size, sha256 = _copy(chunks, spool)
        except TooLarge:
            return error(413, "TooLarge", f"at most {settings.UPLOAD_MAX_BYTES} bytes")
        if size == 0:
            raise BadRequest("the upload is empty")
        upload = Upload(
            name=_safe_name(name),
            content_type=(content_type or "application/octet-stream")[:100],
            size=size,
            sha256=sha256,
        )
        upload.file.save(upload.name, File(spool), save=False)
    try:
        upload.save()
    except Exception:
        upload.file.delete(save=False)
        raise
    return JsonResponse(upload.as_json(), status=201)


@api("GET")
def upload(request, upload_id):
    return one(Upload, upload_id)


@api("GET")
def upload_content(request, upload_id):
    found = Upload.objects.filter(pk=upload_id).first()
    if found is None:
        return error(404, "NotFound", f"no upload {upload_id}")
    if not found.file.storage.exists(found.file.name):
        return error(404, "FileMissing", f"{found.file.name} is not in the media root")
    return FileResponse(found.file.open("rb"), content_type=found.content_type)
