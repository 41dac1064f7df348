#!/usr/bin/env python3
"""escrowd_report.py — the expected answers of escrowd_report.sh, computed
independently of laps-escrowd from the rows it seeded.

  seed NOW ROWS.json            print the seeding SQL, write the rows
  order SORT ORDER HEALTH Q UNIT ROWS.json PAGES   "ok" when the pages (one
                                JSON entry list per line) are the rows
                                filtered and sorted so
  counts GRACE Q UNIT ROWS.json SUMMARY            "ok" when the summary's
                                counts are the rows' counts
"""
import json
import sys
import time

DAY = 86400


def seed(now, out):
    rows = []
    for kind in ("lab", "ws"):
        for i in range(450):
            dev = "%s-%04d.example.test" % (kind, i)
            rows.append(row(now, dev, "lapsadmin", i))
            if i < 50:
                rows.append(row(now, dev, "root2", i + 7))
    json.dump(rows, open(out, "w"))
    print("BEGIN;")
    for n, r in enumerate(rows):
        rec = ('{"v":1,"device":"%s","account":"%s","uid":1001,"rotation_id":"%032x",'
               '"rotated_at":%d,"expires_at":%d,"state":"%s",'
               '"envelope":"AQIDBAUGBwgJCgsMDQ4PEA==","key_ids":["0011223344556677"]}'
               % (r["device"], r["account"], n + 1, r["rotated_at"], r["expires_at"], r["state"]))
        print("INSERT INTO records (device, account, version, seq, rotation_id, state, rotated_at,"
              " expires_at, updated_at, record) VALUES ('%s', '%s', 1, 1, '%032x', '%s',"
              " %d, %d, %d, '%s');" % (r["device"], r["account"], n + 1, r["state"],
                                       r["rotated_at"], r["expires_at"], r["rotated_at"], rec))
    print("COMMIT;")


def row(now, dev, acct, i):
    """Statuses far from the boundaries; many equal times (ties)."""
    k = i % 6
    rotated = now - DAY * (i % 40) - (i % 3)
    state, expires = "confirmed", now + DAY * (1 + i % 3)
    if k == 1:
        expires = now - 3600
    elif k == 2:
        expires = now - 5 * DAY
    elif k == 3:
        state, rotated, expires = "pending", now - 3600, now + 30 * DAY
    elif k == 4:
        state, rotated, expires = "pending", now - 3 * DAY - (i % 2), now + 30 * DAY
    elif k == 5:
        expires = now + 400 * DAY
    return {"device": dev, "account": acct, "state": state, "rotated_at": rotated,
            "expires_at": expires}


def health(r, now, grace):
    if r["state"] == "pending":
        return "stuck" if r["rotated_at"] < now - grace else "ok"
    if r["expires_at"] <= 0 or now < r["expires_at"]:
        return "ok"
    return "overdue" if r["expires_at"] < now - grace else "due"


RANK = {"ok": 1, "due": 2, "overdue": 3, "stuck": 4}


def select(rows, q, unit):
    return [r for r in rows if r["device"].startswith(q) and r["device"].startswith(unit)]


def order(sort, direction, want, q, unit, rows_file, pages_file):
    now = time.time()
    rows = select(json.load(open(rows_file)), q, unit)
    for r in rows:
        r["health"] = health(r, now, DAY)
    if want:
        rows = [r for r in rows if r["health"] == want]

    def key(r):
        k = 0 if sort == "device" else RANK[r["health"]] if sort == "health" else r[sort]
        return (k, r["device"], r["account"])
    rows.sort(key=key, reverse=(direction == "desc"))
    got = []
    for line in open(pages_file):
        got.extend(json.loads(line))
    exp = [(r["device"], r["account"], r["health"]) for r in rows]
    have = [(e["device"], e["account"], e.get("health")) for e in got]
    if exp == have and len(set(have)) == len(have):
        return "ok"
    for n, (a, b) in enumerate(zip(exp, have)):
        if a != b:
            return "%d rows, %d expected; first difference at %d: %s, expected %s" % (
                len(have), len(exp), n, b, a)
    return "%d rows, %d expected" % (len(have), len(exp))


def counts(grace, q, unit, rows_file, summary_file):
    now = time.time()
    exp = {"ok": 0, "due": 0, "overdue": 0, "stuck": 0}
    for r in select(json.load(open(rows_file)), q, unit):
        exp[health(r, now, grace)] += 1
    got = json.load(open(summary_file))
    if got.get("counts") == exp and got.get("total") == sum(exp.values()):
        return "ok"
    return "got %s, expected %s" % (json.dumps(got), json.dumps(exp))


def main(a):
    if a[0] == "seed":
        seed(int(a[1]), a[2])
    elif a[0] == "order":
        print(order(*a[1:8]))
    elif a[0] == "counts":
        print(counts(int(a[1]), a[2], a[3], a[4], a[5]))


if __name__ == "__main__":
    main(sys.argv[1:])
