#!/usr/bin/env python3
"""CPU seconds used by one JVM (the embedded stack) and by the PostgreSQL server it talks to.

Usage: python3 docs/experiments/cpu_per_process.py JVM_PID [INTERVAL_S] [--threads]
           [--names-every S] [--per OUTPUTS] [--window S] [--raw FILE]
Samples every INTERVAL_S (default 1) until the JVM exits, then prints the last totals:
  jvm_cpu_s=... pg_cpu_s=... (PostgreSQL: postmaster + its exited children + live backends).
The PostgreSQL server is found through `ss -tnpH`: a backend whose socket is the peer of one of the
JVM's connections; its parent is the postmaster. Divide by the outputs processed for CPU per output.

--threads also reads /proc/JVM_PID/task/*/stat (utime + stime) every interval, keeps each thread's
last reading (threads end and start during a run: every thread seen counts) and prints, after the
line above, one line per thread group: `thread_group=NAME cpu_s=... share=... threads=N`, the JIT
compilers' and GC's included. A thread's kernel name (comm) is its Java name cut to 15 characters,
which does not tell a Kafka request handler from a network thread ("data-plane-kafk"), so the full
Java names are read with `jcmd JVM_PID Thread.print` (a thread dump, one safepoint) every
--names-every seconds (default 15; 0: never, comm only). CPU of threads that ended between two
samples is in the process's total but in no thread: it is printed as `unseen`.
--per OUTPUTS adds CPU seconds per 1,000 outputs to the group lines; --window S prints to stderr,
every S seconds, the JVM's CPU and the JIT's part over that window (in cores); --raw FILE writes
each thread seen (tid, CPU s, group, name) to FILE.
"""
import argparse, os, re, subprocess, sys, time

HZ = os.sysconf('SC_CLK_TCK')

def stat(pid):
    with open(f'/proc/{pid}/stat') as f:
        s = f.read()
    fields = s[s.rindex(')') + 2:].split()
    # fields[0] is state (field 3); utime is field 14 -> index 11
    return {'ppid': int(fields[1]), 'ut': int(fields[11]), 'st': int(fields[12]),
            'cut': int(fields[13]), 'cst': int(fields[14])}

def norm(addr):
    # Java reports IPv4 connections as IPv4-mapped IPv6 addresses
    return addr.replace('[::ffff:', '').replace(']', '')

def find_postmaster(jvm):
    out = subprocess.run(['ss', '-tnpH', 'state', 'established'], capture_output=True, text=True).stdout
    owner = {}
    jvm_peers = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 5:
            continue
        local, peer = norm(parts[2]), norm(parts[3])
        m = re.search(r'pid=(\d+)', line)
        if not m:
            continue
        pid = int(m.group(1))
        owner[local] = pid
        if pid == jvm:
            jvm_peers.append(peer)
    for peer in jvm_peers:
        pid = owner.get(peer)
        if pid is None or pid == jvm:
            continue
        try:
            with open(f'/proc/{pid}/comm') as f:
                if f.read().strip() != 'postgres':
                    continue
            return stat(pid)['ppid']
        except OSError:
            continue
    return None

def pg_ticks(pm):
    st = stat(pm)
    total = st['ut'] + st['st'] + st['cut'] + st['cst']
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            s = stat(int(p))
        except OSError:
            continue
        if s['ppid'] == pm:
            total += s['ut'] + s['st']
    return total

# Thread groups, first match wins, tried on the full Java name where a thread dump gave one and on
# the kernel's 15-character name otherwise. The names are the ones these libraries give their
# threads (Kafka 3.x broker and clients, Flink's MiniCluster, Kafka Streams, HotSpot).
GROUPS = [
    ('jit-c2', r'^C2 CompilerThre'),
    ('jit-c1', r'^C1 CompilerThre'),
    ('gc', r'^(GC Thread|G1 |GC |VM Periodic|Sweeper)'),
    ('vm-thread (safepoints; serial GC)', r'^VM Thread'),
    ('jvm other', r'^(Reference Handl|Finalizer|Signal Dispatch|Service Thread|Monitor Deflati'
                  r'|Common-Cleaner|Attach Listener|Notification Thr|process reaper'
                  r'|DestroyJavaVM)'),
    ('kafka-broker request handlers', r'kafka-request-handler'),
    ('kafka-broker network', r'^data-plane-kafka-(network-thread|socket-acceptor)'),
    ('kafka-streams (gate)', r'-(StreamThread-\d+|StateUpdater-\d+|CleanupThread)$'),
    ('kafka-producer network', r'^kafka-producer-ne'),
    ('kafka-consumer/admin clients', r'^(kafka-admin-client|kafka-coordinator-heartbeat'
                                     r'|kafka-admin-cl|kafka-coordinato)'),
    ('kafka-broker other', r'^(data-plane-kafk|kafka-log-clean|kafka-scheduler|ReplicaFetcher'
                           r'|ExpirationReaper|group-coordinator|transaction-log|TxnMarkerSender'
                           r'|LogDirFailure|quorum-controller|raft-|kafka-\d+-|broker-\d'
                           r'|controller-\d|executor-|share-|metrics-meter|AddPartitionsToTxn'
                           r'|client-metrics-reaper|network-partition-metadata|PersisterState'
                           r'|persister-state|SensorExpiry|CloseableReaper)'),
    ('audit ingestor and writers', r'^(audit-|genguard-audit)'),
    ('flink task threads', r'( \(\d+/\d+\)#\d+$|^Source: )'),
    ('flink runtime (pekko, rpc, io, checkpoints)', r'(?i)(flink|pekko|jobmanager|taskmanager'
                                                    r'|resourcemanager|Checkpoint Timer'
                                                    r'|mini-cluster|BLOB|^Timer-|AsyncOperations'
                                                    r'|IOManager|SourceCoordinator)'),
    ('http servers (jetty, JDK)', r'^(JettyServerThreadPool|qtp|Scheduler-\d|Session-HouseKeeper'
                                  r'|idle-timeout|HTTP-Dispatcher)'),
    ('genguard generator and bench driver', r'^(genguard-generator|main$)'),
    ('genguard other (lag collector, outbox, JDBC, metrics)', r'^(genguard-|review-outbox'
                                                              r'|content-scorer|micrometer'
                                                              r'|PostgreSQL-JDBC|pool-\d)'),
]
GROUP_RE = [(name, re.compile(rx)) for name, rx in GROUPS]

def group_of(name):
    for group, rx in GROUP_RE:
        if rx.search(name):
            return group
    return 'other'

def thread_ticks(jvm):
    """tid -> (comm, utime + stime) of the JVM's live threads."""
    out = {}
    for tid in os.listdir(f'/proc/{jvm}/task'):
        try:
            with open(f'/proc/{jvm}/task/{tid}/stat') as f:
                s = f.read()
        except OSError:
            continue
        comm = s[s.index('(') + 1:s.rindex(')')]
        fields = s[s.rindex(')') + 2:].split()
        out[int(tid)] = (comm, int(fields[11]) + int(fields[12]))
    return out

NID = re.compile(r'^"(.*)" .*\bnid=(0x[0-9a-f]+|\d+)', re.M)

def java_names(jvm):
    """tid -> full Java thread name, from a thread dump (empty if jcmd is missing or fails)."""
    try:
        out = subprocess.run(['jcmd', str(jvm), 'Thread.print'], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    names = {}
    for name, nid in NID.findall(out):
        names[int(nid, 16) if nid.startswith('0x') else int(nid)] = name
    return names

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument('jvm', type=int)
    ap.add_argument('interval', type=float, nargs='?', default=1.0)
    ap.add_argument('--threads', action='store_true')
    ap.add_argument('--names-every', type=float, default=15.0)
    ap.add_argument('--per', type=int, default=0)
    ap.add_argument('--window', type=float, default=0.0)
    ap.add_argument('--raw')
    args = ap.parse_args()
    jvm, interval = args.jvm, args.interval
    pm = None
    last_jvm = last_pg = 0
    threads = {}  # tid -> [comm, ticks, full name or None]
    next_names = 0.0
    window_start, window_jvm, window_jit = time.monotonic(), 0, 0
    while os.path.exists(f'/proc/{jvm}'):
        try:
            s = stat(jvm)
            last_jvm = s['ut'] + s['st']
            if pm is None:
                pm = find_postmaster(jvm)
            if pm is not None:
                last_pg = max(last_pg, pg_ticks(pm))
            if args.threads:
                for tid, (comm, ticks) in thread_ticks(jvm).items():
                    seen = threads.setdefault(tid, [comm, 0, None])
                    seen[0], seen[1] = comm, max(seen[1], ticks)
                now = time.monotonic()
                if args.names_every > 0 and now >= next_names:
                    next_names = now + args.names_every
                    for tid, name in java_names(jvm).items():
                        if tid in threads:
                            threads[tid][2] = name
                if args.window > 0 and now - window_start >= args.window:
                    jit = sum(t[1] for t in threads.values() if group_of(t[0]).startswith('jit'))
                    span = now - window_start
                    print(f'window t={now:.0f} jvm_cores={(last_jvm - window_jvm) / HZ / span:.2f}'
                          f' jit_cores={(jit - window_jit) / HZ / span:.2f}', file=sys.stderr,
                          flush=True)
                    window_start, window_jvm, window_jit = now, last_jvm, jit
        except OSError:
            pass
        time.sleep(interval)
    print(f'jvm_cpu_s={last_jvm / HZ:.1f} pg_cpu_s={last_pg / HZ:.1f} postmaster={pm}')
    if not args.threads:
        return
    groups = {}
    for comm, ticks, name in threads.values():
        g = groups.setdefault(group_of(name or comm), [0, 0, {}])
        g[0] += ticks
        g[1] += 1
        key = re.sub(r'\d+', 'N', name or comm)
        g[2][key] = g[2].get(key, 0) + ticks
    if args.raw:
        with open(args.raw, 'w') as f:
            for tid, (comm, ticks, name) in sorted(threads.items()):
                f.write(f'{tid}\t{ticks / HZ:.2f}\t{group_of(name or comm)}\t{name or comm}\n')
    seen = sum(g[0] for g in groups.values())
    groups['unseen (threads ended between samples)'] = [max(0, last_jvm - seen), 0, {}]
    total = max(last_jvm, seen) or 1
    for name, (ticks, count, names) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
        per = f' per_1000_s={ticks / HZ * 1000 / args.per:.3f}' if args.per else ''
        top = ', '.join(f'{n}={t / HZ:.1f}' for n, t in
                        sorted(names.items(), key=lambda kv: -kv[1])[:4] if t > 0)
        print(f'thread_group={name!r} cpu_s={ticks / HZ:.1f} share={ticks / total:.3f}'
              f' threads={count}{per} top=[{top}]')

main()
