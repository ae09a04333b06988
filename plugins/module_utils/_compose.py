# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: Docker Compose releases by image tag. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import tempfile

from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError
from ansible_collections.runbook.golive.plugins.module_utils._io import write_file
from ansible_collections.runbook.golive.plugins.module_utils._run import run

# What Docker accepts as an image tag.
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
IMAGE_ID_RE = re.compile(r"^sha256:[0-9a-f]{64}\Z")
DIGEST_REF_RE = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}\Z")
DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
LABEL_PROJECT = "com.docker.compose.project"
LABEL_SERVICE = "com.docker.compose.service"
LABEL_ONEOFF = "com.docker.compose.oneoff"


# ---------------------------------------------------------------- pure logic


def project_name(directory, name=None):
    """The compose project name: ``name``, or the directory's, normalised as compose does."""
    raw = name if name else os.path.basename(os.path.normpath(directory))
    norm = re.sub(r"[^a-z0-9_-]", "", raw.lower()).lstrip("_-")
    if not norm:
        raise GoliveError(
            "cannot derive a compose project name from %r; give project_name (lower case letters, digits, - and _)"
            % raw
        )
    if name and norm != name:
        raise GoliveError(
            "project_name %r is not a valid compose project name; use %r (lower case letters, digits, - and _)"
            % (name, norm)
        )
    return norm


def split_image(ref):
    """``registry:5000/repo/app:v1`` -> (``registry:5000/repo/app``, ``v1``); no tag -> ``latest``.

    A digest reference (``repo@sha256:...``) has no tag: (repo, None).
    """
    if not ref:
        return None, None
    if "@" in ref:
        return ref.split("@", 1)[0], None
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1 :]
    return ref, "latest"


def default_variable(service):
    """The env-file variable that holds a service's tag: ``admin-bot`` -> ``ADMIN_BOT_TAG``."""
    return re.sub(r"[^A-Za-z0-9]", "_", service).upper() + "_TAG"


def validate_tags(desired):
    for service, tag in sorted(desired.items()):
        if tag is None or not TAG_RE.match(str(tag)):
            raise GoliveError(
                "tag %r for service %s is not a valid image tag (letters, digits, _ . -, at most 128,"
                " not starting with . or -); give the release's tag, for example v1.4.2" % (tag, service)
            )


def parse_env(text):
    """KEY=VALUE lines of an env file (comments, blanks and ``export`` ignored; quotes removed)."""
    values = {}
    for line in (text or "").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        key, value = stripped.split("=", 1)
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export ") :].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


def update_env(text, updates):
    """``text`` with each KEY of ``updates`` set to its value: the line replaced in place
    (its first occurrence; later duplicates dropped, since the last one would win), or appended.
    Every other line is kept as it was."""
    out = []
    done = set()
    for line in (text or "").splitlines():
        stripped = line.strip()
        key = None
        if stripped and not stripped.startswith("#") and "=" in stripped:
            key = stripped.split("=", 1)[0].strip()
            if key.startswith("export "):
                key = key[len("export ") :].strip()
        if key in updates:
            if key in done:
                continue
            out.append("%s=%s" % (key, updates[key]))
            done.add(key)
        else:
            out.append(line)
    for key in sorted(updates):
        if key not in done:
            out.append("%s=%s" % (key, updates[key]))
    return "\n".join(out) + "\n"


def render_override(images):
    """An override file setting ``image`` per service. JSON is YAML, so compose reads it."""
    doc = {"services": dict((s, {"image": ref}) for s, ref in sorted(images.items()))}
    return (
        "# Written by runbook.golive.compose_release: the image of each released service.\n"
        + json.dumps(doc, indent=2, sort_keys=True)
        + "\n"
    )


def parse_override(text, path):
    """{service: image} of an override file this module wrote."""
    body = "\n".join(line for line in (text or "").splitlines() if not line.lstrip().startswith("#"))
    if not body.strip():
        return {}
    try:
        doc = json.loads(body)
    except ValueError:
        raise GoliveError(
            "override file %s was not written by runbook.golive.compose_release (it is not its JSON);"
            " move your own settings to another compose file or name another override_file" % path
        )
    return dict((s, (v or {}).get("image")) for s, v in (doc.get("services") or {}).items())


def containers_by_service(inspected, project):
    """{service: [container]} from ``docker inspect`` output of a project (one-off containers left out)."""
    found = {}
    for item in inspected:
        labels = (item.get("Config") or {}).get("Labels") or {}
        if labels.get(LABEL_PROJECT) != project or labels.get(LABEL_ONEOFF, "False") == "True":
            continue
        state = item.get("State") or {}
        image = (item.get("Config") or {}).get("Image")
        found.setdefault(labels.get(LABEL_SERVICE), []).append(
            {
                "name": (item.get("Name") or "").lstrip("/"),
                "image": image,
                # The image the container was created from (its ID), whatever the tag says now.
                "image_id": item.get("Image"),
                "tag": split_image(image)[1],
                "status": state.get("Status"),
                "health": (state.get("Health") or {}).get("Status"),
            }
        )
    return found


def running_tags(by_service, services):
    """{service: tag} of the running containers; None where none runs or they disagree."""
    tags = {}
    for service in services:
        running = [c for c in by_service.get(service, []) if c["status"] == "running"]
        found = set(c["tag"] for c in running)
        tags[service] = found.pop() if len(found) == 1 else None
    return tags


def running_images(by_service, services):
    """{service: (image reference, image ID)} of the running containers; None where none runs
    or they disagree."""
    images = {}
    for service in services:
        found = set((c["image"], c.get("image_id")) for c in by_service.get(service, []) if c["status"] == "running")
        images[service] = found.pop() if len(found) == 1 and None not in list(found)[0] else None
    return images


def _repo_name(repo):
    """A repository as the engine names it in RepoDigests (``docker.io/library/x`` is ``x``)."""
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "index.docker.io/"):
        if repo and repo.startswith(prefix):
            return repo[len(prefix) :]
    return repo


def identity(ref, image_id, repo_digests):
    """What exactly a service runs: its reference, the image ID, and the repo digest of the
    reference's repository (``repo@sha256:...``) when the image has one (None when it was built
    on the host or never pulled: then only the ID says which image it is)."""
    repo = _repo_name(split_image(ref)[0])
    digest = None
    for candidate in repo_digests or []:
        if _repo_name(candidate.split("@", 1)[0]) == repo:
            digest = candidate
            break
    return {"image": ref, "id": image_id, "digest": digest}


def check_images(images, services, desired):
    """``images`` ({service: identity}) checked against the services and the tags released."""
    unknown = sorted(set(images) - set(services))
    if unknown:
        raise GoliveError(
            "images names %s, which services does not list; add them to services or remove them from images"
            % ", ".join(unknown)
        )
    for service, want in sorted(images.items()):
        if not isinstance(want, dict) or not IMAGE_ID_RE.match(str(want.get("id") or "")):
            raise GoliveError(
                "images.%s has no image ID (id: sha256:<64 hex>); give the previous_images a release returned" % service
            )
        if want.get("digest") and not DIGEST_REF_RE.match(str(want["digest"])):
            raise GoliveError(
                "images.%s.digest %r is not a repo digest (<repository>@sha256:<64 hex>); give the previous_images"
                " a release returned" % (service, want["digest"])
            )
        repo, tag = split_image(want.get("image"))
        if not repo or not tag:
            raise GoliveError(
                "images.%s.image %r is not an image reference with a tag (<repository>:<tag>); give the"
                " previous_images a release returned" % (service, want.get("image"))
            )
        if tag != desired[service]:
            raise GoliveError(
                "images.%s is %s but the tag released for %s is %s; give the tags of the same release"
                % (service, want["image"], service, desired[service])
            )


def plan(services, desired, running, configured, containers, ids=None):
    """What a release changes: services whose running tag or configured tag differ, or whose
    running image is not the one ``ids`` ({service: image ID}) asks for."""
    restart = [s for s in services if running.get(s) != desired[s]]
    restart += [
        s
        for s, want in sorted((ids or {}).items())
        if any(c["image_id"] != want for c in containers.get(s, []) if c["status"] == "running")
    ]
    rewrite = [s for s in services if configured.get(s) != desired[s]]
    stopped = [s for s in services if not any(c["status"] == "running" for c in containers.get(s, []))]
    return {"restart": sorted(set(restart) | set(stopped)), "rewrite": rewrite}


# ---------------------------------------------------------------- the project


class Project:
    """A compose project directory, reached with ``docker compose`` or ``docker-compose``."""

    def __init__(self, module, directory, name=None, files=None, env_file=None, command="auto"):
        self.module = module
        if not os.path.isdir(directory):
            raise GoliveError(
                "project directory %s does not exist; give project_src, the directory of the compose file" % directory
            )
        self.directory = os.path.abspath(directory)
        self.name = project_name(self.directory, name)
        self.files = [self._abs(f) for f in (files or [])] or self._default_files()
        for path in self.files:
            if not os.path.isfile(path):
                raise GoliveError("compose file %s does not exist; fix files or project_src" % path)
        self.env_file = self._abs(env_file) if env_file else None
        self.docker = module.get_bin_path("docker", required=False)
        self.prefix, self.flavour = self._detect(command)
        if not self.docker:
            raise GoliveError(
                "the docker client was not found on the target's PATH; install docker.io (or docker-ce-cli)"
            )

    def _abs(self, path):
        return path if os.path.isabs(path) else os.path.join(self.directory, path)

    def _default_files(self):
        for name in DEFAULT_FILES:
            path = os.path.join(self.directory, name)
            if os.path.isfile(path):
                return [path]
        raise GoliveError(
            "no compose file in %s (looked for %s); give files" % (self.directory, ", ".join(DEFAULT_FILES))
        )

    def _detect(self, command):
        if command in ("auto", "v2") and self.docker:
            probe = run(self.module, [self.docker, "compose", "version", "--short"], check=False)
            if probe.ok:
                return [self.docker, "compose"], "v2"
        if command in ("auto", "v1"):
            legacy = self.module.get_bin_path("docker-compose", required=False)
            if legacy:
                return [legacy], "v1"
        wanted = {
            "auto": "docker compose (v2) or docker-compose (v1)",
            "v2": "docker compose (v2)",
            "v1": "docker-compose (v1)",
        }
        raise GoliveError(
            "%s was not found on the target; install the compose plugin (docker-compose-plugin)"
            " or Debian's docker-compose, or set compose_command to the one that is there" % wanted[command]
        )

    def argv(self, *args, **kwargs):
        extra_files = kwargs.get("extra_files") or []
        out = list(self.prefix) + ["--project-name", self.name, "--project-directory", self.directory]
        for path in self.files + extra_files:
            out += ["--file", path]
        if self.env_file:
            out += ["--env-file", self.env_file]
        return out + list(args)

    def compose(self, args, what, env=None, extra_files=None, check=True):
        return run(
            self.module, self.argv(*args, extra_files=extra_files), what=what, cwd=self.directory, env=env, check=check
        )

    def _container_ids(self):
        return run(
            self.module,
            [
                self.docker,
                "ps",
                "--all",
                "--quiet",
                "--no-trunc",
                "--filter",
                "label=%s=%s" % (LABEL_PROJECT, self.name),
            ],
            what="listing the containers of compose project %s" % self.name,
        ).out.split()

    def containers(self):
        """{service: [container]} of the project's containers, running or not."""
        ids = self._container_ids()
        if not ids:
            return {}
        done = run(
            self.module, [self.docker, "inspect"] + ids, what="inspecting the containers of %s" % self.name, check=False
        )
        if not done.ok:
            # A container removed between ps and inspect: ask once more.
            ids = self._container_ids()
            if not ids:
                return {}
            done = run(self.module, [self.docker, "inspect"] + ids, what="inspecting the containers of %s" % self.name)
        return containers_by_service(json.loads(done.out or "[]"), self.name)

    def image(self, ref):
        """``docker image inspect`` of one image (by reference or ID); None when the host has none."""
        done = run(
            self.module,
            [self.docker, "image", "inspect", "--", ref],
            what="inspecting image %s" % ref,
            check=False,
        )
        if not done.ok:
            return None
        found = json.loads(done.out or "[]")
        return found[0] if found else None

    def docker_run(self, args, what):
        return run(self.module, [self.docker] + list(args), what=what)


def _read(path):
    try:
        with open(path, "r") as handle:
            return handle.read()
    except IOError:
        return None


def _tag_source(p, project):
    """(path, read(text) -> {service: tag}, write(text, desired) -> text) of the tag file."""
    services = p["services"]
    if p["method"] == "env_file":
        path = project.env_file or os.path.join(project.directory, ".env")
        variables = dict((s, (p["variables"] or {}).get(s) or default_variable(s)) for s in services)
        for service, var in sorted(variables.items()):
            if not VARIABLE_RE.match(var):
                raise GoliveError(
                    "variable %r for service %s is not a valid variable name; fix variables" % (var, service)
                )

        def read(text):
            values = parse_env(text)
            return dict((s, values.get(variables[s])) for s in services)

        def write(text, desired):
            return update_env(text, dict((variables[s], desired[s]) for s in services))

        return path, read, write, variables

    path = project._abs(p["override_file"])
    repositories = p["repositories"] or {}

    def read(text):
        images = parse_override(text, path)
        return dict((s, split_image(images.get(s))[1]) for s in services)

    def write(text, desired, current_images=None):
        images = parse_override(text, path)
        for s in services:
            repo = repositories.get(s) or split_image(images.get(s) or (current_images or {}).get(s))[0]
            if not repo:
                raise GoliveError(
                    "the image repository of service %s is unknown (no container runs it and %s does not name it);"
                    " give repositories: {%s: <registry>/<image>}" % (s, path, s)
                )
            images[s] = "%s:%s" % (repo, desired[s])
        return render_override(images)

    return path, read, write, None


def _diff_view(text, variables):
    """What the diff shows of a tag file: an env file often holds secrets, so only the tag lines."""
    if not variables:
        return text
    values = parse_env(text)
    return "".join("%s=%s\n" % (var, values[var]) for var in sorted(set(variables.values())) if var in values)


def desired_tags(p):
    desired = dict((s, (p["tags"] or {}).get(s) or p["tag"]) for s in p["services"])
    unknown = sorted(set(p["tags"] or {}) - set(p["services"]))
    if unknown:
        raise GoliveError(
            "tags names %s, which services does not list; add them to services or remove them from tags"
            % ", ".join(unknown)
        )
    missing = sorted(s for s, t in desired.items() if not t)
    if missing:
        raise GoliveError(
            "no tag for service %s; give tag (one for every service) or tags per service" % ", ".join(missing)
        )
    validate_tags(desired)
    return desired


def release(module, p):
    """Set the tags of ``p['services']``, pull, up; previous and new tags."""
    services = p["services"]
    if not services:
        raise GoliveError("services is empty; list the compose services to release, for example [web, worker]")
    desired = desired_tags(p)
    project = Project(module, p["project_src"], p["project_name"], p["files"], p["env_file"], p["compose_command"])
    path, read, write, variables = _tag_source(p, project)
    before_text = _read(path)
    if before_text is None and os.path.exists(path):
        raise GoliveError("cannot read %s; check its permissions" % path)
    containers = project.containers()
    unknown = [s for s in services if s not in containers]
    running = running_tags(containers, services)
    configured = read(before_text or "")
    previous = dict((s, running.get(s) or configured.get(s)) for s in services)
    current_images = dict(
        (s, next((c["image"] for c in containers.get(s, []) if c["status"] == "running"), None)) for s in services
    )
    previous_images = {}
    for service, found in sorted(running_images(containers, services).items()):
        inspected = project.image(found[1]) if found else None
        # A reference without a tag (already by digest) is pinned by the compose file itself.
        pinnable = found and inspected and split_image(found[0])[1]
        previous_images[service] = identity(found[0], found[1], inspected.get("RepoDigests")) if pinnable else None
    pins = p.get("images") or {}
    check_images(pins, services, desired)
    retag = _check_pins(project, pins)
    if p["method"] == "env_file":
        after_text = write(before_text or "", desired)
    else:
        after_text = write(before_text or "", desired, current_images)
    todo = plan(services, desired, running, configured, containers, dict((s, i["id"]) for s, i in pins.items()))
    file_changed = after_text != (before_text or "")
    changed = file_changed or bool(todo["restart"]) or bool(retag)
    result = {
        "changed": changed,
        "project_name": project.name,
        "compose_command": " ".join(os.path.basename(a) for a in project.prefix),
        "compose_version": project.flavour,
        "services": services,
        "previous_tags": previous,
        "previous_images": previous_images,
        "running_tags_before": running,
        "tags": desired,
        "tag_file": path,
        "tag_file_changed": file_changed,
        "restarted": todo["restart"],
        "retagged": sorted(retag),
        "new_services": unknown,
        "diff": {
            "before": _diff_view(before_text or "", variables),
            "after": _diff_view(after_text, variables),
            "before_header": path,
            "after_header": path,
        },
    }
    if variables:
        result["variables"] = variables
    if module.check_mode or not changed:
        return result
    # The tag of each service to pin is made to name exactly the image it ran before: all are
    # fetched by digest and checked first, then tagged, then the tag file written. compose up
    # then starts them, pulling nothing for them.
    for service, want in sorted(retag.items()):
        project.docker_run(["pull", "--quiet", "--", want["digest"]], what="pulling %s by digest" % want["digest"])
        fetched = project.image(want["digest"]) or {}
        if fetched.get("Id") != want["id"]:
            raise GoliveError(
                "%s is image %s, not %s that service %s ran before; nothing was switched or written,"
                " look at the registry" % (want["digest"], fetched.get("Id"), want["id"], service),
                **result,
            )
    for _service, want in sorted(retag.items()):
        project.docker_run(
            ["tag", "--", want["digest"], want["image"]], what="tagging %s as %s" % (want["digest"], want["image"])
        )
    if file_changed:
        mode = (os.stat(path).st_mode & 0o7777) if os.path.exists(path) else p["mode"]
        write_file(module, path, after_text, mode=mode)
    to_pull = [s for s in services if s not in pins]
    if p["pull"] and to_pull:
        project.compose(["pull", "--quiet"] + to_pull, what="pulling %s of %s" % (", ".join(to_pull), project.name))
    up = ["up", "--detach"]
    if not p["dependencies"]:
        up.append("--no-deps")
    project.compose(up + services, what="bringing %s of %s up" % (", ".join(services), project.name))
    now = project.containers()
    after = running_tags(now, services)
    wrong = sorted(s for s in services if after.get(s) != desired[s])
    other_image = sorted(
        s
        for s, want in pins.items()
        if any(c["image_id"] != want["id"] for c in now.get(s, []) if c["status"] == "running")
    )
    if other_image and not wrong:
        failure = dict(result)
        failure.update(changed=True, running_tags=after)
        raise GoliveError(
            "after up, %s of %s run another image than before the go-live (%s); the compose file may pull"
            " (pull_policy), look at `docker compose images` and start the recorded image by hand"
            % (
                ", ".join(other_image),
                project.name,
                ", ".join("%s wants %s (%s)" % (s, pins[s]["id"], pins[s]["image"]) for s in other_image),
            ),
            **failure,
        )
    if wrong:
        failure = dict(result)
        failure.update(changed=True, running_tags=after)
        raise GoliveError(
            "after up, %s of %s run %s instead of %s; look at `%s logs %s` and roll back to %s"
            % (
                ", ".join(wrong),
                project.name,
                ", ".join("%s=%s" % (s, after.get(s) or "nothing") for s in wrong),
                ", ".join("%s=%s" % (s, desired[s]) for s in wrong),
                result["compose_command"],
                " ".join(wrong),
                ", ".join("%s=%s" % (s, previous[s]) for s in wrong),
            ),
            **failure,
        )
    result["running_tags"] = after
    return result


def _check_pins(project, pins):
    """{service: identity} of the pinned services whose tag must be moved back to their image.

    Read only; refuses, before anything changes, a service whose tag names another image
    now when that image has no repo digest to fetch it by."""
    retag = {}
    for service, want in sorted(pins.items()):
        now = project.image(want["image"])
        if now and now.get("Id") == want["id"]:
            continue
        if want.get("digest"):
            retag[service] = want
            continue
        still_here = project.image(want["id"]) is not None
        raise GoliveError(
            "service %s ran image %s as %s before the go-live, but %s now %s, and that image has no repo digest"
            " to fetch it by (built on the host); nothing was changed. %s"
            % (
                service,
                want["id"],
                want["image"],
                want["image"],
                "names image %s" % now.get("Id") if now else "names no image on this host",
                "It is still on this host: run `docker tag %s %s`, then the rollback again."
                % (want["id"], want["image"])
                if still_here
                else "It is gone from this host: build or load it again as %s, then run the rollback again."
                % want["image"],
            )
        )
    return retag


def run_once(module, p):
    """``run --rm`` of one service's command in a one-off container (of the given tags, if any)."""
    if not p["command"]:
        raise GoliveError("state=run needs command, the argument list to run, for example [alembic, upgrade, head]")
    if len(p["services"]) != 1:
        raise GoliveError("state=run runs one service; give exactly one in services (got %d)" % len(p["services"]))
    service = p["services"][0]
    project = Project(module, p["project_src"], p["project_name"], p["files"], p["env_file"], p["compose_command"])
    env = {}
    extra = []
    tag = (p["tags"] or {}).get(service) or p["tag"]
    result = {
        "changed": True,
        "project_name": project.name,
        "compose_command": " ".join(os.path.basename(a) for a in project.prefix),
        "compose_version": project.flavour,
        "services": [service],
        "command": p["command"],
        "tags": {service: tag} if tag else {},
    }
    if module.check_mode:
        return result
    tmp = None
    try:
        if tag:
            validate_tags({service: tag})
            if p["method"] == "env_file":
                var = (p["variables"] or {}).get(service) or default_variable(service)
                if not VARIABLE_RE.match(var):
                    raise GoliveError(
                        "variable %r for service %s is not a valid variable name; fix variables" % (var, service)
                    )
                # The environment wins over the env file: no file changes for a one-off.
                env[var] = tag
            else:
                repo = (p["repositories"] or {}).get(service)
                if not repo:
                    current = parse_override(_read(project._abs(p["override_file"])) or "", p["override_file"])
                    repo = split_image(current.get(service))[0]
                if not repo:
                    raise GoliveError(
                        "the image repository of service %s is unknown; give repositories: {%s: <image>}"
                        % (service, service)
                    )
                fd, tmp = tempfile.mkstemp(prefix=".golive-run-", suffix=".yml", dir=project.directory)
                os.close(fd)
                write_file(module, tmp, render_override({service: "%s:%s" % (repo, tag)}))
                extra = [tmp]
        args = ["run", "--rm", "-T"]
        if not p["dependencies"]:
            args.append("--no-deps")
        done = project.compose(
            args + [service] + list(p["command"]),
            what="%s in a one-off %s container" % (" ".join(p["command"]), service),
            env=env,
            extra_files=extra,
            check=False,
        )
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
    result.update(rc=done.rc, stdout=done.out, stderr=done.err, seconds=round(done.seconds, 3))
    if not done.ok:
        raise GoliveError(
            "%s in a one-off %s container of %s exited %d: %s"
            % (" ".join(p["command"]), service, project.name, done.rc, (done.err or done.out or "").strip()[-2000:]),
            **result,
        )
    return result
