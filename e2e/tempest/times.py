"""What each Tempest test costs its worker, for stestr's scheduler.

Usage: times.py record SUBUNIT_FILE TEMPEST_LOG OUT_TIMES
       times.py load TIMES WORKSPACE

stestr gives each worker groups of tests (a class stays on one worker)
and, without timings, deals the groups out in turn; the classes that
delete many subnets then pile up on a few workers while the others idle.
With timings it hands the longest group to the least busy worker.

A test's time in the subunit stream leaves out its class's setUpClass
and tearDownClass, where most of the waiting is (the isolated network of
each set of credentials is torn down, a subnet delete at a time), so
"record" takes each class's stretch on its worker from tempest.log, from
its first request to its last (tearDownClass's included), and charges it
to the class's tests in proportion to their own times. "load" writes
those times into the stestr repository of a workspace
(WORKSPACE/.stestr/times.dbm, where stestr keeps the times of earlier
runs), making the repository if there is none.

The TIMES file has "SECONDS TEST_ID" lines (test ids without their
[attributes]); lines starting with # are comments.
"""

import collections
import datetime
import dbm.dumb
import os
import re
import sys

import subunit
import testtools
from stestr import utils
from stestr.repository import util as repo_util

# tempest.log: "2026-12-07 03:22:32.947 24951 INFO tempest.lib.common.rest_client
# [req-...] Request (Class:method): 204 DELETE http://... 0.004s"
REQUEST = re.compile(r"^(\S+ \S+) (\d+) INFO tempest\.lib\.common\.rest_client .*? Request \((\w+):(\w+)\)")


def own_times(subunit_path):
    """Each test's own time (cleaned id -> seconds), from the run's stream."""
    tests = []
    with open(subunit_path, "rb") as f:
        stream = subunit.ByteStreamToStreamResult(f, non_subunit_name="stdout")
        result = testtools.StreamToDict(tests.append)
        result.startTestRun()
        stream.run(result)
        result.stopTestRun()
    own = {}
    for t in tests:
        start, stop = t["timestamps"]
        # A class-level failure ("setUpClass (module.Class)") is no test.
        if start is None or stop is None or t["status"] == "exists" or " " in t["id"]:
            continue
        own[utils.cleanup_test_name(t["id"])] = (stop - start).total_seconds()
    return own


def class_stretches(log_path):
    """The worker (pid) of each (class, method) and the stretch of each
    (pid, class): its first and last request."""
    pid_of = {}
    first, last = {}, {}
    with open(log_path, errors="replace") as f:
        for line in f:
            m = REQUEST.match(line)
            if not m:
                continue
            ts = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
            pid, cls, method = m.group(2), m.group(3), m.group(4)
            pid_of[(cls, method)] = pid
            first.setdefault((pid, cls), ts)
            last[(pid, cls)] = ts
    return pid_of, {k: (last[k] - first[k]).total_seconds() for k in first}


def record(subunit_path, log_path, out_path):
    own = own_times(subunit_path)
    pid_of, stretch = class_stretches(log_path)
    pids_of_class = collections.defaultdict(set)
    for pid, cls in stretch:
        pids_of_class[cls].add(pid)
    members = collections.defaultdict(list)
    cost = {}
    for test_id, secs in own.items():
        cls, method = test_id.split(".")[-2:]
        pid = pid_of.get((cls, method))
        if pid is None and len(pids_of_class[cls]) == 1:
            pid = next(iter(pids_of_class[cls]))  # a test without requests
        if pid is None:
            cost[test_id] = secs
        else:
            members[(pid, cls)].append(test_id)
    for key, ids in members.items():
        total = sum(own[i] for i in ids)
        span = max(stretch.get(key, 0), total)
        for i in ids:
            cost[i] = span * (own[i] / total if total > 0 else 1 / len(ids))
    with open(out_path, "w") as f:
        f.write("# What each Tempest test cost its worker in a run of e2e/tempest/run, its\n"
                "# class's setUpClass and tearDownClass included: stestr's scheduler hints.\n"
                "# Rewritten by e2e/tempest/run --record-times; see e2e/tempest/times.py.\n")
        for test_id in sorted(cost):
            f.write("%.1f %s\n" % (cost[test_id], test_id))
    print("times.py: %d tests, %.0f s in all" % (len(cost), sum(cost.values())))


def load(times_path, workspace):
    times = {}
    with open(times_path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            secs, test_id = line.split(None, 1)
            times[test_id] = secs
    repo_dir = os.path.join(workspace, ".stestr")
    if not os.path.isdir(repo_dir):
        repo_util.get_repo_initialise("file", workspace)
    db = dbm.dumb.open(os.path.join(repo_dir, "times.dbm"), "c")
    try:
        for test_id, secs in times.items():
            db[test_id] = secs
    finally:
        db.close()


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "record":
        record(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "load":
        load(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
