"""py_workload.py - Python workload run under the preloaded allocator.

Run by tests/programs/run.sh (also with PYTHONMALLOC=malloc, so every Python
object goes through the allocator instead of pymalloc arenas). Exercises:
  * threads: 8 threads churning dicts/lists/strings/bytearrays; results are
    compared with closed-form values, not with a second run;
  * multiprocessing: a fork Pool map and a spawn Pool map (a fresh
    interpreter inherits LD_PRELOAD) with checked results;
  * sqlite3: in-memory database, 10k rows, an index, aggregate queries and
    blobs, compared with values computed in plain Python.
Prints OK and exits 0 only if every check passed.
"""
import hashlib
import multiprocessing as mp
import sqlite3
import sys
import threading

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg, file=sys.stderr)


# ---------------------------------------------------------------- threads
N = 20000


def churn(tid, out):
    try:
        d = {}
        for i in range(N):
            d["k%d_%d" % (tid, i)] = [i, i * i, str(i) * (i % 7 + 1)]
        for i in range(1, N, 2):  # delete odd keys
            del d["k%d_%d" % (tid, i)]
        s0 = sum(v[0] for v in d.values())
        s1 = sum(v[1] for v in d.values())
        slen = sum(len(v[2]) for v in d.values())
        # list growth/shrink and sorting
        lst = [(i * 7919 + tid) % N for i in range(N)]
        lst.sort()
        del lst[::3]
        # bytearray growth (realloc path) and hashing
        ba = bytearray()
        for i in range(3000):
            ba += i.to_bytes(4, "little") * (i % 5 + 1)
        # string building
        text = "".join(chr(65 + (i % 26)) for i in range(50000))
        out[tid] = (len(d), s0, s1, slen, len(lst), lst[:3], len(ba),
                    hashlib.sha256(bytes(ba)).hexdigest(), text.count("Z"))
    except Exception as e:  # pragma: no cover - reported as failure
        out[tid] = ("exception", repr(e))


def expected_churn(tid):
    evens = range(0, N, 2)
    slen = sum(len(str(i)) * (i % 7 + 1) for i in evens)
    ba = bytearray()
    for i in range(3000):
        ba += i.to_bytes(4, "little") * (i % 5 + 1)
    ba_len = sum(4 * (i % 5 + 1) for i in range(3000))
    n_after_del = N - len(range(0, N, 3))
    # after sorting a permutation of 0..N-1 (7919 is coprime with N=20000),
    # deleting indices 0,3,6,... keeps 1,2,4,...
    return (N // 2, sum(evens), sum(i * i for i in evens), slen, n_after_del,
            [1, 2, 4], ba_len, hashlib.sha256(bytes(ba)).hexdigest(),
            len(range(25, 50000, 26)))


def test_threads():
    out = {}
    ths = [threading.Thread(target=churn, args=(t, out)) for t in range(8)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    for t in range(8):
        check(out.get(t) == expected_churn(t),
              "thread %d result %r != %r" % (t, out.get(t), expected_churn(t)))


# -------------------------------------------------------- multiprocessing
def work(x):
    lst = [str(i) for i in range(x * 10)]
    d = {s: len(s) for s in lst}
    return x * x + len(d) + sum(d.values()) % 1000


def expected_work(x):
    return x * x + x * 10 + sum(len(str(i)) for i in range(x * 10)) % 1000


def test_multiprocessing():
    xs = list(range(200))
    want = [expected_work(x) for x in xs]
    with mp.get_context("fork").Pool(4) as pool:
        got = pool.map(work, xs, chunksize=5)
    check(got == want, "fork Pool.map results differ")
    with mp.get_context("spawn").Pool(2) as pool:
        got = pool.map(work, xs[:40], chunksize=10)
    check(got == want[:40], "spawn Pool.map results differ")


# ---------------------------------------------------------------- sqlite3
def test_sqlite():
    db = sqlite3.connect(":memory:")
    c = db.cursor()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL)")
    rows = [(i, i % 17, "name%d" % i, i * 0.5) for i in range(10000)]
    c.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    c.execute("CREATE INDEX t_grp ON t(grp)")
    c.execute("CREATE INDEX t_name ON t(name)")
    db.commit()
    check(c.execute("SELECT count(*), sum(id) FROM t").fetchone() == (10000, sum(range(10000))),
          "count/sum mismatch")
    check(c.execute("SELECT sum(val) FROM t").fetchone()[0] == sum(i * 0.5 for i in range(10000)),
          "sum(val) mismatch")
    groups = c.execute("SELECT grp, count(*), max(id) FROM t GROUP BY grp ORDER BY grp").fetchall()
    want = [(g, len(range(g, 10000, 17)), max(range(g, 10000, 17))) for g in range(17)]
    check(groups == want, "GROUP BY mismatch")
    like = c.execute("SELECT count(*) FROM t WHERE name LIKE 'name99%'").fetchone()[0]
    check(like == sum(1 for i in range(10000) if str(i).startswith("99")), "LIKE count mismatch")
    idx = c.execute("SELECT count(*) FROM t WHERE grp = 3").fetchone()[0]
    check(idx == len(range(3, 10000, 17)), "indexed lookup mismatch")
    c.execute("DELETE FROM t WHERE id % 2 = 1")
    c.execute("UPDATE t SET name = name || '_x' WHERE grp < 5")
    check(c.execute("SELECT count(*) FROM t").fetchone()[0] == 5000, "delete count mismatch")
    check(c.execute("SELECT count(*) FROM t WHERE name LIKE '%_x'").fetchone()[0]
          == sum(1 for i in range(0, 10000, 2) if i % 17 < 5), "update count mismatch")
    # blobs: 100 x ~100 KiB
    c.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, data BLOB)")
    for i in range(100):
        c.execute("INSERT INTO b VALUES (?, ?)", (i, bytes([i % 256]) * (100000 + i)))
    check(c.execute("SELECT sum(length(data)) FROM b").fetchone()[0]
          == sum(100000 + i for i in range(100)), "blob length mismatch")
    check(c.execute("SELECT data FROM b WHERE id = 42").fetchone()[0] == bytes([42]) * 100042,
          "blob content mismatch")
    db.commit()
    c.execute("VACUUM")
    check(c.execute("SELECT count(*) FROM t").fetchone()[0] == 5000, "count after VACUUM")
    db.close()


if __name__ == "__main__":
    test_threads()
    test_multiprocessing()
    test_sqlite()
    if failures:
        print("FAILED: %d checks" % len(failures))
        sys.exit(1)
    print("OK")
