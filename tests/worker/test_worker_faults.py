"""Jobs against faults, with real processes: killed workers, dead gateways, many edits at once,
cancel, and a clean stop."""

import signal
import time

import pytest

from tests.support.factories import image_bytes
from tests.support.live import Gaitu, split_gaitu, stop, wait_for_edit

PHOTO = ("p.jpg", image_bytes((96, 64)), "image/jpeg")


def submit(client, instruction: str = "blur") -> str:
    response = client.post(
        "/api/v1/edits", data={"instruction": instruction}, files={"image": PHOTO}
    )
    assert response.status_code == 202, response.text
    return response.json()["url"]


def running_with_progress(detail: dict) -> bool:
    return detail["status"] == "running" and (detail["progress"] or 0) > 0


@pytest.fixture
def gaitu(tmp_path):
    return Gaitu(tmp_path, GAITU_DEMO_LATENCY="3")


@pytest.fixture
def web(gaitu):
    proc = gaitu.start("serve", "--no-worker")
    gaitu.wait_until_up(proc)
    yield proc
    stop(proc, signal.SIGTERM)


def test_a_worker_killed_mid_edit_leaves_nothing_stuck(gaitu, web):
    client = gaitu.api()
    worker = gaitu.start("run_worker")
    url = submit(client)
    wait_for_edit(client, url, until=running_with_progress)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    time.sleep(0.5)
    assert client.get(url).json()["status"] == "running"  # nobody knows yet

    worker = gaitu.start("run_worker")
    try:
        detail = wait_for_edit(client, url, timeout=30)
    finally:
        stop(worker)
    assert detail["status"] == "succeeded", detail
    assert "Recovered 1 edit" in gaitu.output()


def all_edits(client) -> list[dict]:
    return client.get("/api/v1/edits").json()["results"]


def test_a_worker_killed_with_edits_waiting_for_their_turn_blocks_nobody(tmp_path):
    """One person's burst: some edits run, others wait for a slot or sit in the worker's
    threads; the worker is killed; once it is back, every edit finishes.

    Alone, the person's burst may run past the cap on all the worker's threads but one: three
    threads have two of the six run and the others wait."""
    gaitu = Gaitu(
        tmp_path,
        GAITU_DEMO_LATENCY="2",
        GAITU_MAX_ACTIVE_PER_USER="2",
        GAITU_WORKER_THREADS="3",
    )
    web = gaitu.start("serve", "--no-worker")
    worker = gaitu.start("run_worker")
    try:
        gaitu.wait_until_up(web)
        client = gaitu.api()
        urls = [submit(client, f"mirror {n}") for n in range(6)]
        wait_for_edit(client, urls[0], until=running_with_progress)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        statuses = sorted(edit["status"] for edit in all_edits(client))
        assert statuses.count("running") <= 2 and "queued" in statuses

        worker = gaitu.start("run_worker")
        details = [wait_for_edit(client, url, timeout=60) for url in urls]
        assert [d["status"] for d in details] == ["succeeded"] * 6, details
    finally:
        stop(worker)
        stop(web, signal.SIGTERM)


def test_another_worker_takes_up_a_killed_workers_edits(tmp_path):
    """No restart: the worker that is still there takes the dead one's edits up by itself."""
    gaitu = Gaitu(tmp_path, GAITU_DEMO_LATENCY="3", GAITU_MAX_ACTIVE_PER_USER="4")
    web = gaitu.start("serve", "--no-worker")
    first, second = gaitu.start("run_worker"), gaitu.start("run_worker")
    try:
        gaitu.wait_until_up(web)
        client = gaitu.api()
        urls = [submit(client, f"blur {n}") for n in range(4)]
        for url in urls:
            wait_for_edit(client, url, until=running_with_progress)
        first.send_signal(signal.SIGKILL)
        first.wait()
        details = [wait_for_edit(client, url, timeout=60) for url in urls]
        assert [d["status"] for d in details] == ["succeeded"] * 4, details
    finally:
        stop(second)
        stop(web, signal.SIGTERM)


def test_an_unreachable_gateway_fails_with_that_reason(tmp_path):
    with split_gaitu(
        tmp_path,
        GAITU_API_KEY="sk-live-test-not-a-real-key",
        GAITU_API_BASE="http://127.0.0.1:9/v1",
        GAITU_MAX_ATTEMPTS="2",
    ) as gaitu:
        client = gaitu.api()
        detail = wait_for_edit(client, submit(client), timeout=30)
    assert detail["status"] == "failed"
    assert detail["error"]["code"] == "connection_failed"
    assert "sk-live-test-not-a-real-key" not in gaitu.output() + str(detail)


def test_many_edits_at_once_all_finish(tmp_path):
    with split_gaitu(tmp_path, GAITU_DEMO_LATENCY="1", GAITU_WORKER_THREADS="32") as gaitu:
        clients = [gaitu.api(f"user{n}") for n in range(8)]
        urls = [(client, submit(client, f"mirror {n}")) for client in clients for n in range(4)]
        details = [wait_for_edit(client, url, timeout=90) for client, url in urls]
    assert [d["status"] for d in details] == ["succeeded"] * 32
    assert "database is locked" not in gaitu.output()


def test_a_lone_persons_burst_runs_past_the_cap(tmp_path):
    """Nobody else waits: all five of one person's edits run at once, cap of two or not (with
    someone waiting the cap holds: tests/worker/test_fair_use_alone.py)."""
    with split_gaitu(tmp_path, GAITU_DEMO_LATENCY="2", GAITU_MAX_ACTIVE_PER_USER="2") as gaitu:
        client = gaitu.api()
        ids = [submit(client, f"mirror {n}").rsplit("/", 1)[1] for n in range(5)]
        most_running = 0
        while True:
            # One list request reads every status in one query.
            listed = {d["id"]: d for d in client.get("/api/v1/edits").json()["results"]}
            details = [listed[edit_id] for edit_id in ids]
            running = [n for n, d in enumerate(details) if d["status"] == "running"]
            most_running = max(most_running, len(running))
            if all(d["status"] == "succeeded" for d in details):
                break
            time.sleep(0.1)
    assert most_running == 5


def test_cancel_stops_a_running_edit_quickly(gaitu, web):
    worker = gaitu.start("run_worker")
    try:
        client = gaitu.api()
        url = submit(client, "blur [demo:latency=20]")
        wait_for_edit(client, url, until=running_with_progress)
        began = time.monotonic()
        response = client.post(f"{url}/cancel")
        assert response.status_code == 200
        assert response.json()["status"] == "canceled"
        time.sleep(2.5)  # the worker notices within its watch interval and lets go
        retried = client.post(f"{url}/retry")
        assert retried.status_code == 202
        detail = wait_for_edit(client, url, until=lambda d: d["status"] == "running", timeout=10)
        assert time.monotonic() - began < 10
    finally:
        stop(worker)
    assert detail["status"] == "running"
    assert "failed unexpectedly" not in gaitu.output()


def test_a_queued_edit_is_canceled_at_once(gaitu, web):
    client = gaitu.api()
    url = submit(client)  # no worker running: it stays queued
    response = client.post(f"{url}/cancel")
    assert response.json()["status"] == "canceled"
    assert client.post(f"{url}/cancel").status_code == 409
    worker = gaitu.start("run_worker")
    time.sleep(2)
    stop(worker)
    assert client.get(url).json()["status"] == "canceled"


def test_ctrl_c_lets_running_edits_finish(gaitu):
    serve = gaitu.start("serve")
    gaitu.wait_until_up(serve)
    client = gaitu.api()
    url = submit(client)
    wait_for_edit(client, url, until=running_with_progress)
    assert stop(serve) == 0

    serve = gaitu.start("serve")
    gaitu.wait_until_up(serve)
    try:
        detail = client.get(url).json()
    finally:
        stop(serve)
    assert detail["status"] == "succeeded", detail
