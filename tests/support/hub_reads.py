"""The live hub's reads in the test's own thread, for tests inside a database transaction."""

import pytest
from asgiref.sync import sync_to_async

import live.hub


class ReadsInTheTestThread:
    """Where the hub reads, in these tests: the test's rows are in its transaction, which only
    its own thread's connection sees. (The end-to-end tests run the hub's own thread.)"""

    async def run(self, call, *args):
        return await sync_to_async(call)(*args)

    async def close(self):
        pass


@pytest.fixture(autouse=True)
def hub_reads_in_the_test_thread(monkeypatch):
    monkeypatch.setattr(live.hub, "HubThread", ReadsInTheTestThread)
