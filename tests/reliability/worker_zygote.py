"""Starts `sleutelbrug worker` processes within a fraction of a second, for the kill test.

This process imports the bot once, then for each line on stdin (JSON: the command-line
arguments and a log file) forks a worker and prints `forked <pid>`. The worker itself prints
`worker <host>-<pid> ready` on the same stdout once it reads the stream. Killed workers are
reaped by the kernel, so the test can SIGKILL them by pid.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from bot import cli


def main() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(log, sys.stderr.fileno())
            os.close(log)
            os._exit(cli.main(request["argv"]))
        print(f"forked {pid}", flush=True)


if __name__ == "__main__":
    main()
