"""Make a copy of Debian's tempest package run as upstream Tempest.

Usage: upstream.py TEMPEST_PACKAGE_DIR

Debian's tempest (1:29.0.0-3 on) carries add-delay-in-subnet-teardown.patch,
a 10 s sleep before every subnet delete in the network client, for ports
its Neutron tears down late. Upstream Tempest has no such sleep; with it a
run against kumo sleeps through some 240 subnet deletes, most of its time.
This puts upstream's delete_subnet back in the copy (the package itself is
left alone) and says so; a package without the patch is left as it is.
"""

import os
import sys

PATCHED = """    def delete_subnet(self, subnet_id):
        # This avoids failures when it takes time to teardown some ports
        # and deleting a subnet happens too early.
        time.sleep(10)
        uri = '/subnets/%s' % subnet_id
"""

UPSTREAM = """    def delete_subnet(self, subnet_id):
        uri = '/subnets/%s' % subnet_id
"""


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    path = os.path.join(sys.argv[1], "lib", "services", "network", "subnets_client.py")
    with open(path) as f:
        src = f.read()
    if PATCHED not in src:
        return
    with open(path, "w") as f:
        f.write(src.replace(PATCHED, UPSTREAM))
    print("upstream.py: delete_subnet without Debian's 10 s delay", file=sys.stderr)


if __name__ == "__main__":
    main()
