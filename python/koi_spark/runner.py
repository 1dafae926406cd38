"""Running the koi binary as a subprocess: standard input fed from its own
thread, Koi's stderr and exit status surfaced as an exception with Koi's
message (a Spark task that raises fails the job with it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from typing import Iterable, Optional, Sequence, Union

Chunks = Union[bytes, Iterable[bytes]]


class KoiError(RuntimeError):
    """`koi` exited with a non-zero status; the message is Koi's stderr."""

    def __init__(self, args: Sequence[str], status: int, stderr: str):
        self.args_ = list(args)
        self.status = status
        self.stderr = stderr
        lines = [l for l in stderr.splitlines() if l.startswith("koi: error") or l.startswith("koi: internal")]
        message = lines[-1] if lines else (stderr.strip().splitlines()[-1] if stderr.strip() else "no message")
        if status < 0:
            message = f"killed by signal {-status}; {message}"
        super().__init__(f"koi {args[0] if args else ''} failed (exit status {status}): {message}")


def koi_binary(koi: Optional[str] = None) -> str:
    """The koi executable: the argument, $KOI_BINARY, or `koi` on PATH."""
    path = koi or os.environ.get("KOI_BINARY") or shutil.which("koi")
    if not path:
        raise FileNotFoundError("koi binary not found: pass koi=PATH, set KOI_BINARY, or put koi on PATH")
    return path


def run_koi(args: Sequence[str], stdin: Optional[Chunks] = None, koi: Optional[str] = None,
            threads: Optional[int] = None) -> str:
    """Runs `koi ARGS`; returns its stdout. `stdin` (bytes or an iterable
    of byte chunks) is written from a separate thread while stdout and
    stderr are drained, so no pipe fills up. `threads` adds `--threads N`.
    OPENBLAS_NUM_THREADS is 1 for the process: koi runs OpenBLAS on the
    calling thread whatever it says, and so OpenBLAS starts no idle thread
    of its own.

    Raises KoiError with Koi's message when koi exits non-zero or is killed.
    """
    argv = [koi_binary(koi)] + list(args)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    if threads is not None:
        argv += ["--threads", str(threads)]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    feed_error: list = []

    def feed() -> None:
        try:
            chunks = [stdin] if isinstance(stdin, (bytes, bytearray)) else stdin
            for chunk in chunks:  # type: ignore[union-attr]
                p.stdin.write(chunk)  # type: ignore[union-attr]
        except BrokenPipeError:
            pass  # koi stopped reading (an error): its status says why
        except Exception as e:  # noqa: BLE001 - reported after koi exits
            feed_error.append(e)
        finally:
            try:
                p.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass

    feeder = None
    if stdin is not None:
        feeder = threading.Thread(target=feed, name="koi-stdin", daemon=True)
        feeder.start()
    out, err = p.communicate() if stdin is None else _drain(p)
    if feeder is not None:
        feeder.join()
    if p.returncode != 0:
        raise KoiError(args, p.returncode, err.decode("utf-8", "replace"))
    if feed_error:
        raise feed_error[0]
    return out.decode("utf-8", "replace")


def _drain(p: subprocess.Popen):
    """stdout and stderr read to the end on two threads (stdin is fed by
    another); then waits for the process."""
    out: list = []
    err: list = []
    t = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)  # type: ignore[union-attr]
    t.start()
    out.append(p.stdout.read())  # type: ignore[union-attr]
    t.join()
    p.wait()
    return out[0], err[0]
