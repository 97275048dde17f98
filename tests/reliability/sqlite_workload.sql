-- sqlite_workload.sql: run by sqlite.sh with the sqlite3 shell (list mode).
-- Every result line is compared with sqlite_expected.py (computed in Python
-- without SQLite) and with the same script run without preload.
.bail on
.output /dev/null
PRAGMA journal_mode=WAL;
PRAGMA cache_size=-2000;
.output stdout

CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, s TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
INSERT INTO t(id, a, b, s)
SELECT x, x % 97, x * 3, printf('k%06d-', x) || substr('abcdefghijklmnopqrstuvwxyz0123456789', 1, x % 37) FROM c;
COMMIT;
SELECT 'count', count(*) FROM t;
SELECT 'sums', sum(a), sum(b), sum(length(s)) FROM t;

CREATE INDEX t_a ON t(a);
CREATE INDEX t_s ON t(s);
CREATE INDEX t_ab ON t(a, b);
SELECT 'a5', count(*), sum(b) FROM t WHERE a = 5;
SELECT 'range', count(*), sum(a) FROM t WHERE s BETWEEN 'k010000-' AND 'k020000-';

UPDATE t SET b = b + 7, s = s || 'u' WHERE a IN (3, 5, 7);
SELECT 'after_update', sum(b), sum(length(s)) FROM t;

DELETE FROM t WHERE id % 10 = 0;
SELECT 'after_delete', count(*), sum(a), sum(b) FROM t;

CREATE TABLE u(id INTEGER PRIMARY KEY, tid INTEGER, v TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000)
INSERT INTO u SELECT x, (x * 7) % 100000 + 1, printf('v%d', x % 1000) FROM c;
CREATE INDEX u_tid ON u(tid);
SELECT 'join', count(*), sum(t.a), sum(length(u.v)) FROM u JOIN t ON t.id = u.tid;
SELECT 'left_join', count(*), count(t.id) FROM u LEFT JOIN t ON t.id = u.tid;

SELECT 'group', count(*), sum(cnt * a), max(cnt), min(cnt) FROM (SELECT a, count(*) AS cnt FROM t GROUP BY a);
SELECT a, count(*), sum(b) FROM t GROUP BY a ORDER BY a;
SELECT 'concat', length(group_concat(s, ',')) FROM t;
SELECT 'top', id, s FROM t ORDER BY length(s) DESC, id DESC LIMIT 3;
SELECT 'window', sum(rs) FROM (SELECT sum(a) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS rs FROM t WHERE id <= 2000);
SELECT 'json', length(json_group_array(json_object('id', id, 's', s))) FROM t WHERE id <= 5000;
SELECT 'distinct', count(DISTINCT s), count(DISTINCT a) FROM t;

CREATE TABLE bl(id INTEGER PRIMARY KEY, d BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)
INSERT INTO bl SELECT x, zeroblob(x * 10) FROM c;
SELECT 'blobs', count(*), sum(length(d)) FROM bl;
UPDATE bl SET d = zeroblob(length(d) + 1) WHERE id % 2 = 0;
SELECT 'blobs2', count(*), sum(length(d)) FROM bl WHERE length(d) % 10 = 1;
SELECT 'hex', sum(length(hex(d))), max(length(hex(d))) FROM bl;

DELETE FROM t WHERE a > 50;
VACUUM;
PRAGMA integrity_check;
SELECT 'final', count(*), sum(a), sum(b), (SELECT count(*) FROM u), (SELECT count(*) FROM bl) FROM t;
