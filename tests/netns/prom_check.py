#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check a file is valid Prometheus text exposition format 0.0.4 (the subset
weft emits): HELP and TYPE before a family's samples, valid names, label
syntax, numeric values, no family split or repeated. Exit 1 with the reason."""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(\{{(?:{LABEL}(?:,{LABEL})*)?\}})? (\S+)$")
VALUE = re.compile(r"^(?:[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|[-+]?Inf|NaN)$")


def main(path):
    helped, typed, done, current = set(), {}, set(), None
    samples = 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("# HELP "):
                name = line.split(" ", 3)[2]
                if not re.fullmatch(NAME, name) or name in helped:
                    return f"line {n}: bad or repeated HELP for {name}"
                helped.add(name)
                continue
            if line.startswith("# TYPE "):
                parts = line.split(" ")
                if len(parts) != 4 or parts[3] not in ("counter", "gauge", "untyped", "histogram", "summary"):
                    return f"line {n}: bad TYPE line"
                typed[parts[2]] = parts[3]
                continue
            if line.startswith("#"):
                continue
            m = SAMPLE.match(line)
            if not m:
                return f"line {n}: not a sample: {line!r}"
            name, value = m.group(1), m.group(3)
            if not VALUE.match(value):
                return f"line {n}: bad value {value!r}"
            if name not in typed or name not in helped:
                return f"line {n}: {name} has no HELP/TYPE before its samples"
            if typed[name] == "counter" and not name.endswith("_total"):
                return f"line {n}: counter {name} does not end in _total"
            if name != current:
                if name in done:
                    return f"line {n}: family {name} is split"
                if current:
                    done.add(current)
                current = name
            samples += 1
    if samples == 0:
        return "no samples"
    return None


if __name__ == "__main__":
    err = main(sys.argv[1])
    if err:
        print(err, file=sys.stderr)
        sys.exit(1)
