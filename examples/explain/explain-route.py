#!/usr/bin/env python3
"""Times the reviewers' explanation route of a running embedded stack (standard library only).

Submits the 60 texts of held-texts.jsonl with the echo backend (the output is the text itself),
waits until each is judged, then asks for the explanation of each, one after another, and prints
how many were explained and the latency of the explained ones.

  ./genguard run --data-dir DIR --http-port 18080 &
  python3 examples/explain/explain-route.py http://127.0.0.1:18080 DIR/admin-token
"""
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

API, TOKEN = sys.argv[1], Path(sys.argv[2]).read_text().strip()
TEXTS = Path(__file__).with_name("held-texts.jsonl")


def call(method, path, body=None):
    request = urllib.request.Request(
        API + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


ids = []
for line in TEXTS.read_text().splitlines():
    status, body = call("POST", "/api/v1/requests",
                        {"prompt": json.loads(line)["text"], "backend": "echo"})
    if status != 202:
        sys.exit(f"submit failed: {status} {body}")
    ids.append(body["requestId"])
deadline = time.time() + 300
while time.time() < deadline:
    judged = [i for i in ids if call("GET", "/api/v1/requests/" + i)[1].get("status") != "IN_PROGRESS"]
    if len(judged) == len(ids):
        break
    time.sleep(2)
else:
    sys.exit(f"only {len(judged)} of {len(ids)} judged in 300 s")

seconds, statuses, with_words = [], {}, 0
for i in ids:
    started = time.time()
    status, body = call("GET", f"/api/v1/requests/{i}/explanation")
    elapsed = time.time() - started
    if status != 200:
        sys.exit(f"explanation of {i} failed: {status} {body}")
    statuses[body["status"]] = statuses.get(body["status"], 0) + 1
    if body["status"] == "EXPLAINED":
        seconds.append(elapsed)
        with_words += any(reason["evidence"] for reason in body["reasons"])
seconds.sort()
print(f"statuses {statuses}; explained with at least one word: {with_words} of {len(seconds)}")
if seconds:
    print("explained: median %.2f s, p90 %.2f s, max %.2f s" % (
        seconds[len(seconds) // 2], seconds[int(len(seconds) * 0.9)], seconds[-1]))
