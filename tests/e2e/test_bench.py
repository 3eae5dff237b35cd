"""The benchmarks at a small size, so they never rot (bench/README.md has the real figures; CI's
are not judged: the machine is shared and noisy)."""
import json

from bench.__main__ import main


def test_every_benchmark_runs_at_a_small_size_and_reports_its_baseline(tmp_path):
    report = main(["--size", "small", "--runs", "1", "--out", str(tmp_path)])
    assert set(report["figures"]) == {"intake", "journal", "latency", "relay"}
    for name in ("intake", "journal", "relay"):
        summary = report["figures"][name]["summary"]
        assert summary["rate_msg_s"] > 0 and summary["baseline_msg_s"] > 0
    latency = report["figures"]["latency"]["summary"]
    assert latency["samples"] == 5 and 0 < latency["p50_ms"] <= latency["p99_ms"]
    assert json.loads((tmp_path / "results-small.json").read_text())["size"] == "small"
    assert (tmp_path / "latency-small.svg").read_text().startswith("<svg")
