#!/usr/bin/env python3
"""Drive the real zkaccess-c3 client (PyPI zkaccess-c3 0.0.15, unmodified)
against the zkproto panel simulator and report what it sees.

Used by tests/c3_interop.rs. Output: one JSON object per line on stdout.
A line {"sync": TAG} means "act on / check the simulator now"; the script
then waits for one line on stdin before going on. Everything the script
learns from the panel is printed as {"kind": ..., ...} lines.
"""
import argparse
import json
import sys
from datetime import datetime

from c3 import controldevice, consts, rtlog
from c3.core import C3


def emit(obj):
    print(json.dumps(obj), flush=True)


def sync(tag):
    emit({"sync": tag})
    if not sys.stdin.readline():
        raise SystemExit("test harness went away at sync %s" % tag)


def record(r):
    if isinstance(r, rtlog.DoorAlarmStatusRecord):
        return {
            "type": "status",
            "alarm": r.alarm_status.hex(),
            "dss": r.dss_status.hex(),
            "time": r.time_second.strftime("%Y-%m-%d %H:%M:%S"),
        }
    return {
        "type": "event",
        "card": r.card_no,
        "pin": r.pin,
        "verified": int(r.verified),
        "door": r.port_nr,
        "event": int(r.event_type),
        "inout": int(r.in_out_state),
        "time": r.time_second.strftime("%Y-%m-%d %H:%M:%S"),
    }


def poll(panel, limit=40):
    """Polls the RT log until a status record arrives; returns every record."""
    out = []
    for _ in range(limit):
        recs = panel.get_rt_log()
        out.extend(record(r) for r in recs)
        if any(isinstance(r, rtlog.DoorAlarmStatusRecord) for r in recs):
            break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--password", default=None)
    ap.add_argument("--expect-fail", action="store_true")
    args = ap.parse_args()

    panel = C3(args.host, args.port)
    ok = panel.connect(args.password)
    emit({"kind": "connect", "ok": bool(ok), "session_less": bool(panel._session_less)})
    if args.expect_fail or not ok:
        return

    emit({
        "kind": "info",
        "serial": panel.serial_number,
        "firmware": panel.firmware_version,
        "device_name": panel.device_name,
        "locks": panel.nr_of_locks,
        "aux_in": panel.nr_aux_in,
        "aux_out": panel.nr_aux_out,
    })
    params = panel.get_device_param(["~SerialNumber", "LockCount", "ReaderCount", "DateTime",
                                     "Door1Drivertime", "Door1SensorType", "~ZKFPVersion"])
    emit({"kind": "params", "params": params})
    emit({"kind": "users", "rows": panel.get_device_data("user")})
    emit({"kind": "transactions", "rows": panel.get_device_data("transaction")})

    # The queue was cleared on connect: the first poll is a status record.
    emit({"kind": "rt_initial", "records": [record(r) for r in panel.get_rt_log()]})

    sync("swipe")
    emit({"kind": "rt_swipe", "records": poll(panel)})

    panel.control_device(controldevice.ControlDeviceOutput(1, consts.ControlOutputAddress.DOOR_OUTPUT, 7))
    sync("remote_opened")
    emit({"kind": "rt_remote", "records": poll(panel)})

    sync("door_opened")
    emit({"kind": "rt_door_open", "records": poll(panel), "lock_status": int(panel.lock_status(1))})

    sync("door_closed")
    emit({"kind": "rt_door_closed", "records": poll(panel), "lock_status": int(panel.lock_status(1))})

    aux = consts.ControlOutputAddress.AUX_OUTPUT
    panel.control_device(controldevice.ControlDeviceOutput(1, aux, 255))
    sync("aux_on")
    emit({"kind": "rt_aux_on", "records": poll(panel), "aux_out": int(panel.aux_out_status(1))})
    panel.control_device(controldevice.ControlDeviceOutput(1, aux, 0))
    sync("aux_off")
    emit({"kind": "rt_aux_off", "records": poll(panel), "aux_out": int(panel.aux_out_status(1))})

    panel.control_device(controldevice.ControlDeviceCancelAlarms())
    sync("alarm_cancelled")

    panel.set_device_datetime(datetime(2025, 1, 2, 3, 4, 5))
    sync("time_set")

    panel.disconnect()
    emit({"kind": "done"})


if __name__ == "__main__":
    main()
