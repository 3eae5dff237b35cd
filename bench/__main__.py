"""`python -m bench [FIGURE...] [--size small|full] [--runs N] [--out DIR]`: the figures of
bench/README.md, each beside its raw-pika baseline measured in the same run, several runs with
median and min–max. Needs RabbitMQ (management plugin) and PostgreSQL, like the tests."""

import argparse
import functools
import json
import logging
import platform
import statistics
import time
from pathlib import Path

from . import figures, harness, histogram
from .harness import percentile

SIZES = {  # figure: (small, full) arguments
    "intake": ({"n": 500}, {"n": 20_000}),
    "journal": ({"n": 500}, {"n": 20_000}),
    "latency": ({"violations": 5, "per_second": 200}, {"violations": 60, "per_second": 1000}),
    "idle": ({"violations": 5}, {"violations": 60}),
    "apart": ({"violations": 5, "per_second": 200}, {"violations": 60, "per_second": 1000}),
    "priority": ({"violations": 5, "per_second": 200}, {"violations": 60, "per_second": 1000}),
    "relay": ({"n": 500}, {"n": 10_000}),
    "traces": ({"n": 200, "violations": 2}, {"n": 10_000, "violations": 40}),
    "replication": ({"violations": 5, "commits": 200}, {"violations": 40, "commits": 2000}),
    "retention": (
        {"seconds": 40, "per_second": 50, "horizon": 10, "prune_every": 5, "sample_every": 5},
        {"seconds": 600, "per_second": 100, "horizon": 60, "prune_every": 10},
    ),
    "national": ({"services": 1_000, "seconds": 5, "moves": 4}, {"services": 100_000, "seconds": 30, "moves": 20}),
}
BY_NAME_ONLY = {"national", "retention"}  # long (data to make, or a long run): run when named
GOALS = {
    "intake": "≥ 0.3 of the baseline",
    "journal": "≥ 0.3 of the baseline",
    "latency": "p99 ≤ 100 ms with 1,000 other events/s",
    "idle": "p50 ≤ 20 ms, p99 ≤ 50 ms with nothing else flowing",
    "apart": "p99 ≤ 100 ms with 1,000 other events/s, urgent lanes in processes of their own",
    "priority": "p99 ≤ 100 ms with 1,000 other events/s, urgent lanes apart, bulk processes at nice 10",
    "national": "reads p99 under 200 requests/s reported; a counter's move into the densest département < 100 ms",
    "relay": "confirms batched: faster than one confirm per message",
    "traces": "traces on (every span exported over OTLP) cost no more than 10 % of the rate, "
    "and nothing with traces off (no endpoint)",
    "retention": "the inbox and the outbox level off (pruned); only the journal grows",
    "replication": "what synchronous replication costs a commit and a violation's path, against asynchronous",
}


def _cost(runs):
    """The median over runs of each CPU figure (ms per 1,000 events) and statements per event."""
    if "cpu_ms_per_1000" not in runs[0]:
        return {}
    cpu = {k: round(statistics.median(r["cpu_ms_per_1000"].get(k, 0.0) for r in runs), 1) for k in runs[0]["cpu_ms_per_1000"]}
    base = {
        k: round(statistics.median(r["baseline_cpu_ms_per_1000"].get(k, 0.0) for r in runs), 1)
        for k in runs[0]["baseline_cpu_ms_per_1000"]
    }
    statements = {}
    for name in runs[0]["statements"]:
        mine = [r["statements"][name] for r in runs if name in r["statements"]]
        statements[name] = {
            key: round(statistics.median(m[key] for m in mine), 3)
            for key in ("per_event", "commits_per_event", "relay_per_event", "relay_commits_per_event")
            if all(key in m for m in mine)
        }
    hops = {
        k: round(statistics.median(r["hops_ms"][k] for r in runs if k in r.get("hops_ms", {})), 1)
        for k in runs[0].get("hops_ms", {})
    }
    return {"cpu_ms_per_1000": cpu, "baseline_cpu_ms_per_1000": base, "statements_per_event": statements, "hops_ms": hops}


def summarise(name, runs):
    return {**_summarise(name, runs), **_cost(runs)}


def _summarise(name, runs):
    if name == "national":

        def median(*path):
            return statistics.median(functools.reduce(lambda value, key: value[key], path, run) for run in runs)

        return {
            "services": runs[0]["services"],
            "listings": runs[0]["listings"],
            "counter_move_p50_ms": median("counter_move_ms", "p50"),
            "counter_move_max_ms": median("counter_move_ms", "max"),
            **{
                f"{what}_{q}_ms": median("reads", what, f"{q}_ms")
                for what in ("services_by_department", "counter_catalogue")
                for q in ("p50", "p99")
            },
            "reads_rate_req_s": median("reads", "rate_req_s"),
        }
    if name == "retention":

        def tail(run, key):  # the second half of the run: flat once the horizon has passed
            values = [s[key] for s in run["samples"][len(run["samples"]) // 2 :]]
            return min(values), max(values)

        out = {"journal_end": statistics.median(r["samples"][-1]["journal"] for r in runs)}
        for key in ("audit_inbox", "distribution_inbox", "distribution_outbox"):
            out[f"{key}_second_half"] = [
                statistics.median(tail(r, key)[0] for r in runs),
                statistics.median(tail(r, key)[1] for r in runs),
            ]
        out["audit_inbox_end_to_journal"] = statistics.median(
            r["samples"][-1]["audit_inbox"] / max(1, r["samples"][-1]["journal"]) for r in runs
        )
        return out
    if name == "replication":
        out = {}
        for mode in ("asynchronous", "synchronous"):
            for q in (50, 99):
                out[f"{mode}_commit_p{q}_ms"] = statistics.median(percentile(r[f"{mode}_commit_ms"], q) for r in runs)
                out[f"{mode}_violation_p{q}_ms"] = statistics.median(1000 * percentile(r[f"{mode}_latencies"], q) for r in runs)
        out["commit_p50_ratio"] = out["synchronous_commit_p50_ms"] / out["asynchronous_commit_p50_ms"]
        out["violation_p50_ratio"] = out["synchronous_violation_p50_ms"] / out["asynchronous_violation_p50_ms"]
        return out
    if name == "traces":
        out = {}
        for mode in ("off", "on"):
            out[f"{mode}_journal_rate"] = statistics.median(r[mode]["journal_rate"] for r in runs)
            out[f"{mode}_journal_ratio"] = statistics.median(r[mode]["journal_rate"] / r[mode]["journal_baseline"] for r in runs)
            out[f"{mode}_journal_audit_cpu_ms_per_1000"] = statistics.median(
                r[mode]["journal_audit_cpu_ms_per_1000"] for r in runs
            )
            for q in (50, 99):
                out[f"{mode}_idle_p{q}_ms"] = 1000 * statistics.median(percentile(r[mode]["idle_latencies"], q) for r in runs)
            out[f"{mode}_spans"] = statistics.median(r[mode]["spans"] for r in runs)
        out["on_to_off_journal_rate"] = out["on_journal_rate"] / out["off_journal_rate"]
        out["on_to_off_idle_p50"] = out["on_idle_p50_ms"] / out["off_idle_p50_ms"]
        return out
    if name in ("latency", "idle", "apart", "priority"):
        every = [x for r in runs for x in r["latencies"]]
        per_run = [(percentile(r["latencies"], 50), percentile(r["latencies"], 99)) for r in runs]
        return {
            "p50_ms": 1000 * statistics.median(p for p, _ in per_run),
            "p50_ms_range": [1000 * min(p for p, _ in per_run), 1000 * max(p for p, _ in per_run)],
            "p99_ms": 1000 * statistics.median(q for _, q in per_run),
            "p99_ms_range": [1000 * min(q for _, q in per_run), 1000 * max(q for _, q in per_run)],
            "samples": len(every),
            "baseline_msg_s": statistics.median(r["baseline"] for r in runs),
        }
    ratios = [r["rate"] / r["baseline"] for r in runs]
    extra = {"before_msg_s": statistics.median(r["before"] for r in runs)} if "before" in runs[0] else {}
    return {
        **extra,
        "rate_msg_s": statistics.median(r["rate"] for r in runs),
        "rate_range": [min(r["rate"] for r in runs), max(r["rate"] for r in runs)],
        "baseline_msg_s": statistics.median(r["baseline"] for r in runs),
        "ratio": statistics.median(ratios),
        "ratio_range": [min(ratios), max(ratios)],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "figures",
        nargs="*",
        metavar="FIGURE",
        help=f"any of {', '.join(SIZES)} (default: all but {', '.join(sorted(BY_NAME_ONLY))})",
    )
    parser.add_argument("--size", choices=("small", "full"), default="full")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--fresh", action="store_true", help="national: make the data again instead of copying the kept template databases"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument(
        "--driver",
        choices=("psycopg", "pg8000"),
        default="psycopg",
        help="the services' PostgreSQL driver (default: SPC's, psycopg 3)",
    )
    args = parser.parse_args(argv)
    harness.DRIVER = args.driver
    unknown = set(args.figures) - set(SIZES)
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(sorted(unknown))}; choose from {', '.join(SIZES)}")
    args.figures = args.figures or [name for name in SIZES if name not in BY_NAME_ONLY]
    logging.basicConfig(level=logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "size": args.size,
        "driver": args.driver,
        "figures": {},
    }
    for name in args.figures:
        kwargs = dict(SIZES[name][args.size == "full"], **({"reuse": False} if name == "national" and args.fresh else {}))
        runs = []
        for i in range(args.runs):
            started = time.monotonic()
            runs.append(getattr(figures, name)(**kwargs))
            print(f"{name} run {i + 1}/{args.runs} ({time.monotonic() - started:.0f} s): {_brief(name, runs[-1])}", flush=True)
        report["figures"][name] = {
            "measured": time.strftime("%Y-%m-%d"),
            "arguments": kwargs,
            "goal": GOALS[name],
            "summary": summarise(name, runs),
            "runs": runs,
        }
        if name in ("latency", "idle", "apart", "priority"):
            histogram.svg(
                [x * 1000 for r in runs for x in r["latencies"]],
                args.out / f"{name}-{args.size}.svg",
                "violation → suspended in registry, funding and distribution (ms)",
            )
        print(json.dumps({name: report["figures"][name]["summary"]}, indent=1), flush=True)
        _write(args, report)  # after each figure: a later one failing loses nothing measured
    return report


def _write(args, report):
    """Into results-<size>[-<driver>].json, keeping the figures not run this time from the file
    (each says the day it was measured)."""
    suffix = "" if args.driver == "psycopg" else f"-{args.driver}"
    path = args.out / f"results-{args.size}{suffix}.json"
    kept = json.loads(path.read_text())["figures"] if path.exists() else {}
    path.write_text(json.dumps(dict(report, figures={**kept, **report["figures"]}), indent=1))


def _brief(name, run):
    if name == "retention":
        last = run["samples"][-1]
        return (
            f"{last['sent']} sent; at the end audit's inbox {last['audit_inbox']}, its journal "
            f"{last['journal']}, distribution's inbox {last['distribution_inbox']}"
        )
    if name == "replication":
        return ", ".join(
            f"{mode}: commit p50 {percentile(run[mode + '_commit_ms'], 50):.2f} ms, violation p50 "
            f"{1000 * percentile(run[mode + '_latencies'], 50):.0f} ms"
            for mode in ("asynchronous", "synchronous")
        )
    if name == "national":
        reads = run["reads"]
        return (
            f"{run['services']} services, {run['listings']} listings; move {run['counter_move_ms']['p50']:.0f} ms; "
            f"services p99 {reads['services_by_department']['p99_ms']:.0f} ms, catalogue p99 "
            f"{reads['counter_catalogue']['p99_ms']:.0f} ms at {reads['rate_req_s']:.0f} req/s"
        )
    if name == "traces":
        return ", ".join(
            f"traces {mode}: journal {run[mode]['journal_rate']:.0f} events/s, idle p50 "
            f"{1000 * percentile(run[mode]['idle_latencies'], 50):.0f} ms, {run[mode]['spans']} spans"
            for mode in ("off", "on")
        )
    if name in ("latency", "idle", "apart", "priority"):
        ms = sorted(1000 * x for x in run["latencies"])
        return f"p50 {percentile(ms, 50):.0f} ms, max {ms[-1]:.0f} ms, baseline {run['baseline']:.0f} msg/s"
    before = f" (before: {run['before']:.0f} msg/s)" if "before" in run else ""
    return f"{run['rate']:.0f} msg/s{before} vs baseline {run['baseline']:.0f} msg/s ({run['rate'] / run['baseline']:.2f})"


if __name__ == "__main__":
    main()
