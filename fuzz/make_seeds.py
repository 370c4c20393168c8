#!/usr/bin/env python3
"""Writes the fuzzers' seed inputs from the labelled corpus's train split (one file per message;
for the pipeline, a sender's conversation so far; for moderate_jsonl, runs of contract lines)."""
import hashlib, json, pathlib

root = pathlib.Path(__file__).resolve().parent
rows = [json.loads(l) for l in (root.parent / "tests/corpus/train.jsonl").open(encoding="utf-8") if l.strip()]
seeds = root / "seeds"

def write(folder, data: bytes):
    d = seeds / folder
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)

history = {}
for i, r in enumerate(rows):
    text = r["text"]
    write("text", text.encode())
    key = (r.get("conversation"), r["sender_role"])
    earlier = history.setdefault(key, []) if r.get("conversation") else []
    role = b"\x00" if r["sender_role"] == "student" else b"\x01"
    write("pipeline", role + "\u241e".join(earlier[-4:] + [text]).encode())
    earlier.append(text)
    if i % 8 == 0:
        chunk = rows[i:i + 8]
        lines = [json.dumps({k: c[k] for k in ("id", "text", "sender_role", "conversation")}, ensure_ascii=False) for c in chunk]
        write("jsonl", ("\n".join(lines) + "\n").encode())
write("jsonl", b'{"id":"1","text":"text me at four oh three 555 0199","sender_role":"mentor"}\n{not json\n\n')
