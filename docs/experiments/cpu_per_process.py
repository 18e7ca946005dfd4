#!/usr/bin/env python3
"""CPU seconds used by one JVM (the embedded stack) and by the PostgreSQL server it talks to.

Usage: python3 docs/experiments/cpu_per_process.py JVM_PID [INTERVAL_S]
Samples every INTERVAL_S (default 1) until the JVM exits, then prints the last totals:
  jvm_cpu_s=... pg_cpu_s=... (PostgreSQL: postmaster + its exited children + live backends).
The PostgreSQL server is found through `ss -tnpH`: a backend whose socket is the peer of one of the
JVM's connections; its parent is the postmaster. Divide by the outputs processed for CPU per output.
"""
import os, re, subprocess, sys, time

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

def main():
    jvm = int(sys.argv[1])
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    pm = None
    last_jvm = last_pg = 0
    while os.path.exists(f'/proc/{jvm}'):
        try:
            s = stat(jvm)
            last_jvm = s['ut'] + s['st']
            if pm is None:
                pm = find_postmaster(jvm)
            if pm is not None:
                last_pg = max(last_pg, pg_ticks(pm))
        except OSError:
            pass
        time.sleep(interval)
    print(f'jvm_cpu_s={last_jvm / HZ:.1f} pg_cpu_s={last_pg / HZ:.1f} postmaster={pm}')

main()
