#!/usr/bin/env python3
"""fill_ledger.py LEDGER N: a ledger shaped like a finished campaign of N ESMEs
(for make bench): distribution and activation requests, and per device the
messages hanfw listen would have stored, with their device events.  The
schema is hanfw's own: the ledger must already exist (hanfw creates it)."""
import sqlite3, sys

path, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
image = "c30a23ca1f734d4dc2459047c551775ab7395348ff34f59297be8118c3748a51"
user, dcc = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-00-00-02"
eui = lambda i: "00-DB-12-10-%02X-%02X-%02X-%02X" % ((i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)
now = "2026-11-21T10:00:00Z"
with db:
    for b in range(0, n, 50000):
        rid = "%s:%s:%d" % (user, dcc, 1000 + b)
        db.execute("INSERT INTO requests VALUES(?,?,?,?,?,?,?,?,?,?)", (rid, user, dcc, 1000 + b, "11.1", 8, "0" * 64, now, "accepted", "I99"))
        db.execute("INSERT INTO campaign_requests VALUES(?,?,?,?,?,?)", (rid, "ESME-01020304", "distribute", "ESME", "01020304", image))
        db.executemany("INSERT INTO request_devices VALUES(?,?,?)", ((rid, eui(i), "accepted") for i in range(b, min(n, b + 50000))))
    acts = []
    for i in range(n):
        rid = "%s:%s:%d" % (user, eui(i), 10000000 + i)
        acts.append(rid)
        db.execute("INSERT INTO requests VALUES(?,?,?,?,?,?,?,?,?,?)", (rid, user, eui(i), 10000000 + i, "11.3", 4, "0" * 64, now, "sent", "I99"))
        db.execute("INSERT INTO campaign_requests VALUES(?,?,?,?,?,?)", (rid, "ESME-01020304", "activate", "ESME", "01020304", image))
        db.execute("INSERT INTO request_devices VALUES(?,?,?)", (rid, eui(i), "sent"))
    events = [("delivered_to_hub", "Success"), ("transferred", "01020304"), ("verified_hash", image.upper()), ("activated", "01020304")]
    mid = 0
    for i in range(n):
        for k, (ev, detail) in enumerate(events):
            mid += 1
            req = ("%s:%s:%d" % (user, dcc, 1000 + (i // 50000) * 50000)) if k < 2 else (acts[i] if k == 3 else None)
            db.execute("INSERT INTO messages(id, key, received, request_id, kind, response_code, raw, decoded) VALUES(?,?,?,?,?,?,?,?)",
                       (mid, "m%d" % mid, now, req, "bench", "I0", b"<raw/>", "{}"))
            db.execute("INSERT INTO device_events VALUES(?,?,?,?,?,?)", (mid, eui(i), req, ev, detail, now))
