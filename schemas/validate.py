#!/usr/bin/env python3
# Validates JSON documents (.json) or JSON lines (.jsonl) against a draft 2020-12 schema:
#   python3 schemas/validate.py schemas/v1/run.schema.json out/latest/run.json
# Exit 0 when every document is valid; prints the first errors otherwise. Needs jsonschema.
import json, sys
try:
    from jsonschema import Draft202012Validator, FormatChecker
except ImportError:
    print("jsonschema is not installed: pip install jsonschema (or apt-get install python3-jsonschema)")
    sys.exit(3)
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema, format_checker=FormatChecker())
bad = 0
for path in sys.argv[2:]:
    docs = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()] if path.endswith(".jsonl") else [json.load(open(path, encoding="utf-8"))]
    for i, d in enumerate(docs):
        for e in v.iter_errors(d):
            bad += 1
            if bad <= 5: print(f"{path}:{i+1}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
print(f"{bad} errors")
sys.exit(1 if bad else 0)
