#!/usr/bin/env bash
# API fuzzing: schemathesis (pinned, in a venv under ~/.cache) against a real `trellis serve --demo`
# on a temporary SQLite database, driven by the OpenAPI document the server serves at
# /api/v1/openapi.json. It runs once per role (student, mentor, guardian, teacher, coordinator)
# with that role's bearer token, with half of the generated ids and references drawn from the demo
# data so requests reach past the 404s into the handlers' logic. Any 5xx answer, a response that
# does not match its documented status, content type or schema, or a panic in the server log
# fails the run.
#
# Usage: .ci/schemathesis.sh   (TRELLIS_BIN: the binary, default $CARGO_TARGET_DIR/debug/trellis;
#        SCHEMATHESIS_EXAMPLES: examples per operation and role, default 30;
#        SCHEMATHESIS_SEED: a seed to replay a run; SCHEMATHESIS_DATABASE_URL: another (empty)
#        database, e.g. PostgreSQL with a binary built with the postgres feature;
#        SCHEMATHESIS_KEEP=1 keeps the server's folder,
#        logs and a HAR file of every request per role)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

version=4.32.5
venv="$HOME/.cache/trellis-schemathesis-$version"
bin="${TRELLIS_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/trellis-ci-target}/debug/trellis}"
examples="${SCHEMATHESIS_EXAMPLES:-30}"
seed="${SCHEMATHESIS_SEED:-$(date +%s)}"

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv" 2>/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
    python3 -m venv "$venv"
  }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi
"$venv/bin/schemathesis" --version

[ -x "$bin" ] || { echo "no trellis binary at $bin (build it, or set TRELLIS_BIN)" >&2; exit 1; }
work=$(mktemp -d /tmp/trellis-schemathesis.XXXXXX)
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "${SCHEMATHESIS_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

(cd "$work" && TRELLIS_DATA_DIR="$work" TRELLIS_MODELS_DIR="$root/models" TRELLIS_POLICIES_DIR="$root/policies" \
  TRELLIS_LOG=warn TRELLIS_MAIL_TRANSPORT=memory \
  exec "$bin" serve --demo --bind "127.0.0.1:$port" --database "${SCHEMATHESIS_DATABASE_URL:-sqlite://$work/trellis.db}") \
  >"$work/server.out" 2>"$work/server.log" &
server=$!
for _ in $(seq 1 150); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; echo "the server stopped" >&2; exit 1; }
  sleep 0.2
done
curl -fsS "$base/healthz" >/dev/null

# Tokens for the demo accounts (before fuzzing POST /tokens, whose failed sign-ins lock this
# client address out), and the demo data's ids, read through the API as the coordinator.
"$venv/bin/python" - "$base" "$work" <<'PY'
import json, sys, urllib.request

base, work = sys.argv[1], sys.argv[2]

def call(method, path, token=None, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        return json.load(r)

tokens = {}
for who in ["student1", "student3", "mentor1", "mentor3", "guardian1", "teacher", "coordinator", "revoker"]:
    email = ("student2" if who == "revoker" else who) + "@demo.trellis.test"
    tokens[who] = call("POST", "/api/v1/tokens", body={"email": email, "password": "trellis-demo-2026"})["token"]
for who, token in tokens.items():
    open(f"{work}/token.{who}", "w").write(token)

coord = tokens["coordinator"]
kinds = {k: set() for k in ["conversations", "matches", "requests", "messages", "students", "mentors", "goals"]}
for c in call("GET", "/api/v1/conversations", coord)["conversations"]:
    kinds["conversations"].add(c["id"])
    kinds["matches"].add(c["match_id"])
    kinds["students"].add(c["student_id"])
    kinds["mentors"].add(c["mentor_id"])
    for m in call("GET", f"/api/v1/conversations/{c['id']}/messages", coord)["messages"]:
        kinds["messages"].add(m["id"])
for r in call("GET", "/api/v1/requests", coord)["requests"]:
    kinds["requests"].add(r["id"])
    kinds["students"].add(r["student_id"])
    kinds["mentors"].add(r["mentor_id"])
for item in call("GET", "/api/v1/moderation/queue", coord)["items"]:
    kinds["messages"].add(item["message_id"])
for s in call("GET", "/api/v1/suggestions", tokens["student1"])["suggestions"]:
    kinds["mentors"].add(s["mentor_id"])
match1 = next(c["match_id"] for c in call("GET", "/api/v1/conversations", tokens["student1"])["conversations"])
kinds["goals"].add(call("POST", f"/api/v1/matches/{match1}/goals", tokens["student1"],
                        {"title": "Build a weather station", "description": "", "target_date": None})["id"])
print(", ".join(f"{len(v)} {k}" for k, v in kinds.items()), "from the demo data")

# Ids from the demo data for 70% of the generated ids, so requests get past "not found".
bindings = [
    ("^/api/v1/conversations/", {"path.id": "conversations"}),
    ("^/api/v1/matches/", {"path.id": "matches"}),
    ("^/api/v1/requests/", {"path.id": "requests"}),
    ("^/api/v1/goals/", {"path.id": "goals"}),
    ("^/api/v1/mentors/", {"path.id": "mentors"}),
    ("^/api/v1/students/", {"path.id": "students"}),
    ("^/api/v1/moderation/queue/", {"path.message_id": "messages"}),
    ("^/api/v1/reports$", {"body.conversation_id": "conversations", "body.message_id": "messages"}),
    ("^/api/v1/requests$", {"body.mentor_id": "mentors"}),
    ("^/api/v1/matches$", {"body.student_id": "students", "body.mentor_id": "mentors"}),
]
with open(f"{work}/schemathesis.toml", "w") as f:
    for kind, values in kinds.items():
        f.write(f"[dictionaries.{kind}]\nvalues = [{', '.join(json.dumps(v) for v in sorted(values))}]\n\n")
    for path, params in bindings:
        f.write(f"[[operations]]\ninclude-path-regex = {json.dumps(path)}\n[operations.parameters]\n")
        for key, kind in params.items():
            f.write(f'"{key}" = {{ dictionary = "{kind}", probability = 0.7 }}\n')
        f.write("\n")
PY

# Every check but positive_data_acceptance, which expects any schema-valid body to succeed: the
# handlers rightly refuse some (an empty message, a rejection without a note, a NUL character,
# an id of something else) with a 400 and a reason that no schema keyword expresses.
checks="${SCHEMATHESIS_CHECKS:-all}"
exclude_checks="${SCHEMATHESIS_EXCLUDE_CHECKS:-positive_data_acceptance}"
results="$work/results"
: >"$results"
run() { # run NAME TOKEN [schemathesis options...]
  local name=$1 token=$2
  shift 2
  echo
  echo "--- schemathesis as $name"
  local status=0
  # From the temporary folder, where schemathesis keeps its cache.
  (cd "$work" && exec "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" \
    run "$base/api/v1/openapi.json" --header "Authorization: Bearer $token" \
    --checks "$checks" --exclude-checks "$exclude_checks" --max-examples "$examples" --seed "$seed" --workers 1 --request-timeout 30 --no-color --warnings off \
    ${SCHEMATHESIS_KEEP:+--report har --report-har-path "$work/$name.har"} "$@") >"$work/out.$name" 2>&1 || status=$?
  # The summary and every failure; the full log only when it failed.
  if [ "$status" -ne 0 ]; then cat "$work/out.$name"; else sed -n '/SUMMARY/,$p' "$work/out.$name"; fi
  local cases failures
  cases=$(sed -nE 's/^ *([0-9]+) generated.*/\1/p' "$work/out.$name" | tail -1)
  failures=$(sed -nE 's/^ *[0-9]+ generated, ([0-9]+ found )?([0-9]+) unique failures?.*/\2/p' "$work/out.$name" | tail -1)
  echo "$name ${cases:-0} ${failures:-0} $status" >>"$results"
}

# DELETE /tokens/current revokes the token the run uses: it gets a run of its own, last.
for who in student1 student3 mentor1 mentor3 guardian1 teacher coordinator; do
  run "$who" "$(cat "$work/token.$who")" --exclude-path /api/v1/tokens/current
done
run revoke "$(cat "$work/token.revoker")" --include-path /api/v1/tokens/current

echo
failed=0
total=0
while read -r name cases failures status; do
  total=$((total + cases))
  if [ "$status" -ne 0 ]; then
    failed=$((failed + (failures > 0 ? failures : 1)))
    echo "FAILED: schemathesis as $name (exit $status)"
  fi
done <"$results"
if grep -n "panicked" "$work/server.log"; then
  echo "FAILED: the server panicked (above)"
  failed=$((failed + 1))
fi
if grep -n "internal error" "$work/server.log"; then
  echo "FAILED: the server logged internal errors (above)"
  failed=$((failed + 1))
fi
echo "schemathesis $version, seed $seed, $examples examples per operation and role, $(wc -l <"$results") runs"
echo "schemathesis: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
