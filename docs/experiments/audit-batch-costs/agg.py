import sys, statistics as st, collections, re
d=collections.defaultdict(list); hb=collections.defaultdict(list)
for line in open(sys.argv[1]):
    p=line.split()
    if len(p)<4 or not p[0].isdigit(): continue
    d[(p[1],p[2])].append(float(p[3]))
    m=re.search(r'hit=(\d+)', line)
    if m: hb[(p[1],p[2])].append(int(m.group(1)))
for v in sorted({k[0] for k in d}):
    row=[]
    for t in ['audit_log','generation_request','generation_output','moderation_verdict','gate_outcome','deferred_fk']:
        x=d.get((v,t),[])
        if x: row.append(f"{t[:10]}={st.median(x):6.1f}ms(n={len(x)})" + (f" hit={st.median(hb[(v,t)]):.0f}" if hb.get((v,t)) else ""))
    print(f"{v:46s}", " ".join(row))
