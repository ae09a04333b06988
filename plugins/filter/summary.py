# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters for the end of a run and its start: the summary of a release log record, and
whether a choice of tags (--tags, --skip-tags) leaves golive.yml safe to run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.runbook.golive.plugins.filter.golive import database_rollback_summary

# The phases of golive.yml, in order; each play of it is tagged with its phase.
PHASES = ("prepare", "migrate", "rollout", "verify", "rollback", "finish")
# Tags that may be skipped: nothing but the notification depends on them.
SKIPPABLE = ("notify",)
# Ansible's own tag words.
SPECIAL = ("all", "always", "never", "tagged", "untagged")
KNOWN = PHASES + SKIPPABLE + SPECIAL
# What a run without the phase would do, for the refusal.
_WITHOUT = {
    "prepare": "without prepare there is no deploy lock, no backup and no plan, and the later phases "
    "would change a fleet nobody holds",
    "migrate": "without migrate the new release would run on the old database schema",
    "rollout": "without rollout the new release is not deployed, yet verify and finish would judge and record it",
    "verify": "without verify the new release would be declared live without its health and smoke checks, "
    "and never rolled back",
    "rollback": "without rollback a go-live that fails would leave the failed release serving",
    "finish": "without finish the run is not recorded, and the deploy lock and maintenance mode stay on",
}
# Phases of a run as its record names them, in the order they run.
_PHASE_ORDER = PHASES + ("recover",)


def _tags(value, what):
    if value is None:
        return set()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise AnsibleFilterError("tag_selection: %s must be a list of tags, got %r" % (what, value))
    return set(("%s" % tag).strip() for tag in value) - set([""])


def _runs(phase, run, skip):
    selected = bool(run & set(["all", "tagged", phase])) or not run
    skipped = bool(skip & set(["all", "tagged", phase]))
    return selected and not skipped


def tag_selection(run_tags, skip_tags=None):
    """Whether golive.yml may run with this choice of tags (``ansible_run_tags``,
    ``ansible_skip_tags``): every phase must run; only ``notify`` may be skipped."""
    run, skip = _tags(run_tags, "run_tags") or set(["all"]), _tags(skip_tags, "skip_tags")
    phases = [p for p in PHASES if _runs(p, run, skip)]
    problems = []
    for tag in sorted((run | skip) - set(KNOWN)):
        if tag == "preflight":
            problems.append(
                "there is no checks-only tag preflight: the preflight checks run after the deploy lock is taken "
                "and the plan builds the release artifact, so no choice of tags runs them alone"
            )
        else:
            problems.append("golive.yml has no tag %r (its tags: %s)" % (tag, ", ".join(PHASES + SKIPPABLE)))
    if "always" in skip:
        problems.append(
            "--skip-tags always skips the checks every run needs first (this one and the refusal of inputs "
            "that hold a template)"
        )
    problems.extend(_WITHOUT[p] for p in PHASES if p not in phases)
    # Skipping these skips nothing in golive.yml (every task has a tag, none has never): refused as meaningless.
    extra = sorted(skip & set(["never", "untagged"]))
    if extra:
        problems.append("only the notification may be skipped (--skip-tags notify), not %s" % ", ".join(extra))
    said = []
    if run != set(["all"]):
        said.append("--tags %s" % ",".join(sorted(run)))
    if skip:
        said.append("--skip-tags %s" % ",".join(sorted(skip)))
    choice = " ".join(said) or "no --tags or --skip-tags"
    if problems:
        msg = (
            "The tag choice %s is not safe: %s. Run the whole go-live (no --tags or --skip-tags; "
            "--skip-tags notify leaves out only the notification), or add --check for a run that changes "
            "nothing. Nothing was changed." % (choice, "; ".join(problems))
        )
        return dict(allowed=False, msg=msg, phases=phases, skipped=sorted(skip))
    said = "the whole go-live" + (" without the notification" if "notify" in skip else "")
    return dict(allowed=True, msg=said, phases=phases, skipped=sorted(skip))


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


def _dict(value):
    return value if isinstance(value, dict) else {}


def _seconds(value):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return "?"
    if seconds < 60:
        return "%.1f s" % seconds
    seconds = int(round(seconds))
    if seconds < 3600:
        return "%d min %02d s" % (seconds // 60, seconds % 60)
    return "%d h %02d min %02d s" % (seconds // 3600, seconds % 3600 // 60, seconds % 60)


def _join(items):
    items = ["%s" % i for i in items]
    return ", ".join(items) if items else "none"


def _rollback_verified(record):
    extra = _dict(record.get("extra"))
    if "rollback_verified" in extra:
        return _truthy(extra["rollback_verified"])
    return _truthy(_dict(record.get("health")).get("verified"))


def _serving(record):
    """``[(what it runs, [hosts])]`` at the end of the run, as its record says, in host order."""
    decision = record.get("decision")
    extra = _dict(record.get("extra"))
    version = record.get("version") or "?"
    previous = record.get("previous_version") or _dict(record.get("health")).get("serving") or "no release"
    back = ("%s (rolled back)" if _rollback_verified(record) else "%s? (rolled back, NOT VERIFIED)") % previous
    failed = ["%s" % h for h in extra.get("failed_hosts") or []]
    then = _dict(extra.get("hosts_when_interrupted"))
    groups = []
    for host in ["%s" % h for h in record.get("hosts") or []] + [
        h for h in failed if h not in (record.get("hosts") or [])
    ]:
        if decision == "go":
            what = version
        elif decision == "partial":
            what = back if host in failed else version
        elif decision == "rollback":
            what = back
        elif decision == "refused":
            what = "%s (unchanged)" % previous
        else:
            what = "%s when interrupted" % (_dict(then.get(host)).get("serving") or "?")
        for seen, hosts in groups:
            if seen == what:
                hosts.append(host)
                break
        else:
            groups.append((what, [host]))
    return groups


def _outcome(record):
    decision = record.get("decision")
    extra = _dict(record.get("extra"))
    env = record.get("environment") or "?"
    version = record.get("version") or "?"
    previous = record.get("previous_version") or "the release before"
    phase = extra.get("failed_phase") or ""
    verified = "verified" if _rollback_verified(record) else "THE ROLLBACK DID NOT VERIFY"
    if decision == "go":
        return "GO: %s is live on %s, verified" % (version, env)
    if decision == "partial":
        return "PARTIAL: %s is live on %s except %s, rolled back to %s (%s)" % (
            version,
            env,
            _join(extra.get("failed_hosts") or []),
            previous,
            verified,
        )
    if decision == "rollback":
        if extra.get("kind") == "manual rollback":
            return "ROLLBACK by hand: %s returned from %s to %s (%s)" % (env, version, previous, verified)
        if extra.get("kind") == "recovery":
            return "ROLLBACK of the interrupted go-live %s of %s: %s is back on %s (%s)" % (
                extra.get("recovered_run") or "?",
                version,
                env,
                previous,
                verified,
            )
        return "ROLLBACK: the go-live of %s failed%s; %s is back on %s (%s)" % (
            version,
            " at %s" % phase if phase else "",
            env,
            previous,
            verified,
        )
    if decision == "refused":
        return "REFUSED%s: nothing of %s was deployed; %s stays on %s" % (
            " at %s" % phase if phase else "",
            version,
            env,
            previous,
        )
    if decision == "interrupted":
        return (
            "INTERRUPTED%s: the go-live of %s stopped before its end; the recovery's own record says what was returned"
            % (
                " in phase %s" % phase if phase else "",
                version,
            )
        )
    return "%s: %s on %s" % (("%s" % decision).upper(), version, env)


def _backup(record):
    path = record.get("backup_id")
    if not path:
        return "backup: none"
    extra = _dict(record.get("extra"))
    checked = extra.get("backup_verified")
    if checked is None:
        verified = "verification not recorded"
    elif _truthy(checked):
        verified = "verified"
    else:
        verified = "NOT verified"
    checksum = record.get("backup_checksum")
    return "backup: %s%s, %s" % (path, " (sha256 %s)" % checksum[:12] if checksum else "", verified)


def _migration(record):
    before, after = record.get("migration_from"), record.get("migration_to")
    if not before and not after:
        return "migration: none recorded"
    if before == after:
        return "migration: none needed (at %s)" % before
    return "migration: %s -> %s" % (before or "nothing", after or "? (it failed)")


def _rollback(record):
    decision = record.get("decision")
    extra = _dict(record.get("extra"))
    if decision == "go":
        return "rollback: none needed"
    if decision == "refused":
        return "rollback: none (nothing was deployed)"
    if decision == "interrupted":
        return "rollback: done by the recovery (playbooks/recover.yml), in the record after this one"
    previous = record.get("previous_version") or "the release before"
    hosts = extra.get("failed_hosts") if decision == "partial" else record.get("hosts")
    said = [
        "code: %s back on %s, %s"
        % (
            _join(hosts or []),
            previous,
            "verified" if _rollback_verified(record) else "NOT VERIFIED",
        )
    ]
    db = _dict(extra.get("database_rollback"))
    if _truthy(extra.get("database_left_alone")) or (db.get("policy") == "none" and not db.get("decision")):
        said.append(
            "database left as it was (its schema stays the one %s migrated to)" % (record.get("version") or "?")
        )
    elif db.get("decision") and db.get("decision") != "none":
        sentence = database_rollback_summary(db).rstrip(".")
        said.append(sentence[:1].lower() + sentence[1:])
        if db.get("problem") and db.get("decision") != "stop":
            said.append("THE DATABASE IS NOT AS IT WAS: %s" % ("%s" % db["problem"]).rstrip("."))
    else:
        said.append("database not touched")
    trees = extra.get("file_trees_restored") or []
    if trees:
        said.append("%d file tree%s put back" % (len(trees), "" if len(trees) == 1 else "s"))
    steps = _dict(extra.get("rollback_steps"))
    if steps.get("lb_5xx") not in (None, "", "None"):
        said.append(
            "%s server errors of %s requests at the load balancer during its steps"
            % (steps.get("lb_5xx"), steps.get("lb_requests") if steps.get("lb_requests") not in (None, "") else "?")
        )
    return "rollback: " + "; ".join(said)


def run_report(record):
    """The lines a person reads at the end of a run, from its release log record (as
    ``runbook.golive.release_log`` returns it after writing it, or reads it back)."""
    if not isinstance(record, dict) or not record.get("decision"):
        raise AnsibleFilterError(
            "run_report takes a release log record (a dict with a decision, as runbook.golive.release_log returns it)"
        )
    extra = _dict(record.get("extra"))
    phases = _dict(record.get("phases"))
    ordered = [p for p in _PHASE_ORDER if p in phases] + sorted(p for p in phases if p not in _PHASE_ORDER)
    sign_off = _dict(extra.get("sign_off"))
    lines = ["outcome: " + _outcome(record)]
    notes = ("%s" % (record.get("notes") or "")).strip()
    if notes and record.get("decision") != "go":
        lines.append("reason: " + " ".join(notes.split()))
    if extra.get("override_reason"):
        lines.append("outside the change window, because: %s" % extra["override_reason"])
    lines.append(
        "version: %s%s, previous %s"
        % (
            record.get("version") or "?",
            " (commit %s)" % record["commit"][:12] if record.get("commit") else "",
            record.get("previous_version") or "none",
        )
    )
    lines.append(
        "run: %s on %s, started %s, finished %s%s"
        % (
            record.get("release_id") or "?",
            record.get("environment") or "?",
            record.get("started") or "?",
            record.get("finished") or "?",
            " (%s)" % _seconds(record["duration"]) if record.get("duration") is not None else "",
        )
    )
    lines.append(
        "phases: " + (", ".join("%s %s" % (p, _seconds(phases[p])) for p in ordered) if ordered else "not recorded")
    )
    lines.append(
        "hosts: "
        + (
            "; ".join(
                "%s %s %s" % (", ".join(hosts), "runs" if len(hosts) == 1 else "run", what)
                for what, hosts in _serving(record)
            )
            or "none recorded"
        )
    )
    lines.append(_backup(record))
    lines.append(_migration(record))
    lines.append(_rollback(record))
    lines.append(
        "run by: %s, %s"
        % (
            record.get("owner") or "?",
            "approved by %s" % sign_off["approved_by"] if sign_off.get("approved_by") else "no approval recorded",
        )
    )
    return lines


class FilterModule:
    def filters(self):
        return {
            "run_report": run_report,
            "tag_selection": tag_selection,
        }
