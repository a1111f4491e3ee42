#!/usr/bin/env python3
"""Drive the real pyzk client (PyPI pyzk 0.9, unmodified) against the zkproto
simulator and report what it sees.

Used by tests/pyzk_interop.rs. Output: one JSON object per line on stdout.
A line {"sync": TAG} means "check the simulator now"; the script then waits
for one line on stdin before going on. Everything the script learns from the
device is printed as {"kind": ..., ...} lines.
"""
import argparse
import json
import sys
from datetime import datetime

from zk import ZK
from zk.exception import ZKErrorResponse

FMT = "%Y-%m-%dT%H:%M:%S"


def emit(obj):
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def sync(tag):
    emit({"sync": tag})
    line = sys.stdin.readline()
    if not line:
        raise SystemExit("test harness went away at sync %s" % tag)


def user_dict(u):
    return {
        "uid": u.uid,
        "name": u.name,
        "privilege": u.privilege,
        "password": u.password,
        "user_id": u.user_id,
        "card": u.card,
    }


def att_dict(a):
    return {
        "user_id": a.user_id,
        "timestamp": a.timestamp.strftime(FMT),
        "status": a.status,
        "punch": a.punch,
        "uid": a.uid,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--udp", action="store_true")
    ap.add_argument("--key", type=int, default=0)
    ap.add_argument("--encoding", default="UTF-8")
    ap.add_argument("--expect-unauth", action="store_true")
    ap.add_argument("--new-uid", type=int, default=900)
    ap.add_argument("--new-user-id", default="9001")
    args = ap.parse_args()

    zk = ZK("127.0.0.1", port=args.port, timeout=10, password=args.key,
            force_udp=args.udp, ommit_ping=True, encoding=args.encoding)
    if args.expect_unauth:
        try:
            zk.connect()
        except ZKErrorResponse as e:
            emit({"kind": "unauth", "error": str(e)})
            return
        emit({"kind": "connected"})
        return

    conn = zk.connect()
    emit({
        "kind": "info",
        "serial": conn.get_serialnumber(),
        "firmware": conn.get_firmware_version(),
        "platform": conn.get_platform(),
        "device_name": conn.get_device_name(),
        "pin_width": conn.get_pin_width(),
    })
    conn.read_sizes()
    emit({
        "kind": "sizes",
        "users": conn.users,
        "fingers": conn.fingers,
        "records": conn.records,
        "users_cap": conn.users_cap,
        "fingers_cap": conn.fingers_cap,
        "rec_cap": conn.rec_cap,
    })
    emit({"kind": "time", "time": conn.get_time().strftime(FMT)})

    conn.disable_device()
    sync("disabled")
    conn.enable_device()
    sync("enabled")

    emit({"kind": "users", "users": [user_dict(u) for u in conn.get_users()]})
    emit({"kind": "attendance", "records": [att_dict(a) for a in conn.get_attendance()]})

    conn.set_user(uid=args.new_uid, name="Interop", privilege=0, password="1234",
                  user_id=args.new_user_id)
    sync("user_set")
    found = [user_dict(u) for u in conn.get_users() if u.user_id == args.new_user_id]
    emit({"kind": "user_read_back", "users": found})
    conn.delete_user(uid=args.new_uid)
    sync("user_deleted")

    conn.set_time(datetime(2025, 1, 2, 3, 4, 5))
    emit({"kind": "time_set", "time": conn.get_time().strftime(FMT)})
    sync("time_set")

    conn.unlock(30)
    sync("unlocked")

    captured = None
    announced = False
    timeouts = 0
    for att in conn.live_capture(new_timeout=1):
        if att is None:
            timeouts += 1
            if not announced:
                announced = True
                sync("waiting")
            if timeouts > 20:
                conn.end_live_capture = True
            continue
        captured = att_dict(att)
        conn.end_live_capture = True
    emit({"kind": "live", "record": captured})

    conn.disconnect()
    emit({"kind": "done"})


if __name__ == "__main__":
    main()
