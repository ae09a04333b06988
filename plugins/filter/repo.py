# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters for the app's git repository: a local path or a URL mirrored in the controller's cache."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.module_utils.six import string_types
from ansible.module_utils.six.moves.urllib.parse import unquote, urlsplit, urlunsplit

from ansible_collections.runbook.golive.plugins.module_utils._mask import mask_url, scrub, url_secrets

# The URL forms git is used with here; ext:: and fd:: (commands run by git) and the others are refused.
SCHEMES = ("https", "http", "ssh", "git+ssh", "ssh+git", "git", "file")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# git's scp-like form, [user@]host:path: a colon before any slash.
_TRANSPORT = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_SCP = re.compile(r"^(?:([^@/:\s]+)@)?([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):(?!//)(.+)\Z")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
FORMS = "https://host/path, ssh://[user@]host/path, user@host:path, file:///path or a local path"


def _text(repo):
    if repo is None:
        return ""
    if not isinstance(repo, string_types):
        raise AnsibleFilterError("golive_app_repo must be a string (a path or a URL), got %r" % type(repo).__name__)
    return to_text(repo)


def _parts(repo):
    """``(kind, scheme, user, password, url without userinfo)`` of a repository, kind one of
    ``path``, ``url``, ``scp`` or ``transport`` (git's ``<helper>::<address>``)."""
    match = _SCHEME.match(repo)
    if match:
        parts = urlsplit(repo)
        userinfo, at, hostport = parts.netloc.rpartition("@")
        user, colon, password = userinfo.partition(":")
        bare = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
        return "url", match.group(1).lower(), unquote(user) if at else "", unquote(password) if colon else "", bare
    if _TRANSPORT.match(repo):
        return "transport", repo.split("::", 1)[0], "", "", repo
    match = _SCP.match(repo)
    if match:
        return "scp", "ssh", match.group(1) or "", "", "%s:%s" % (match.group(2), match.group(3))
    return "path", "", "", "", repo


def repo_problem(repo):
    """What is wrong with ``golive_app_repo`` as a repository to mirror, one sentence; '' when nothing.

    A local path is taken as before (git reads it as it is); a URL must be one of the forms
    in ``SCHEMES`` or scp-like, without spaces or control characters.
    """
    text = _text(repo)
    kind, scheme, user, password, bare = _parts(text)
    shown = mask_url(text)
    if kind == "path":
        return ""
    if kind == "transport" or scheme.lower() not in SCHEMES:
        return "golive_app_repo %r is not a repository URL the go-live fetches: give %s" % (shown, FORMS)
    if _CONTROL.search(text):
        return "golive_app_repo %r holds a space or a control character: give the URL as git takes it, encoded" % (
            shown,
        )
    if text.startswith("-"):
        return "golive_app_repo %r starts with '-': give %s" % (shown, FORMS)
    if kind == "url":
        parts = urlsplit(text)
        try:
            parts.port  # noqa: B018 - a bad port raises ValueError here
        except ValueError:
            return "golive_app_repo %r has a bad port: give %s" % (shown, FORMS)
        if scheme == "file":
            if not parts.path.startswith("/") or parts.netloc not in ("", "localhost"):
                return "golive_app_repo %r: a file:// URL needs an absolute path, file:///path" % (shown,)
        elif not parts.hostname:
            return "golive_app_repo %r has no host: give %s" % (shown, FORMS)
        if password and scheme == "http":
            return (
                "golive_app_repo %r sends its credentials in clear over http://: use https:// "
                "(or an ssh:// URL with a deploy key)" % (shown,)
            )
        if password and scheme not in ("https",):
            return (
                "golive_app_repo %r: a password in the URL is used only with https://; "
                "%s authenticates with a key, give the URL without the password" % (shown, scheme)
            )
    return ""


def _mirror_name(bare, kind):
    """A stable directory name for the mirror of a URL: host, repository name and a hash
    of the URL without its user and password (two tokens for one repository share it)."""
    if kind == "scp":
        host, path = bare.split(":", 1)
    else:
        parts = urlsplit(bare)
        host, path = parts.hostname or "local", parts.path
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if last.endswith(".git"):
        last = last[: -len(".git")]
    digest = hashlib.sha256(to_bytes(bare if kind != "scp" else "ssh://" + host + "/" + path)).hexdigest()[:12]
    name = "%s-%s-%s.git" % (_NAME_CHARS.sub("_", host)[:60], _NAME_CHARS.sub("_", last)[:60] or "repo", digest)
    return name.lstrip(".-")


def repo_source(repo, cache_dir=""):
    """Where the go-live reads ``golive_app_repo`` from, without its secrets: ``url`` (True for
    a URL), ``dir`` (the local path, or the mirror's directory under ``cache_dir``), ``fetch_url``
    (the URL the mirror keeps: an https URL without its user and password, which the fetch sends
    in a header; any other without a password) and ``display`` (the masked form, for messages).
    """
    text = _text(repo)
    problem = repo_problem(text)
    if problem:
        raise AnsibleFilterError(problem)
    kind, scheme, user, password, bare = _parts(text)
    if kind == "path":
        return dict(url=False, dir=text, fetch_url="", display=text)
    cache_dir = _text(cache_dir).rstrip("/")
    if not cache_dir.startswith("/"):
        raise AnsibleFilterError(
            "golive_repo_cache_dir %r is not an absolute path: give a directory on the controller, "
            "e.g. ~/.cache/runbook-golive/repos" % (cache_dir,)
        )
    if kind == "scp":
        fetch_url = ("%s@%s" % (user, bare)) if user else bare
    elif scheme == "https" and password:
        fetch_url = bare
    else:
        # The user stays (ssh logs in as it); repo_problem refused a password here.
        parts = urlsplit(text)
        fetch_url = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, parts.fragment))
    return dict(
        url=True,
        dir="%s/%s" % (cache_dir, _mirror_name(bare, kind)),
        fetch_url=fetch_url,
        display=mask_url(text),
    )


def repo_auth_header(repo):
    """The HTTP header that carries an https URL's user and password (``Authorization: Basic ...``),
    or '' when it has none. Secret: only for a task with ``no_log``."""
    text = _text(repo)
    kind, scheme, user, password, bare = _parts(text)
    if kind != "url" or scheme != "https" or not password:
        return ""
    token = base64.b64encode(to_bytes("%s:%s" % (user, password))).decode("ascii")
    return "Authorization: Basic " + token


def repo_scrub(text, repo):
    """``text`` (git's error output) with every secret of ``repo`` replaced by ``********``."""
    if not text:
        return ""
    secrets = url_secrets(_text(repo))
    header = repo_auth_header(repo)
    if header:
        secrets.append(header.rpartition(" ")[2])
    return scrub(to_text(text), secrets)


class FilterModule(object):
    def filters(self):
        return {
            "repo_auth_header": repo_auth_header,
            "repo_problem": repo_problem,
            "repo_scrub": repo_scrub,
            "repo_source": repo_source,
        }
