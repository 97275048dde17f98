"""Expected output of sqlite_workload.sql, computed in plain Python (no SQLite).

Each block mirrors one statement of the workload; the output is the sqlite3
shell's list mode (columns joined by '|').
"""
import json

N = 100000
ALPHA = "abcdefghijklmnopqrstuvwxyz0123456789"
out = []


def row(*cols):
    out.append("|".join(str(c) for c in cols))


t = {x: [x % 97, x * 3, "k%06d-" % x + ALPHA[: x % 37]] for x in range(1, N + 1)}
row("count", len(t))
row("sums", sum(v[0] for v in t.values()), sum(v[1] for v in t.values()), sum(len(v[2]) for v in t.values()))

a5 = [v for v in t.values() if v[0] == 5]
row("a5", len(a5), sum(v[1] for v in a5))
rng = [v for v in t.values() if "k010000-" <= v[2] <= "k020000-"]
row("range", len(rng), sum(v[0] for v in rng))

for v in t.values():
    if v[0] in (3, 5, 7):
        v[1] += 7
        v[2] += "u"
row("after_update", sum(v[1] for v in t.values()), sum(len(v[2]) for v in t.values()))

for x in [k for k in t if k % 10 == 0]:
    del t[x]
row("after_delete", len(t), sum(v[0] for v in t.values()), sum(v[1] for v in t.values()))

u = {x: ((x * 7) % N + 1, "v%d" % (x % 1000)) for x in range(1, 50001)}
joined = [(t[tid], v) for tid, v in u.values() if tid in t]
row("join", len(joined), sum(tv[0] for tv, _ in joined), sum(len(v) for _, v in joined))
row("left_join", len(u), len(joined))

groups = {}
for v in t.values():
    g = groups.setdefault(v[0], [0, 0])
    g[0] += 1
    g[1] += v[1]
cnts = [g[0] for g in groups.values()]
row("group", len(groups), sum(g[0] * a for a, g in groups.items()), max(cnts), min(cnts))
for a in sorted(groups):
    row(a, groups[a][0], groups[a][1])
row("concat", sum(len(v[2]) for v in t.values()) + len(t) - 1)
top = sorted(t.items(), key=lambda kv: (len(kv[1][2]), kv[0]), reverse=True)[:3]
for k, v in top:
    row("top", k, v[2])
ids = sorted(k for k in t if k <= 2000)
win = 0
for i in range(len(ids)):
    win += sum(t[ids[j]][0] for j in range(max(0, i - 2), i + 1))
row("window", win)
arr = [{"id": k, "s": t[k][2]} for k in sorted(t) if k <= 5000]
row("json", len(json.dumps(arr, separators=(",", ":"))))
row("distinct", len({v[2] for v in t.values()}), len({v[0] for v in t.values()}))

bl = {x: x * 10 for x in range(1, 2001)}
row("blobs", len(bl), sum(bl.values()))
for x in bl:
    if x % 2 == 0:
        bl[x] += 1
row("blobs2", 1000, sum(n for x, n in bl.items() if x % 2 == 0))
row("hex", 2 * sum(bl.values()), 2 * max(bl.values()))

for x in [k for k, v in t.items() if v[0] > 50]:
    del t[x]
out.append("ok")
row("final", len(t), sum(v[0] for v in t.values()), sum(v[1] for v in t.values()), len(u), len(bl))
print("\n".join(out))
