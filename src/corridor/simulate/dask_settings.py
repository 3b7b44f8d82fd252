"""Dask settings of the clusters corridor starts itself, in a module of their own: the jobs'
embedded cluster and the risk command's local cluster both start with them, and the web service
(which starts the jobs' cluster) must not load the simulator to read them."""

from __future__ import annotations

# Dask settings of the clusters corridor starts itself: Dask's own watching, sampled many times a
# second in every process by default (each worker's profiler every 10 ms, every event loop's health
# every 20 ms, each process's system monitor every 0.5 s and each worker's memory from the nanny every
# 0.1 s), took 6-7 % of a core per idle worker and 3-4 % in the client's process on a 2-core machine:
# CPU the workers lose. Sampled less often, a worker's memory limit is still enforced (within 1 s).
LEAN: dict[str, object] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "200ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.worker.memory.monitor-interval": "1s",
}
