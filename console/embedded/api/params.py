"""Query parameters as kube-apiserver reads and validates them.

Copied from apimachinery: the parameter codec (runtime/conversion.go) makes a
boolean true unless it is "0", "false" (any case) or absent, so `watch=maybe`
watches there too; integers parse as strconv.ParseInt, and a bad one is a 400 in
its words. The options of each verb are then validated as
meta/v1/validation and internalversion/validation do, and refused as a 422 naming
the options kind: `CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported
value: []string{"Bogus"}: supported values: "All"`.
"""

import json

from console.embedded.api.status import bad_request, invalid

MIN_INT64, MAX_INT64 = -(1 << 63), (1 << 63) - 1
FIELD_VALIDATION = ("", "Ignore", "Strict", "Warn")     # sets.List order
PROPAGATION = ("Foreground", "Background", "Orphan")


def _quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def flag(q, name: str) -> bool:
    v = q.getall(name, [])
    return bool(v) and v[0] != "0" and v[0].lower() != "false"


def int64(q, name: str) -> int | None:
    """An int64 query parameter, or None when absent."""
    if name not in q:
        return None
    text = q.getall(name)[0]
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit():
        raise bad_request(f"strconv.ParseInt: parsing {_quote(text)}: invalid syntax")
    if len(digits) > 20 or not MIN_INT64 <= int(text) <= MAX_INT64:
        raise bad_request(f"strconv.ParseInt: parsing {_quote(text)}: value out of range")
    return int(text)


def options_invalid(kind: str, causes: list[tuple[str, str]], reason: str = "FieldValueNotSupported"):
    return invalid(kind, "", causes, "meta.k8s.io", reason)


def dry_run_causes(values: list) -> list[tuple[str, str]]:
    if all(v == "All" for v in values):
        return []
    shown = "[]string{" + ", ".join(_quote(str(v)) for v in values) + "}"
    return [("dryRun", f'Unsupported value: {shown}: supported values: "All"')]


def check_write(q, kind: str) -> bool:
    """dryRun and fieldValidation of a create, update or patch; True for a dry run."""
    causes = dry_run_causes(q.getall("dryRun", []))
    fv = q.get("fieldValidation", "")
    if fv not in FIELD_VALIDATION:
        causes.append(("fieldValidation", f"Unsupported value: {_quote(fv)}: supported values: "
                       + ", ".join(_quote(v) for v in FIELD_VALIDATION)))
    manager = q.get("fieldManager", "")
    if len(manager) > 128:
        causes.append(("fieldManager", "Too long: may not be more than 128 bytes"))
    if causes:
        raise options_invalid(kind, causes)
    return bool(q.getall("dryRun", []))


def check_list(q, watching: bool) -> None:
    """resourceVersionMatch (and the integers) of a list or a watch."""
    for name in ("limit", "timeoutSeconds"):
        int64(q, name)
    match = q.get("resourceVersionMatch", "")
    if not match:
        return
    causes: list[tuple[str, str]] = []
    if watching:
        if "sendInitialEvents" not in q:
            causes.append(("resourceVersionMatch", "Forbidden: resourceVersionMatch is forbidden "
                           "for watch unless sendInitialEvents is provided"))
        if match != "NotOlderThan":
            causes.append(("resourceVersionMatch", f"Unsupported value: {_quote(match)}: "
                           'supported values: "NotOlderThan"'))
    else:
        if not q.get("resourceVersion"):
            causes.append(("resourceVersionMatch", "Forbidden: resourceVersionMatch is forbidden "
                           "unless resourceVersion is provided"))
        if q.get("continue"):
            causes.append(("resourceVersionMatch", "Forbidden: resourceVersionMatch is forbidden "
                           "when continue is provided"))
        if match not in ("Exact", "NotOlderThan"):
            causes.append(("resourceVersionMatch", f"Unsupported value: {_quote(match)}: "
                           'supported values: "Exact", "NotOlderThan", ""'))
        elif match == "Exact" and q.get("resourceVersion") == "0":
            causes.append(("resourceVersionMatch", 'Forbidden: resourceVersionMatch "exact" is '
                           'forbidden for resourceVersion "0"'))
    if causes:
        raise options_invalid("ListOptions", causes)


def check_delete(opts: dict) -> None:
    """DeleteOptions from the body and the query, as ValidateDeleteOptions."""
    causes: list[tuple[str, str]] = []
    p = opts.get("propagationPolicy")
    if opts.get("orphanDependents") is not None and p is not None:
        causes.append(("propagationPolicy", f"Invalid value: {_quote(str(p))}: orphanDependents "
                       "and deletionPropagation cannot be both set"))
    if p is not None and p not in PROPAGATION:
        causes.append(("propagationPolicy", f"Unsupported value: {_quote(str(p))}: supported "
                       'values: "Foreground", "Background", "Orphan", "nil"'))
    causes += dry_run_causes(opts.get("dryRun") or [])
    if causes:
        raise options_invalid("DeleteOptions", causes)
