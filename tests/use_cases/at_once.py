"""Running one piece of work in several threads that start together, as replicas would."""

import threading


def at_once(work, times: int = 2, timeout: float = 60) -> list:
    """``work()`` in ``times`` threads released at the same moment; their results, in the order
    they finished."""
    barrier = threading.Barrier(times)
    results: list = []

    def replica():
        barrier.wait(timeout=10)
        results.append(work())

    threads = [threading.Thread(target=replica) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
