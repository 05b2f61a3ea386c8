"""Signals and Dask addresses: a stopped batch leaves no workers and prints one line; a bad scheduler
address is refused up front, saying what was found there."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "networks" / "tiny"


def _children(pid: int) -> set[int]:
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _default_sigint() -> None:
    """A terminal's Ctrl-C reaches the batch even when the test run itself was started in the
    background (where a shell hands its children SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_batch(
    tmp_path: Path, *extra: str, days: int = 200
) -> tuple[subprocess.Popen[str], Path]:
    sc = tmp_path / "long.toml"
    sc.write_text(f'name = "long"\nnetwork = "{TINY.as_posix()}"\nhorizon_days = {days}\n')
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim.cli", "run", str(sc), "--reps", "500", "--out", str(out),
           "--quiet", *extra]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        start_new_session=True, preexec_fn=_default_sigint,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (out / "manifest.json").exists() or len(_children(proc.pid)) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(1.0)  # the workers are busy with replications
    return proc, out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the workers")
def test_sigterm_on_a_pool_batch_leaves_no_worker_behind(tmp_path: Path) -> None:
    # replications of ~4 s each: a parent that waited for its workers' tasks would be slow to stop
    proc, out = _start_batch(tmp_path, "--workers", "2", days=36500)
    workers = _children(proc.pid)
    assert len(workers) >= 2
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    gone = time.monotonic()
    assert gone - sent < 2.0, "the batch did not stop promptly"
    assert proc.returncode == 130
    assert err == "interrupted (finished replications are kept; rerun with --resume)\n"
    while any(_alive(w) for w in workers):
        assert time.monotonic() - gone < 5, "a worker outlived the batch by more than 5 s"
        time.sleep(0.05)
    assert (out / "manifest.json").exists()


@pytest.mark.parametrize("where", [["--workers", "2"], ["--scheduler", "local"]],
                         ids=["pool", "dask-local"])  # fmt: skip
def test_ctrl_c_stops_pool_or_local_cluster_with_one_line(tmp_path: Path, where: list[str]) -> None:
    proc, _ = _start_batch(tmp_path, *where)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert "interrupted (finished replications are kept; rerun with --resume)" in err, err


# --- bad Dask scheduler addresses ---------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes | None]]]:
    """A TCP listener on a free port; put the bytes it sends to each client (None: close) in the list."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    say: list[bytes | None] = []
    conns: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            conns.append(c)
            if say and say[0] is None:
                c.close()
            elif say:
                c.sendall(say[0] or b"")

    threading.Thread(target=serve, daemon=True).start()
    yield srv.getsockname()[1], say
    srv.close()
    for c in conns:
        c.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


ADDRESS_CASES = [
    ("no-port", "garbage", "must be tcp://host:port"),
    ("empty-host", "tcp://:8786", "must be tcp://host:port"),
    ("port-too-big", "tcp://127.0.0.1:99999", "a port in 1..65535"),
    ("port-zero", "tcp://127.0.0.1:0", "a port in 1..65535"),
    ("port-not-number", "tcp://127.0.0.1:http", "a port in 1..65535"),
    ("unknown-protocol", "udp://127.0.0.1:8786", "unknown protocol 'udp'"),
    ("http-url", "http://127.0.0.1:8787/status", "unknown protocol 'http'"),
    ("unknown-host", "tcp://no-such-host.invalid:8786", "host 'no-such-host.invalid' not found"),
    ("blank", "   ", "scheduler must be 'local' or a Dask scheduler address"),
]


@pytest.mark.parametrize(("address", "expect"), [c[1:] for c in ADDRESS_CASES],
                         ids=[c[0] for c in ADDRESS_CASES])  # fmt: skip
def test_bad_scheduler_address(
    capsys: pytest.CaptureFixture[str], tiny: Path, address: str, expect: str
) -> None:
    assert main(["run", str(tiny), "--reps", "2", "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expect in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("say", "expect"),
    [
        ([], "found a listener that sent nothing within 1 s"),
        ([None], "found a listener that sent nothing within 1 s or closed the connection"),
        ([b"SSH-2.0-OpenSSH_9.6\r\n"], "not a Dask scheduler (it says 'SSH-2.0-OpenSSH_9.6')"),
        ([b"HTTP/1.1 400 Bad Request\r\n\r\n"], "(it says 'HTTP/1.1 400 Bad Request')"),
        ([b"\x00" * 8 + b"\xff" * 8], "not a Dask scheduler"),
    ],
    ids=["silent", "closes", "ssh", "http", "binary"],
)
def test_something_else_at_the_scheduler_address(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tiny: Path,
    listener: tuple[int, list[bytes | None]],
    say: list[bytes | None],
    expect: str,
) -> None:
    monkeypatch.setenv("BORDERFLOW_DASK_TIMEOUT", "1")
    port, script = listener
    script.extend(say)
    t0 = time.monotonic()
    assert main(["run", str(tiny), "--reps", "2", "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    assert time.monotonic() - t0 < 10  # the whole handshake is timed, not only the connect
    err = capsys.readouterr().err
    assert f"the Dask scheduler address tcp://127.0.0.1:{port}: " in err
    assert expect in err and "Traceback" not in err


def test_nothing_listening_at_the_scheduler_address(
    capsys: pytest.CaptureFixture[str], tiny: Path
) -> None:
    port = _closed_port()
    assert main(["run", str(tiny), "--reps", "2", "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    assert "nothing listens there" in capsys.readouterr().err


def test_a_real_scheduler_passes_the_probe() -> None:
    distributed = pytest.importorskip("distributed")
    from sim.batch.engines import probe_scheduler

    with distributed.LocalCluster(
        n_workers=0, processes=True, dashboard_address=":0", protocol="tcp"
    ) as cluster:
        probe_scheduler(cluster.scheduler_address, timeout=5)
