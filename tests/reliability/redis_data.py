"""Data set for redis.sh (deterministic).

  redis_data.py load      RESP protocol on stdout for `redis-cli --pipe`:
                          10000 strings key:N (0..~700 bytes, every 1000th
                          200 KB), a hash, a list, a set and a sorted set of
                          10000 members each, 2000 keys then deleted again,
                          500 APPENDs growing strings
  redis_data.py queries   commands, one a line, for `redis-cli` (raw output)
  redis_data.py expected  what those commands must print
"""
import sys

N = 10000


def value(n):
    if n % 1000 == 999:
        ln = 200000
    else:
        ln = (n * 37) % 700
    base = "v%d-" % n
    return (base + "abcdefghijklmnopqrstuvwxyz" * (ln // 26 + 1))[:max(ln, len(base))]


def appended(n):
    return value(n) + "".join("+%d" % i for i in range(20))


def resp(*args):
    parts = ["*%d\r\n" % len(args)]
    for a in args:
        a = str(a).encode()
        parts.append("$%d\r\n" % len(a))
        parts.append(a.decode() + "\r\n")
    return "".join(parts)


def load():
    w = sys.stdout.write
    for n in range(N):
        w(resp("SET", "key:%d" % n, value(n)))
        w(resp("HSET", "h", "field:%d" % n, n * 3))
        w(resp("RPUSH", "l", n))
        w(resp("SADD", "s", "m%d" % (n * 7 % N)))
        w(resp("ZADD", "z", n * 2, "member:%d" % n))
    for n in range(2000):
        w(resp("SET", "tmp:%d" % n, "x" * (n % 300)))
    for n in range(2000):
        w(resp("DEL", "tmp:%d" % n))
    for n in range(0, 500):
        for i in range(20):
            w(resp("APPEND", "key:%d" % n, "+%d" % i))


def samples():
    return [(n * 7919) % N for n in range(300)] + [999, 1999, 9999, 0, 1]


def queries():
    q = ["DBSIZE", "HLEN h", "LLEN l", "SCARD s", "ZCARD z", "ZSCORE z member:1234", "LINDEX l 5000",
         "HGET h field:777", "STRLEN key:999", "ZRANGEBYSCORE z 100 110", "SISMEMBER s m4321",
         "EXISTS tmp:5"]
    q += ["GET key:%d" % n for n in samples()]
    print("\n".join(q))


def expected():
    e = [N + 4, N, N, N, N, 2468, 5000, 777 * 3, len(value(999)) + (0 if 999 >= 500 else 0),
         "member:50", "member:51", "member:52", "member:53", "member:54", "member:55", 1, 0]
    for n in samples():
        e.append(appended(n) if n < 500 else value(n))
    print("\n".join(str(x) for x in e))


{"load": load, "queries": queries, "expected": expected}[sys.argv[1]]()
