"""The benchmarks at a small size, so they never rot (bench/README.md has the real figures; CI's
are not judged: the machine is shared and noisy)."""

import json
import math

from bench.__main__ import main


def test_every_benchmark_runs_at_a_small_size_and_reports_its_baseline(tmp_path):
    report = main(["--size", "small", "--runs", "1", "--out", str(tmp_path)])
    assert set(report["figures"]) == {
        "intake",
        "journal",
        "latency",
        "idle",
        "apart",
        "priority",
        "relay",
        "replication",
        "traces",
    }
    for name in ("intake", "journal", "relay"):
        summary = report["figures"][name]["summary"]
        assert summary["rate_msg_s"] > 0 and summary["baseline_msg_s"] > 0
    for name in ("latency", "idle", "apart", "priority"):
        latency = report["figures"][name]["summary"]
        assert latency["samples"] == 5 and 0 < latency["p50_ms"] <= latency["p99_ms"]
    for name in ("intake", "journal", "latency", "idle"):  # what each costs: CPU and statements
        summary = report["figures"][name]["summary"]
        assert summary["baseline_cpu_ms_per_1000"]["pika"] > 0
        assert summary["statements_per_event"]["audit"]["per_event"] > 0
        # intake and journal take off what a restart of audit costs, measured on another restart:
        # at this size (500 events, a tenth of a second of work) a slower start on a busy machine
        # outweighs the work (CI once read -460 ms per 1,000). Reported, not judged; the others
        # count from a snapshot of processes already running
        cpu = summary["cpu_ms_per_1000"]["audit"]
        assert cpu > 0 if name in ("latency", "idle") else math.isfinite(cpu)
    idle = report["figures"]["idle"]["summary"]["statements_per_event"]
    assert set(idle) == {"registry", "funding", "distribution", "audit"}
    for name in ("apart", "priority"):  # the urgent processes took the violations
        apart = report["figures"][name]["summary"]
        assert apart["statements_per_event"]["registry (urgent)"]["per_event"] > 0
    replication = report["figures"]["replication"]["summary"]  # both modes measured, side by side
    for mode in ("asynchronous", "synchronous"):
        assert 0 < replication[f"{mode}_commit_p50_ms"] <= replication[f"{mode}_commit_p99_ms"]
        assert 0 < replication[f"{mode}_violation_p50_ms"]
    traces = report["figures"]["traces"]["summary"]  # off: not one span made; on: every hop's, received
    assert traces["off_spans"] == 0 and traces["on_spans"] > 100
    assert traces["off_journal_rate"] > 0 and traces["on_journal_rate"] > 0 and traces["on_idle_p50_ms"] > 0
    assert json.loads((tmp_path / "results-small.json").read_text())["size"] == "small"
    assert (tmp_path / "latency-small.svg").read_text().startswith("<svg")


def test_the_national_figure_runs_at_a_small_size(tmp_path):
    """What `python -m bench national` makes and measures, with 1,000 services instead of 100,000."""
    report = main(["national", "--size", "small", "--runs", "1", "--out", str(tmp_path)])
    run = report["figures"]["national"]["runs"][0]
    assert run["services"] == 1_000 and run["counters"] == 2_845
    assert run["listings"] >= 800 and run["densest_department"]["published_listings"] > 0
    assert run["counter_move_ms"]["runs"] == 4 and run["counter_move_ms"]["p50"] > 0
    for what in ("services_by_department", "counter_catalogue"):
        assert run["reads"][what]["requests"] > 100 and 0 < run["reads"][what]["p50_ms"] <= run["reads"][what]["p99_ms"]


def test_the_retention_figure_shows_the_pruned_tables_level_off(tmp_path):
    """What `python -m bench retention` measures over 10 minutes, in 40 s: kept 10 s, pruned every 5 s."""
    report = main(["retention", "--size", "small", "--runs", "1", "--out", str(tmp_path)])
    run = report["figures"]["retention"]["runs"][0]
    last = run["samples"][-1]
    assert last["journal"] > 1000  # audit journaled everything (never pruned)
    # its inbox holds only the last horizon and prune interval of it (a copy past that: docs/reliability.md)
    assert last["audit_inbox"] < 0.6 * last["journal"]
    assert report["figures"]["retention"]["summary"]["audit_inbox_second_half"][1] < last["journal"]
