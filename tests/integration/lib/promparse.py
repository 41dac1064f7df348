#!/usr/bin/env python3
"""promparse.py FILE — a strict parser of the Prometheus text format (0.0.4)
for the agent's metrics file.  Exits 1 with the line number on the first
violation; otherwise prints one "series value" line per sample, series as
name{label="value",...} with labels in file order (values unescaped).

Checked: every line ends in \\n; comments are only "# HELP name text" and
"# TYPE name gauge|counter|untyped"; each family has one HELP and one TYPE,
before its samples, and its samples are contiguous; metric and label names
match the grammar; label values use only the escapes \\\\ \\" \\n; values are
floats; no series appears twice."""
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LNAME = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')


def die(n, msg):
    print(f"line {n}: {msg}", file=sys.stderr)
    sys.exit(1)


def labels(n, s, i):
    out = []
    if i >= len(s) or s[i] != '{':
        return out, i
    i += 1
    while True:
        if s[i] == '}':
            return out, i + 1
        m = LNAME.match(s, i)
        if not m:
            die(n, "bad label name")
        i = m.end()
        if s[i:i + 2] != '="':
            die(n, "expected =\"")
        i += 2
        v = []
        while s[i] != '"':
            if s[i] == '\\':
                esc = s[i + 1]
                if esc not in '\\"n':
                    die(n, f"bad escape \\{esc}")
                v.append('\n' if esc == 'n' else esc)
                i += 2
            elif s[i] == '\n':
                die(n, "newline in label value")
            else:
                v.append(s[i])
                i += 1
        out.append((m.group(0), ''.join(v)))
        i += 1
        if s[i] == ',':
            i += 1
        elif s[i] != '}':
            die(n, "expected , or }")


def main():
    data = open(sys.argv[1], encoding='utf-8').read()
    if not data.endswith('\n'):
        die(0, "no final newline")
    helps, types, done, seen, cur = set(), {}, set(), set(), None
    for n, line in enumerate(data[:-1].split('\n'), 1):
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) < 4 or parts[1] not in ('HELP', 'TYPE') or not NAME.fullmatch(parts[2]):
                die(n, "bad comment")
            name = parts[2]
            if name in done:
                die(n, f"{name}: family not contiguous")
            if parts[1] == 'HELP':
                if name in helps:
                    die(n, f"{name}: second HELP")
                helps.add(name)
            else:
                if name in types or parts[3] not in ('gauge', 'counter', 'untyped'):
                    die(n, f"{name}: bad or second TYPE")
                types[name] = parts[3]
            if cur is not None and cur != name:
                done.add(cur)
            cur = name
            continue
        m = NAME.match(line)
        if not m:
            die(n, "bad metric name")
        name = m.group(0)
        if name not in helps or name not in types:
            die(n, f"{name}: sample before its HELP and TYPE")
        if cur != name:
            die(n, f"{name}: samples not contiguous")
        lab, i = labels(n, line, m.end())
        if line[i:i + 1] != ' ':
            die(n, "expected a space before the value")
        try:
            val = float(line[i + 1:])
        except ValueError:
            die(n, "bad value")
        series = name + '{' + ','.join(f'{k}="{v}"' for k, v in lab) + '}'
        if series in seen:
            die(n, f"duplicate series {series}")
        seen.add(series)
        print(series, repr(val) if val != int(val) else int(val))


main()
