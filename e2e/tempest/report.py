"""Summarise a Tempest run against kumo.

Usage: report.py SUBUNIT_FILE ALL_TESTS_FILE EXCLUDE_FILE OUT_LIST [RESULTS_MD]

Reads the subunit v2 stream of the run, writes one line per test
("status test_id [reason]") to OUT_LIST, counts by API area, optionally
rewrites RESULTS_MD, and prints "N passed, N failed, N skipped" last.
ALL_TESTS_FILE lists every test the run's regex selects before exclusions,
so the excluded count is exact.
"""

import datetime
import re
import sys

import subunit
import testtools

AREAS = [
    ("identity v3", "tempest.api.identity.v3."),
    ("identity admin v3", "tempest.api.identity.admin.v3."),
    ("image v2", "tempest.api.image.v2."),
    ("compute", "tempest.api.compute."),
    ("network", "tempest.api.network."),
    ("volume v3", "tempest.api.volume."),
]


def area_of(test_id):
    # A class-level skip or failure arrives as "setUpClass (module.Class)".
    m = re.match(r"^\w+ \((.*)\)$", test_id)
    if m:
        test_id = m.group(1) + "."
    for name, prefix in AREAS:
        if test_id.startswith(prefix):
            return name
    return "other"


def strip_attrs(test_id):
    return re.sub(r"\[.*\]$", "", test_id)


def read_results(path):
    results, reasons = {}, {}
    details = {}

    def on_status(test_id=None, test_status=None, file_name=None, file_bytes=None, **kw):
        if test_id is None:
            return
        if file_name and file_bytes:
            details.setdefault(test_id, {}).setdefault(file_name, b"")
            details[test_id][file_name] += bytes(file_bytes)
        if test_status in ("success", "fail", "skip", "xfail", "uxsuccess"):
            results[test_id] = test_status
            d = details.get(test_id, {})
            text = d.get("reason", b"") or d.get("traceback", b"")
            reasons[test_id] = text.decode(errors="replace")

    class R(testtools.StreamResult):
        def status(self, **kw):
            on_status(**kw)

    with open(path, "rb") as f:
        case = subunit.ByteStreamToStreamResult(f, non_subunit_name="stdout")
        r = R()
        r.startTestRun()
        case.run(r)
        r.stopTestRun()
    return results, reasons


def one_line(text):
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    if not lines:
        return ""
    return lines[-1][:300]


def main():
    subunit_file, all_file, exclude_file, out_list = sys.argv[1:5]
    results_md = sys.argv[5] if len(sys.argv) > 5 else None
    results, reasons = read_results(subunit_file)
    # setUpClass failures and skips arrive as pseudo tests; keep them.
    counts = {}
    for name, _ in AREAS + [("other", "")]:
        counts[name] = {"passed": 0, "failed": 0, "skipped": 0, "excluded": 0}
    with open(out_list, "w") as f:
        for test_id in sorted(results):
            st = results[test_id]
            kind = {"success": "passed", "xfail": "passed", "skip": "skipped"}.get(st, "failed")
            counts[area_of(test_id)][kind] += 1
            line = "%-7s %s" % (kind, test_id)
            if kind != "passed" and reasons.get(test_id):
                line += "  # " + one_line(reasons[test_id])
            f.write(line + "\n")

    excludes = []
    with open(exclude_file) as f:
        for line in f:
            pattern = line.split("#", 1)[0].strip()
            if pattern:
                excludes.append(re.compile(pattern))
    with open(all_file) as f:
        for test_id in (l.strip() for l in f):
            if test_id.startswith("tempest.") and any(p.search(test_id) for p in excludes):
                counts[area_of(test_id)]["excluded"] += 1

    total = {k: sum(c[k] for c in counts.values()) for k in ("passed", "failed", "skipped", "excluded")}
    if results_md:
        write_results(results_md, counts, total)
    for name in counts:
        c = counts[name]
        if any(c.values()):
            print("%-12s %4d passed, %4d failed, %4d skipped, %4d excluded" % (
                name, c["passed"], c["failed"], c["skipped"], c["excluded"]))
    print("%d passed, %d failed, %d skipped" % (total["passed"], total["failed"], total["skipped"]))


def write_results(path, counts, total):
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Tempest",
        "",
        "Tempest 33 (Debian's `tempest` package) against kumo on the fake driver, "
        "run by `e2e/tempest/run` on %s. Excluded tests are listed with their reason "
        "in [exclude.txt](exclude.txt); skips are Tempest's own (features kumo does "
        "not offer; a skipped test class counts once). "
        "Regenerate with `KUMO_TEMPEST_RESULTS=e2e/tempest/RESULTS.md e2e/tempest/ci`." % today,
        "",
        "| API area | passed | failed | skipped | excluded |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, _ in AREAS:
        c = counts[name]
        lines.append("| %s | %d | %d | %d | %d |" % (name, c["passed"], c["failed"], c["skipped"], c["excluded"]))
    lines.append("| **total** | %d | %d | %d | %d |" % (
        total["passed"], total["failed"], total["skipped"], total["excluded"]))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
