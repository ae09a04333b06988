# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.runbook.golive.plugins.filter.repo import (
    repo_auth_header,
    repo_problem,
    repo_scrub,
    repo_source,
)

CACHE = "/home/deploy/.cache/runbook-golive/repos"


@pytest.mark.parametrize(
    "repo",
    [
        "/srv/git/shop.git",
        "relative/checkout",
        "https://git.example.com/team/shop.git",
        "https://ci:glpat-1234@git.example.com/team/shop.git",
        "https://ci@git.example.com/team/shop.git",
        "http://git.example.com/team/shop.git",
        "ssh://git@git.example.com:2222/team/shop.git",
        "git+ssh://git@git.example.com/team/shop.git",
        "git@git.example.com:team/shop.git",
        "git.example.com:team/shop.git",
        "file:///srv/git/shop.git",
        "git://git.example.com/shop.git",
    ],
)
def test_paths_and_urls_git_fetches_are_accepted(repo):
    assert repo_problem(repo) == ""


@pytest.mark.parametrize(
    "repo, problem",
    [
        ("ext::sh -c touch% /tmp/pwned", "'ext::sh -c touch% /tmp/pwned' is not a repository URL the go-live fetches"),
        ("fd::3", "is not a repository URL"),
        ("ftp://git.example.com/shop.git", "is not a repository URL the go-live fetches: give https://"),
        ("https://git.example.com/team/shop.git\n", "holds a space or a control character"),
        ("https://git.example.com/my shop.git", "holds a space or a control character"),
        ("https://git.example.com:99999/shop.git", "has a bad port"),
        ("https:///shop.git", "has no host"),
        ("file://host/srv/shop.git", "a file:// URL needs an absolute path"),
        ("file://relative", "a file:// URL needs an absolute path"),
        ("-oProxyCommand=touch@host:x", "starts with '-'"),
        ("http://ci:glpat-1234@git.example.com/shop.git", "'http://ci:********@git.example.com/shop.git' sends its"),
        ("ssh://git:pa55word@git.example.com/shop.git", "a password in the URL is used only with https://"),
    ],
)
def test_urls_git_is_not_used_with_are_refused_with_the_secret_masked(repo, problem):
    found = repo_problem(repo)
    assert problem in found
    assert "glpat-1234" not in found and "pa55word" not in found
    with pytest.raises(AnsibleFilterError, match="golive_app_repo"):
        repo_source(repo, CACHE)


def test_a_local_path_is_read_where_it_is():
    assert repo_source("/srv/git/shop.git", CACHE) == dict(
        url=False, dir="/srv/git/shop.git", fetch_url="", display="/srv/git/shop.git"
    )


def test_an_https_token_goes_to_the_header_not_the_mirror():
    source = repo_source("https://ci:glpat%2F1234@git.example.com/team/shop.git", CACHE)
    assert source["url"] is True
    assert source["fetch_url"] == "https://git.example.com/team/shop.git"
    assert source["display"] == "https://ci:********@git.example.com/team/shop.git"
    assert source["dir"].startswith(CACHE + "/git.example.com-shop-")
    assert "1234" not in source["dir"]
    header = repo_auth_header("https://ci:glpat%2F1234@git.example.com/team/shop.git")
    assert header == "Authorization: Basic " + base64.b64encode(b"ci:glpat/1234").decode()


@pytest.mark.parametrize(
    "repo",
    [
        "/srv/git/shop.git",
        "https://git.example.com/team/shop.git",
        "https://ci@git.example.com/team/shop.git",
        "git@git.example.com:team/shop.git",
        "file:///srv/git/shop.git",
    ],
)
def test_no_header_without_a_password(repo):
    assert repo_auth_header(repo) == ""


@pytest.mark.parametrize(
    "repo, fetch_url",
    [
        ("git@git.example.com:team/shop.git", "git@git.example.com:team/shop.git"),
        ("git.example.com:team/shop.git", "git.example.com:team/shop.git"),
        ("ssh://deploy@git.example.com:2222/team/shop.git", "ssh://deploy@git.example.com:2222/team/shop.git"),
        ("https://ci@git.example.com/team/shop.git", "https://ci@git.example.com/team/shop.git"),
        ("file:///srv/git/shop.git", "file:///srv/git/shop.git"),
    ],
)
def test_other_urls_are_fetched_as_given(repo, fetch_url):
    assert repo_source(repo, CACHE)["fetch_url"] == fetch_url


def test_one_mirror_per_repository_whatever_the_credentials():
    one = repo_source("https://ci:token-one@git.example.com/team/shop.git", CACHE)["dir"]
    other = repo_source("https://bot:token-two@git.example.com/team/shop.git", CACHE)["dir"]
    plain = repo_source("https://git.example.com/team/shop.git", CACHE + "/")["dir"]
    elsewhere = repo_source("https://git.example.com/other/shop.git", CACHE)["dir"]
    assert one == other == plain
    assert elsewhere != one
    assert (
        repo_source("git@git.example.com:team/shop.git", CACHE)["dir"]
        == (repo_source("ssh://git.example.com/team/shop.git", CACHE)["dir"])
    )


@pytest.mark.parametrize("cache", ["", "relative/cache", "~/.cache/runbook-golive/repos"])
def test_the_cache_must_be_an_absolute_path(cache):
    with pytest.raises(AnsibleFilterError, match="golive_repo_cache_dir .* is not an absolute path"):
        repo_source("https://git.example.com/team/shop.git", cache)


def test_git_errors_are_scrubbed_of_the_token():
    repo = "https://ci:glpat%2F1234@git.example.com/team/shop.git?private_token=qwerty"
    header = repo_auth_header(repo)
    text = "fatal: https://ci:glpat%2F1234@git.example.com/ glpat/1234 qwerty " + header
    scrubbed = repo_scrub(text, repo)
    assert "1234" not in scrubbed and "qwerty" not in scrubbed
    assert header.rpartition(" ")[2] not in scrubbed
    assert repo_scrub("", repo) == ""


def test_a_repository_that_is_not_text_is_refused():
    with pytest.raises(AnsibleFilterError, match="must be a string"):
        repo_problem(["https://git.example.com/shop.git"])
