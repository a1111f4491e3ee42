#!/usr/bin/env bash
# Times the same download — 10,000 users and 100,000 attendance records over
# loopback TCP from one zksim — with pyzk (PyPI, unmodified) and with zkctl,
# and prints both times and the ratio.
#
#   scripts/compare-pyzk.sh [USERS] [RECORDS]
#
# Needs a Python with pyzk 0.9 at $ZKPROTO_PYTHON; by default the venv that the
# interop tests create (target/interop-venv), made here if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-10000}
RECORDS=${2:-100000}
TARGET=${CARGO_TARGET_DIR:-target}
if [ -z "${ZKPROTO_PYTHON:-}" ] && [ ! -x "$TARGET/interop-venv/bin/python" ]; then
  cargo test --quiet --all-features --test pyzk_interop >/dev/null
fi
PY=${ZKPROTO_PYTHON:-$TARGET/interop-venv/bin/python}

cargo build --release --quiet --example zksim --example zkctl
SIM="$TARGET/release/examples/zksim"
CTL="$TARGET/release/examples/zkctl"

LOG=$(mktemp)
"$SIM" --tcp 127.0.0.1:0 --profile zk8 --users "$USERS" --attendance "$RECORDS" >"$LOG" 2>/dev/null &
SIM_PID=$!
trap 'kill -INT $SIM_PID 2>/dev/null || true; wait $SIM_PID 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 100); do
  grep -q '^listening' "$LOG" && break
  sleep 0.1
done
ADDR=$(sed -n 's/^listening tcp=\([^ ]*\).*/\1/p' "$LOG")
HOST=${ADDR%:*}
PORT=${ADDR##*:}
echo "zksim on $ADDR with $USERS users and $RECORDS attendance records"

now() { date +%s.%N; }

t0=$(now)
"$PY" - "$HOST" "$PORT" <<'PYEOF'
import sys
from zk import ZK
host, port = sys.argv[1], int(sys.argv[2])
conn = ZK(host, port=port, timeout=60, ommit_ping=True).connect()
users = conn.get_users()
records = conn.get_attendance()
conn.disconnect()
print("pyzk:  %d users, %d records" % (len(users), len(records)))
PYEOF
t1=$(now)
U_OUT=$(mktemp); A_OUT=$(mktemp)
"$CTL" --device "$ADDR" --tcp --json users list >"$U_OUT"
"$CTL" --device "$ADDR" --tcp --json attendance --out "$A_OUT"
t2=$(now)
n_users=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$U_OUT")
n_records=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$A_OUT")
rm -f "$U_OUT" "$A_OUT"
echo "zkctl: $n_users users, $n_records records"

"$PY" - "$t0" "$t1" "$t2" <<'PYEOF'
import sys
t0, t1, t2 = map(float, sys.argv[1:])
py, rs = t1 - t0, t2 - t1
print("pyzk  %.3f s" % py)
print("zkctl %.3f s (two runs: users list, attendance; JSON written to files)" % rs)
print("ratio pyzk/zkctl = %.1fx" % (py / rs))
PYEOF
