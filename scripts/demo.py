"""The README's main job: a real program (CPython) doing real allocation work on
hakmem, proving from inside the process that hakmem is the allocator serving it."""
import ctypes, json, sqlite3, threading, time

maps = open("/proc/self/maps").read()
lib_path = next((line.split()[-1] for line in maps.splitlines() if "libhakmem" in line), None)
libc = ctypes.CDLL(None)
malloc_address = ctypes.cast(libc.malloc, ctypes.c_void_p).value

class DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]
info = DlInfo()
libc.dladdr(ctypes.c_void_p(malloc_address), ctypes.byref(info))
served_by = info.dli_fname.decode()
print(f"malloc resolves to: {served_by}")
if "libhakmem" not in served_by:
    raise SystemExit("demo: this process is NOT running on hakmem")

start = time.perf_counter()
def churn(seed, out):
    d = {}
    for i in range(200_000):
        d[(seed, i % 5000)] = "x" * (i % 300)
        if i % 7 == 0:
            d.pop((seed, (i * 13) % 5000), None)
    out[seed] = len(d)
results = {}
threads = [threading.Thread(target=churn, args=(s, results)) for s in range(4)]
for t in threads: t.start()
for t in threads: t.join()

db = sqlite3.connect(":memory:")
db.execute("create table t (k integer primary key, v text)")
db.executemany("insert into t values (?, ?)", ((i, json.dumps({"i": i, "s": "y" * (i % 50)})) for i in range(50_000)))
(total,) = db.execute("select sum(length(v)) from t").fetchone()
elapsed = time.perf_counter() - start
print(f"threads: {sorted(results.values())}  sqlite rows: 50000  bytes: {total}  time: {elapsed:.2f}s")
print("demo: ran on hakmem OK")
