"""The threads that write renditions run at a lower priority than the edit's own."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from worker.renditions import BACKGROUND_NICENESS, in_background


def niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_background_thread_is_nicer_and_the_caller_is_not():
    before = niceness()
    with ThreadPoolExecutor(1, initializer=in_background) as background:
        theirs = background.submit(niceness).result()
    assert theirs == min(19, before + BACKGROUND_NICENESS)
    assert niceness() == before
