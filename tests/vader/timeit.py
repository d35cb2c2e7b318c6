#!/usr/bin/python3
"""timeit.py - the CPU time and wall time of one command, for the benchmark.

    /usr/bin/python3 tests/vader/timeit.py IN OUT COMMAND [ARG...]

Runs COMMAND with stdin from the file IN and stdout into the file OUT, and
prints "CPU WALL": the user + system seconds the command used (os.wait4's
resource usage of that one child) and the elapsed seconds. On a machine
shared with other work, CPU time is what a program costs; wall time also
counts the time it waited for a core. Exits with the command's status.
"""
import os
import subprocess
import sys
import time


def main():
    src, dst, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(src, "rb") as i, open(dst, "wb") as o:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdin=i, stdout=o)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    print("%.6f %.6f" % (ru.ru_utime + ru.ru_stime, wall))
    sys.exit(p.returncode)


main()
