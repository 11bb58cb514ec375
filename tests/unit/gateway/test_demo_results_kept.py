"""The demo gateway keeps its results long enough for a full worker's burst to fetch them,
within a bound on count and bytes (gateway/demo/wire.py)."""

from gateway.demo.wire import ResultStore


def test_every_result_of_a_burst_of_256_is_still_there_when_all_answer_at_once():
    store = ResultStore()
    keys = [store.put(b"x" * 500_000) for _ in range(256)]
    assert all(store.get(key) is not None for key in keys)


def test_the_oldest_go_first_past_the_count_or_the_bytes():
    by_count = ResultStore(capacity=3, max_bytes=10**9)
    keys = [by_count.put(b"a") for _ in range(5)]
    assert [by_count.get(key) is not None for key in keys] == [False, False, True, True, True]

    by_bytes = ResultStore(capacity=100, max_bytes=10)
    keys = [by_bytes.put(b"12345") for _ in range(3)]
    assert [by_bytes.get(key) is not None for key in keys] == [False, True, True]
    # One result larger than the budget is still kept until the next comes.
    big = by_bytes.put(b"z" * 50)
    assert by_bytes.get(big) == b"z" * 50
