#!/usr/bin/env python3
# Cross-checks a PromQL test script (upstream format) against Prometheus itself:
# converts it to a `promtool test rules` file (eval_fail cases are left out) and runs
# promtool. Usage: promtool_check.py tests/tsdb/promql/testdata/x.test /tmp/x.yml && promtool test rules /tmp/x.yml
# promtool compares values exactly, so NaN and last-digit float differences show up
# as "failures" to be read by eye.
import sys, re, json, subprocess, os
src = open(sys.argv[1]).read().split('\n')
groups = []; cur = None
i = 0
def newgroup():
    global cur
    cur = {'interval': None, 'input_series': [], 'promql_expr_test': []}
    groups.append(cur)
newgroup()
def split_series(l):
    l = l.strip()
    b = l.find('{'); sp = re.search(r'\s', l)
    if b != -1 and (sp is None or b < sp.start()):
        depth=0; q=None; j=b
        while j < len(l):
            c=l[j]
            if q:
                if c=='\\': j+=1
                elif c==q: q=None
            elif c in '"\'': q=c
            elif c=='}': break
            j+=1
        return l[:j+1], l[j+1:].strip()
    sp = sp.start()
    return l[:sp], l[sp:].strip()
lines_meta=[]
while i < len(src):
    line = src[i].strip(); i += 1
    if not line or line.startswith('#'): continue
    if line == 'clear': newgroup(); continue
    if line.startswith('load'):
        cur['interval'] = line.split()[1]
        while i < len(src) and src[i][:1] in (' ', '\t') and src[i].strip():
            s, v = split_series(src[i]); i += 1
            cur['input_series'].append({'series': s, 'values': v})
        continue
    if line.startswith('eval'):
        toks = line.split(' ', 4)
        exp = []
        lineno = i
        while i < len(src) and src[i][:1] in (' ', '\t') and src[i].strip():
            l = src[i].strip(); i += 1
            try:
                float(l.replace('Inf','inf')); exp.append({'labels': '{}', 'value': l}); continue
            except ValueError: pass
            s, v = split_series(l)
            exp.append({'labels': s, 'value': v})
        if toks[0] == 'eval_fail': continue
        cur['promql_expr_test'].append({'expr': toks[4], 'eval_time': toks[3] if toks[3] != '0' else '0m', 'exp_samples': exp, '_line': lineno})
out = {'tests': []}
for g in groups:
    if not g['promql_expr_test']: continue
    for t in g['promql_expr_test']:
        t.pop('_line')
    out['tests'].append({'interval': g['interval'] or '1m', 'input_series': g['input_series'], 'promql_expr_test': g['promql_expr_test']})
def yv(v):
    l=v.lower()
    if l=='nan': return '.nan'
    if l in ('inf','+inf'): return '.inf'
    if l=='-inf': return '-.inf'
    return v
with open(sys.argv[2],'w') as f:
    f.write('tests:\n')
    for g in out['tests']:
        f.write('  - interval: %s\n    input_series:\n' % g['interval'])
        for s_ in g['input_series']:
            f.write('      - series: %s\n        values: %s\n' % (json.dumps(s_['series']), json.dumps(s_['values'])))
        f.write('    promql_expr_test:\n')
        for t in g['promql_expr_test']:
            f.write('      - expr: %s\n        eval_time: %s\n        exp_samples:\n' % (json.dumps(t['expr']), t['eval_time']))
            if not t['exp_samples']: f.write('          []\n')
            for e in t['exp_samples']:
                f.write('          - labels: %s\n            value: %s\n' % (json.dumps(e['labels']), yv(e['value'])))

