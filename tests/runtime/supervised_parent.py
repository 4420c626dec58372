"""Run as a script: a parent that supervises the forking engine as `mdeploy serve` does.

    supervised_parent.py PIDS_FILE PORT GRACE_S

Starts `forking_engine.py` under the supervisor, waits for its health, prints `ready WATCHDOG_PID`
and waits; SIGTERM and SIGINT stop the engine on the way out (SIGTERM raised as an exception, as
`mdeploy serve` does), SIGKILL leaves the stop to the watchdog.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from engine.runtime.supervisor import Supervisor

FORKING_ENGINE = Path(__file__).with_name("forking_engine.py")


class _Terminated(BaseException):
    pass


def _terminated(_signum, _frame) -> None:
    raise _Terminated


def main() -> None:
    pids_file, port, grace_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
    signal.signal(signal.SIGTERM, _terminated)
    argv = [sys.executable, str(FORKING_ENGINE), "--pids", pids_file, "--port", port]
    engine = Supervisor(argv, log=lambda line: print(line, flush=True), grace_s=grace_s)
    engine.start()
    try:
        engine.wait_ready(f"http://127.0.0.1:{port}/health", 60, interval_s=0.05)
        print(f"ready {engine.pid}", flush=True)
        engine.wait()
    except (_Terminated, KeyboardInterrupt):
        pass
    finally:
        engine.stop()


if __name__ == "__main__":
    main()
