#!/usr/bin/env python3
"""Regenerate the public training subsets in this folder from ../shared/datasets/ (stdlib only).

Usage: python3 data/training/prepare.py ../shared/datasets data/training
Deterministic (fixed seed). Output: one JSON object per line:
  {"id", "text", "source", "labels": [categories], "known": [categories the labels speak for],
   "split": "train" | "holdout", "group": str}
Categories not in `known` are not trained on for that line (e.g. a tweet labelled only for
harassment says nothing about `meeting`).
"""
import csv, json, random, sys, os

src, out = sys.argv[1], sys.argv[2]
rnd = random.Random(20261124)
csv.field_size_limit(10**7)

def write(name, rows):
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(name, len(rows))

# HateCheck: all cases; ~30% of templates held out (never trained) to measure spelling robustness.
rows = list(csv.DictReader(open(os.path.join(src, "hatecheck/test_suite_cases.csv"), encoding="utf-8")))
templ = sorted({r["templ_id"] for r in rows if not r["functionality"].startswith("spell_")}, key=int)
hold = set(rnd.sample(templ, int(len(templ) * 0.3)))
hc = []
for r in rows:
    base_t = r["ref_templ_id"] if r["functionality"].startswith("spell_") and r["ref_templ_id"] else r["templ_id"]
    base_t = base_t.split(".")[0]
    hc.append({
        "id": "hc-" + r["case_id"], "text": r["test_case"].strip(), "source": "hatecheck",
        "labels": ["harassment"] if r["label_gold"] == "hateful" else [], "known": ["harassment"],
        "split": "holdout" if base_t in hold else "train", "group": r["functionality"],
    })
write("hatecheck.jsonl", hc)

# Davidson: hate + offensive -> harassment; neither -> negative. Subsample.
rows = list(csv.DictReader(open(os.path.join(src, "davidson/labeled_data.csv"), encoding="utf-8")))
by = {"0": [], "1": [], "2": []}
for r in rows:
    by[r["class"]].append(r)
dv = []
for cls, n in (("0", 1430), ("1", 1000), ("2", 1200)):
    for r in rnd.sample(by[cls], min(n, len(by[cls]))):
        dv.append({"id": "dv-" + r[""], "text": r["tweet"].strip(), "source": "davidson",
                   "labels": ["harassment"] if cls in ("0", "1") else [], "known": ["harassment"],
                   "split": "train", "group": {"0": "hate", "1": "offensive", "2": "neither"}[cls]})
write("davidson.jsonl", dv)

# ConvAbuse: user turn; abusive when most annotators scored it < 0; sexual harassment when
# most annotators who called it abusive also ticked sex_harassment.
ca = []
for fn in ("ConvAbuseEMNLPtrain.csv", "ConvAbuseEMNLPvalid.csv"):
    for r in csv.DictReader(open(os.path.join(src, "convabuse", fn), encoding="utf-8")):
        votes, abusive, sexual = 0, 0, 0
        for a in range(1, 9):
            k = f"Annotator{a}_is_abuse."
            vals = {s: r.get(k + s) for s in ("1", "0", "-1", "-2", "-3")}
            if all(v in (None, "") for v in vals.values()):
                continue
            if not any(v == "1" for v in vals.values()):
                continue
            votes += 1
            if any(vals[s] == "1" for s in ("-1", "-2", "-3")):
                abusive += 1
                if r.get(f"Annotator{a}_sex_harassment") == "1":
                    sexual += 1
        text = (r["user"] or "").strip()
        if votes == 0 or not text or len(text) < 3:
            continue
        labels = []
        if abusive * 2 > votes:
            labels.append("harassment")
            if sexual * 2 >= abusive:
                labels.append("sexual")
        ca.append({"id": "ca-" + r["example_id"], "text": text, "source": "convabuse", "labels": labels,
                   "known": ["harassment", "sexual"], "split": "train", "group": r["bot"]})
seen, dedup = set(), []
for r in ca:
    k = r["text"].lower()
    if k in seen:
        continue
    seen.add(k)
    dedup.append(r)
pos = [r for r in dedup if r["labels"]]
neg = [r for r in dedup if not r["labels"]]
ca = pos + rnd.sample(neg, min(len(neg), 1500))
ca.sort(key=lambda r: r["id"])
write("convabuse.jsonl", ca)

# SMS ham: everyday short messages as negatives for harassment, sexual and self_harm only
# (between adults "call me" or "meet at 5" would be off_platform/meeting on Trellis).
rows = [l.rstrip("\n").split("\t", 1) for l in open(os.path.join(src, "sms-spam/SMSSpamCollection"), encoding="utf-8")][1:]
ham = [t for lab, t in rows if lab == "ham"]
sm = [{"id": f"sms-{i}", "text": t.strip(), "source": "sms-spam", "labels": [],
       "known": ["harassment", "sexual", "self_harm"], "split": "train", "group": "ham"}
      for i, t in sorted(rnd.sample(list(enumerate(ham)), 1500))]
write("sms-ham.jsonl", sm)
