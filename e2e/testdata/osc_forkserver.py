"""A fork server for the openstack CLI, for the e2e tests.

The CLI spends about 0.6 s of CPU importing its modules before each
command, and the e2e tests run it well over a thousand times on a 2-core
machine. This process imports openstackclient once and forks a child per
command, which runs the CLI's own main() exactly as the `openstack`
script does, with the command's arguments, environment, working
directory and standard streams (passed over the socket).

Protocol, one command per connection on the unix socket argv[1] (a
SOCK_SEQPACKET socket, so the request is one message, never split): the
client sends one message holding a JSON object {"argv": [...], "env":
{...}, "cwd": "..."} (at most 1 MiB) with three file
descriptors (stdin, stdout, stderr) as SCM_RIGHTS; the server answers with
the exit status as a decimal line once the child exits. A client that
closes its end first gets its child killed. The server exits when its
parent (the test binary) is gone.
"""

import json
import os
import selectors
import signal
import socket
import sys

from openstackclient import shell  # the import this server exists to share


def run_child(req, fds):
    """In the forked child: become the command and never return."""
    rc = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(req["env"])
        os.chdir(req["cwd"])
        sys.argv = ["openstack"] + req["argv"]
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            rc = shell.main(req["argv"])
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        rc = rc or 0
    except BaseException:  # anything the CLI did not handle itself
        import traceback
        traceback.print_exc()
        rc = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(rc if 0 <= rc < 256 else 1)


def main():
    path = sys.argv[1]
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    print("ready", flush=True)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    children = {}  # pid -> connection
    while True:
        for key, _ in sel.select(timeout=0.05):
            if key.fileobj is listener:
                conn, _ = listener.accept()
                try:
                    msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                    req = json.loads(msg)
                except (OSError, ValueError):
                    conn.close()
                    continue
                if len(fds) != 3:
                    for fd in fds:
                        os.close(fd)
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    sel.close()
                    conn.close()
                    for other in children.values():
                        other.close()
                    run_child(req, fds)
                for fd in fds:
                    os.close(fd)
                children[pid] = conn
                sel.register(conn, selectors.EVENT_READ, pid)
            else:
                # A client that closes (or writes) before its answer gave
                # up: its command is killed.
                try:
                    os.kill(key.data, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = children.pop(pid, None)
            if conn is None:
                continue
            sel.unregister(conn)
            try:
                conn.sendall(b"%d\n" % os.waitstatus_to_exitcode(status))
            except OSError:
                pass
            conn.close()
        if os.getppid() != parent:
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return


if __name__ == "__main__":
    main()
