#!/usr/bin/env python3
"""fill_ledger.py LEDGER N: a ledger shaped like a finished campaign of N ESMEs
(for make bench): distribution and activation requests, and per device the
messages hanfw listen would have stored, with their device events.  The
schema is hanfw's own: the ledger must already exist (hanfw creates it).

The rows are made by SQLite itself (INSERT ... SELECT over a table of device
numbers, one transaction, no sync until the end): about 20 s for a million
devices here, against 120 s row by row from Python.  The rows, and their
order in each table, are those the row-by-row version made."""
import sqlite3, sys

path, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path, isolation_level=None)
image = "c30a23ca1f734d4dc2459047c551775ab7395348ff34f59297be8118c3748a51"
user, dcc = "90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-00-00-02"
now = "2026-11-21T10:00:00Z"
# Each distribution request carries up to 50,000 devices (SR 11.1's limit).
p = {"user": user, "dcc": dcc, "image": image, "IMAGE": image.upper(), "now": now, "n": n, "zero": "0" * 64}
db.execute("PRAGMA synchronous = OFF")	# this connection only; the ledger is synced once, at the end
db.execute("PRAGMA temp_store = MEMORY")
db.execute("BEGIN")
db.execute("""CREATE TEMP TABLE d(i INTEGER PRIMARY KEY, eui TEXT, act TEXT, dist TEXT)""")
db.execute("""
WITH RECURSIVE s(i) AS (SELECT 0 WHERE :n > 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < :n)
INSERT INTO d
SELECT i, e, :user || ':' || e || ':' || (10000000 + i), :user || ':' || :dcc || ':' || (1000 + (i / 50000) * 50000)
FROM (SELECT i, printf('00-DB-12-10-%02X-%02X-%02X-%02X', (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255) AS e
      FROM s)""", p)
for b in range(0, n, 50000):
    rid = "%s:%s:%d" % (user, dcc, 1000 + b)
    db.execute("INSERT INTO requests VALUES(?,?,?,?,?,?,?,?,?,?)", (rid, user, dcc, 1000 + b, "11.1", 8, "0" * 64, now, "accepted", "I99"))
    db.execute("INSERT INTO campaign_requests VALUES(?,?,?,?,?,?)", (rid, "ESME-01020304", "distribute", "ESME", "01020304", image))
    db.execute("INSERT INTO request_devices SELECT dist, eui, 'accepted' FROM d WHERE i >= ? AND i < ? ORDER BY i", (b, b + 50000))
db.execute("INSERT INTO requests SELECT act, :user, eui, 10000000 + i, '11.3', 4, :zero, :now, 'sent', 'I99' FROM d ORDER BY i", p)
db.execute("INSERT INTO campaign_requests SELECT act, 'ESME-01020304', 'activate', 'ESME', '01020304', :image FROM d ORDER BY i", p)
db.execute("INSERT INTO request_devices SELECT act, eui, 'sent' FROM d ORDER BY i")
events = """(SELECT 0 AS k, 'delivered_to_hub' AS ev, 'Success' AS detail UNION ALL SELECT 1, 'transferred', '01020304'
             UNION ALL SELECT 2, 'verified_hash', :IMAGE UNION ALL SELECT 3, 'activated', '01020304')"""
req = "CASE WHEN k < 2 THEN dist WHEN k = 3 THEN act END"
db.execute("INSERT INTO messages(id, key, received, request_id, kind, response_code, raw, decoded) "
           "SELECT 4 * i + k + 1, 'm' || (4 * i + k + 1), :now, %s, 'bench', 'I0', X'3c7261772f3e', '{}' "
           "FROM d, %s ORDER BY i, k" % (req, events), p)
db.execute("INSERT INTO device_events SELECT 4 * i + k + 1, eui, %s, ev, detail, :now FROM d, %s ORDER BY i, k" % (req, events), p)
db.execute("DROP TABLE d")
db.execute("COMMIT")
db.execute("PRAGMA synchronous = FULL")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
