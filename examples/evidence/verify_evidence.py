#!/usr/bin/env python3
"""Checks a GenGuard evidence bundle (format genguard-evidence-4, -3, -2 or -1) without GenGuard's code.

Only the Python standard library and the openssl command (for Ed25519) are used, to show that the
format as documented in audit-service/README.md ("Evidence bundles") is enough to check a bundle
independently. Usage:

    python3 verify_evidence.py BUNDLE.json ANCHOR_KEYS

ANCHOR_KEYS is the anchor file's public keys (id:base64 lines, GET /api/v1/audit/anchors/keys).
Prints one line per record and exits 0 only when every record is proven and at least one record
proven with its content (or, of chain version 3, removed with its canonical text proven) is the
request's own, of the tenant the bundle names (what ties the bundle's records, removed ones too, to
the request it names), and no listed event id conflict (not on the chain) contradicts the record it
contests in the bundle.
"""
import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile

# DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in a JSON object")
    return dict(pairs)


def strict_json(text):
    return json.loads(text, object_pairs_hook=no_duplicates)


def read_keys(path):
    keys = {}
    with open(path, encoding="utf-8") as f:
        for line in f.read().replace(",", "\n").splitlines():
            line = line.strip()
            if line:
                key_id, raw = line.split(":", 1)
                keys[key_id] = base64.b64decode(raw)
    return keys


def signature_holds(line, keys):
    """The anchor line's Ed25519 signature over context, seq, hash, time and prev, one a line."""
    if line.get("keyId") not in keys or "sig" not in line:
        return False
    message = "\n".join(
        ["genguard-audit-anchor-v1", str(line["seq"]), line["hash"], line["anchoredAt"], line["prev"]]
    ).encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "key.der": ED25519_SPKI_PREFIX + keys[line["keyId"]],
            "message": message,
            "sig": base64.b64decode(line["sig"]),
        }
        for name, content in files.items():
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(content)
        result = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey",
             os.path.join(tmp, "key.der"), "-rawin", "-in", os.path.join(tmp, "message"),
             "-sigfile", os.path.join(tmp, "sig")],
            capture_output=True,
        )
        return result.returncode == 0


def instant(text):
    """An ISO-8601 UTC instant as (seconds, nanoseconds), for comparing; None if not one."""
    try:
        whole, _, rest = text.rstrip("Z").partition(".")
        seconds = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        return (seconds, int((rest + "000000000")[:9]))
    except (AttributeError, ValueError):
        return None


def before(first, second):
    """Whether instant text first is before second; False when either is not an instant."""
    a, b = instant(first), instant(second)
    return a is not None and b is not None and a < b


def text_of(value, absent=""):
    """A JSON value as text, as GenGuard's check reads it: absent for null, a list or an object."""
    if value is None or isinstance(value, (dict, list)):
        return absent
    return value if isinstance(value, str) else json.dumps(value)


def conflict_problems(conflicts, chained):
    """What contradicts the records in the listed event id conflicts (not on the chain).

    A row's payload text, when shown, must hash to its payloadSha256; a row whose recordedSeq is a
    record of the bundle must name that record's event id and payload SHA-256
    (recordedPayloadSha256); a row naming the event id of a record of the bundle must name its seq.
    A row whose contested record is not in the bundle, or withheld (no recordedSeq), is not compared.
    """
    problems = []
    seq_of_event = {event_id: seq for seq, (event_id, _) in chained.items()}
    rows = conflicts.values() if isinstance(conflicts, dict) else (
        conflicts if isinstance(conflicts, list) else [])
    for number, conflict in enumerate(rows, 1):
        if not isinstance(conflict, dict):
            continue
        event_id = text_of(conflict.get("eventId"))
        listed = "event id conflict %d (event %s)" % (number, event_id)
        payload, payload_sha256 = conflict.get("payload"), text_of(conflict.get("payloadSha256"), None)
        if (isinstance(payload, str) and payload_sha256 is not None
                and hashlib.sha256(payload.encode("utf-8")).hexdigest() != payload_sha256):
            problems.append("%s: its payload does not hash to its payloadSha256" % listed)
        seq = conflict.get("recordedSeq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            continue
        if seq not in chained:
            if event_id in seq_of_event:
                problems.append("%s: it names seq %d, but the bundle holds that event at seq %d"
                                % (listed, seq, seq_of_event[event_id]))
            continue
        recorded_event_id, recorded_sha256 = chained[seq]
        if recorded_event_id != event_id:
            problems.append("%s: it names seq %d, but seq %d in the bundle is event %s"
                            % (listed, seq, seq, recorded_event_id))
        elif recorded_sha256 is not None and recorded_sha256 != text_of(
                conflict.get("recordedPayloadSha256"), None):
            problems.append("%s: its recordedPayloadSha256 is not the SHA-256 of seq %d's payload"
                            % (listed, seq))
    return problems


def check(bundle, keys):
    """Returns (problems, findings, request_proven): findings maps seq to (event type, status)."""
    problems = []
    if bundle.get("format") not in ("genguard-evidence-1", "genguard-evidence-2", "genguard-evidence-3",
                                    "genguard-evidence-4"):
        return ["unknown format %r" % bundle.get("format")], {}, False
    # Since format 2: bulk actions on the request's unfinished flows, records of no request.
    bulk_allowed = bundle["format"] != "genguard-evidence-1"
    # Since format 3: the retention records (of no request) that removed content of its records.
    retention_allowed = bundle["format"] in ("genguard-evidence-3", "genguard-evidence-4")
    flows, removed_flows, bulk_actions = [], [], {}
    removed, retention, detached = {}, {}, set()
    own = {}  # the request's own records with their content: seq to the tenant each names
    chained = {}  # each record's (event id, payload SHA-256) as its canonical text says, by seq
    request_id = bundle["requestId"]
    tenant_id = bundle.get("tenantId")
    digests = {}
    for number, segment in enumerate(bundle["segments"], 1):
        h = bytes.fromhex(segment["prevHash"])
        seq = segment["firstSeq"]
        for digest in segment["digests"]:
            d = bytes.fromhex(digest)
            digests[seq] = d
            h = hashlib.sha256(h + d).digest()
            seq += 1
        line = strict_json(segment["anchor"])
        if line["seq"] != seq - 1 or line["hash"].lower() != h.hex():
            problems.append("segment %d does not chain to its anchor line" % number)
            for s in range(segment["firstSeq"], seq):
                digests.pop(s, None)
        elif not signature_holds(line, keys):
            problems.append("segment %d: the anchor line's signature does not hold" % number)
            for s in range(segment["firstSeq"], seq):
                digests.pop(s, None)
    not_anchored = set(bundle.get("notAnchored", []))
    findings = {}
    for record in bundle["records"]:
        seq = record["seq"]
        if "canonical" not in record and isinstance(record.get("withheld"), str):
            # The issuer kept its content back (another tenant's ids) and said why: not proven.
            findings[seq] = (record.get("eventType"), "NOT_PROVEN")
            continue
        if "canonical" not in record:
            # Content removed by retention or an erasure: only its place can be proven.
            status = "CONTENT_REMOVED" if seq in digests else (
                "NOT_ANCHORED" if seq in not_anchored else "NOT_PROVEN")
            findings[seq] = (record.get("eventType"), status)
            if status != "NOT_PROVEN":
                removed[seq] = record
                if record.get("eventType") == "FlowUnfinished":
                    removed_flows.append(seq)
            continue
        text = record["canonical"]
        content = strict_json(text)
        if "removedAt" in record:
            # Chain version 3, content removed: the canonical text (the event's SHA-256 in place of
            # the event) still hashes to the digest, so its request, tenant, type and time are proven.
            bulk = bulk_allowed and content.get("requestId") is None and record.get("eventType") == "ApiAction"
            if (content.get("chainVersion") != 3 or "payload" in content or content.get("seq") != seq
                    or content.get("eventType") != record.get("eventType")
                    or content.get("recordedAt") != record.get("recordedAt")
                    or (content.get("requestId") != request_id and not bulk)):
                problems.append("seq %d is not a removed record of request %s at that place" % (seq, request_id))
                findings[seq] = (record.get("eventType"), "NOT_PROVEN")
            elif seq in digests and hashlib.sha256(text.encode("utf-8")).digest() != digests[seq]:
                problems.append("seq %d: its canonical text was changed" % seq)
                findings[seq] = (record.get("eventType"), "NOT_PROVEN")
            else:
                status = "CONTENT_REMOVED" if seq in digests else (
                    "NOT_ANCHORED" if seq in not_anchored else "NOT_PROVEN")
                findings[seq] = (record.get("eventType"), status)
                if status != "NOT_PROVEN":
                    chained[seq] = (text_of(content.get("eventId")),
                                    text_of(content.get("payloadSha256"), None))
                    removed[seq] = dict(record, requestId=content.get("requestId"),
                                        tenantId=content.get("tenantId"))
                    if record.get("eventType") == "FlowUnfinished":
                        removed_flows.append(seq)
                if status == "CONTENT_REMOVED" and content.get("requestId") == request_id:
                    own[seq] = content.get("tenantId")
            continue
        if content.get("chainVersion") == 3:
            # The canonical text holds the event's SHA-256; the event is beside it.
            payload = record.get("payload")
            if (not isinstance(payload, str) or "payload" in content
                    or hashlib.sha256(payload.encode("utf-8")).hexdigest() != content.get("payloadSha256")):
                problems.append("seq %d: its payload does not match its canonical text" % seq)
                findings[seq] = (record.get("eventType"), "NOT_PROVEN")
                continue
            content["payload"] = payload
            payload_sha256 = text_of(content.get("payloadSha256"), None)
        elif isinstance(content.get("payload"), str):
            # Chain version 2: the event is in the canonical text.
            payload_sha256 = hashlib.sha256(content["payload"].encode("utf-8")).hexdigest()
        else:
            payload_sha256 = text_of(content.get("payloadSha256"), None)
        if content.get("seq") == seq:
            chained[seq] = (text_of(content.get("eventId")), payload_sha256)
        bulk = (bulk_allowed and content.get("requestId") is None
                and content.get("eventType") == "ApiAction" == record.get("eventType"))
        kept = (retention_allowed and content.get("requestId") is None
                and content.get("eventType") == "RetentionApplied" == record.get("eventType"))
        if bulk:
            bulk_actions[seq] = json.loads(content["payload"])
        elif content.get("eventType") == "FlowUnfinished" and isinstance(content.get("payload"), str):
            flows.append(json.loads(content["payload"]))
        if content.get("eventType") == "RetentionApplied" and isinstance(content.get("payload"), str):
            retention[seq] = json.loads(content["payload"])
            if kept:
                detached.add(seq)
        if (content.get("seq") != seq or (content.get("requestId") != request_id and not bulk and not kept)
                or content.get("eventType") != record.get("eventType")):
            problems.append("seq %d is not a record of request %s at that place" % (seq, request_id))
            findings[seq] = (record.get("eventType"), "NOT_PROVEN")
        elif seq in digests:
            if hashlib.sha256(text.encode("utf-8")).digest() == digests[seq]:
                findings[seq] = (record["eventType"], "PROVEN")
                if not bulk and not kept:
                    own[seq] = content.get("tenantId")
            else:
                problems.append("seq %d: its content was changed" % seq)
                findings[seq] = (record["eventType"], "NOT_PROVEN")
        else:
            findings[seq] = (record["eventType"], "NOT_ANCHORED" if seq in not_anchored else "NOT_PROVEN")
    used = set()
    for seq, record in sorted(removed.items()):
        # A removal counts only when the retention or erasure record it names is in the bundle,
        # with its content, and takes the record in: after it, its cutoff after the record's time,
        # the record's request (an erasure) or tenant (a tenant's period; the default's).
        by = record.get("removedBySeq")
        if by in findings and findings[by][1] == "NOT_PROVEN":
            findings[seq] = (findings[seq][0], "NOT_PROVEN")  # a problem names that record
            continue
        justification = retention.get(by) if isinstance(by, int) else None
        if justification is None:
            problems.append("seq %d: its removal is accounted for by no retention or erasure"
                            " record of the bundle" % seq)
            findings[seq] = (findings[seq][0], "NOT_PROVEN")
            continue
        # Of chain version 3, the removed record's request and tenant are proven; else the bundle's.
        record_request = record["requestId"] if "requestId" in record else request_id
        record_tenant = record["tenantId"] if "tenantId" in record else tenant_id
        scope = justification.get("scope")
        if scope == "REQUEST":
            in_scope = justification.get("requestId") == record_request
        elif scope == "TENANT":
            in_scope = justification.get("tenantId") is not None and justification.get("tenantId") == record_tenant
        else:
            in_scope = record_tenant is None or record_tenant not in justification.get("excludedTenants", [])
        if not (by > seq and before(record.get("recordedAt"), justification.get("cutoff")) and in_scope):
            problems.append("seq %d: retention record %d does not account for its removal" % (seq, by))
            findings[seq] = (findings[seq][0], "NOT_PROVEN")
            continue
        used.add(by)
    for seq in sorted(detached - used):
        problems.append("seq %d: a retention record of no request that removed none of its records" % seq)
    # The listed conflicts after the removals, before the flows: as GenGuard lists its problems.
    problems.extend(conflict_problems(bundle.get("eventIdConflicts", []), chained))
    for seq, action in sorted(bulk_actions.items()):
        # A bulk dismissal or resend covers a flow of the same kind, of its tenant if it names one,
        # whose record was recorded before its instant; or, when that record lost its content (an
        # erasure of the request), a flow record before it, unchecked.
        details = action.get("details", {})
        covered = action.get("action") in ("unfinished.dismiss", "unfinished.resend") and (any(
            details.get("kind") == flow.get("kind")
            and action.get("tenantId") in (None, flow.get("tenantId"))
            and before(flow.get("recordedAt"), details.get("recordedBefore"))
            for flow in flows) or (
            action.get("tenantId") in (None, tenant_id)
            and any(flow_seq < seq for flow_seq in removed_flows)))
        if not covered:
            problems.append("seq %d: an action of no request that covers none of its flows" % seq)
            findings[seq] = (findings[seq][0], "NOT_PROVEN")
    # A proven record of the request ties the bundle to it; one of another tenant contradicts it.
    request_proven = False
    for seq, tenant in sorted(own.items()):
        if findings[seq][1] not in ("PROVEN", "CONTENT_REMOVED"):
            continue
        if tenant is not None and tenant != tenant_id:
            problems.append("seq %d: a record of tenant %s, not of the bundle's %s" % (seq, tenant, tenant_id))
            findings[seq] = (findings[seq][0], "NOT_PROVEN")
        else:
            request_proven = True
    for policy in bundle.get("policies", []):
        if hashlib.sha256(policy["text"].encode("utf-8")).hexdigest() != policy["sha256"]:
            problems.append("policy file %s has another digest" % policy["sha256"])
    return problems, findings, request_proven


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        bundle = strict_json(f.read())
    problems, findings, request_proven = check(bundle, read_keys(sys.argv[2]))
    for seq in sorted(findings):
        print("seq %d %s: %s" % (seq, findings[seq][0], findings[seq][1]))
    for problem in problems:
        print("problem: " + problem)
    every_place_proven = findings and all(
        status in ("PROVEN", "CONTENT_REMOVED") for _, status in findings.values())
    if not problems and every_place_proven and not request_proven:
        print("incomplete: nothing in the bundle proves these records are request %s's"
              % bundle["requestId"])
    complete = not problems and request_proven and every_place_proven
    print("PROVEN" if complete else "NOT PROVEN")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
