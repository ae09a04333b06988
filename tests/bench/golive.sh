#!/usr/bin/env bash
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# golive.yml against the naive way under traffic (tests/bench/golive_bench.py) on a
# fresh lab: the lab is rebuilt first and left at the end as the bench left it.
set -euo pipefail
cd "$(dirname "$0")/../.."
make --no-print-directory lab-down >/dev/null
make --no-print-directory lab-up
python3 tests/bench/golive_bench.py
