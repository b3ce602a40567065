#!/usr/bin/python3
"""Checks doc/openapi.json against the OpenAPI 3.0 specification.

    openapi_check.py SOURCE_DIR               the document itself
    openapi_check.py --self-test SOURCE_DIR   broken copies of it must be rejected

The specification's own JSON Schema (Debian package openapi-specification)
is applied with python3-jsonschema, both installed by scripts/install-deps.sh
for Debian's /usr/bin/python3 (a pyenv or venv interpreter lacks them).
The schema cannot see across the document, so the specification's rules
that span it are checked here as well: every local $ref resolves, every
{name} in a path is declared as a required path parameter, operationIds are
unique, and security requirements name declared security schemes.

Exit codes: 0 valid (or, with --self-test, every broken copy rejected);
1 invalid, or python3-jsonschema missing while the schema is there, or a
broken copy accepted; 77 (CTest: skipped) only when the schema file is
absent; 64 usage. That the document and the server's route table list the
same routes is the unit test ApiOpenApi's job.
"""
import copy
import json
import os
import re
import sys

SCHEMA = "/usr/share/openapi-specification/schemas/v3.0/schema.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def deepest(error):
    """Of a oneOf/anyOf error, the alternative's error that reached deepest
    into the document: the bare oneOf message prints the whole subtree, and
    jsonschema's best_match prefers the shallow "'$ref' is a required
    property" of the Reference alternative, neither saying what is wrong."""
    candidates = [deepest(e) for e in error.context]
    if not candidates:
        return error
    return max(candidates, key=lambda e: len(e.absolute_path))


def pointer(parts):
    """A place in the document, readable although path keys hold slashes:
    paths["/api/v1/msgs"]/post/responses/201."""
    text = ""
    for part in parts:
        if isinstance(part, str) and "/" in part:
            text += f'["{part}"]'
        else:
            text += ("/" if text else "") + str(part)
    return text or "(document)"


def schema_errors(validator, document):
    """The schema's complaints, each as 'where: what'."""
    found = []
    for error in validator.iter_errors(document):
        error = deepest(error)
        found.append(f"{pointer(error.absolute_path)}: {error.message[:200]}")
    return found


def resolve_local(document, ref):
    """True when ref ('#/a/b') names a node of document."""
    if not ref.startswith("#/"):
        return True  # only local references are used and checked here
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def walk(node, parts=()):
    yield pointer(parts), node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, parts + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, parts + (index,))


def follow(document, node):
    """node, or what its local $ref names (one level: parameters are not
    references to references in this document)."""
    if isinstance(node, dict) and "$ref" in node and resolve_local(document, node["$ref"]):
        target = document
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return target
    return node


def cross_errors(document):
    found = []
    for where, node in walk(document):
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            if not resolve_local(document, node["$ref"]):
                found.append(f"{where}: $ref {node['$ref']} names nothing")
    schemes = set((document.get("components") or {}).get("securitySchemes") or {})
    for requirement in document.get("security", []):
        for name in sorted(set(requirement) - schemes):
            found.append(f"security: security scheme {name} is not declared")
    operation_ids = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        templated = set(re.findall(r"\{([^}]+)\}", path))
        shared = [follow(document, p) for p in item.get("parameters", [])]
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            where = pointer(("paths", path, method))
            operation_id = operation.get("operationId")
            if operation_id in operation_ids:
                found.append(f"{where}: operationId {operation_id} is also {operation_ids[operation_id]}'s")
            elif operation_id is not None:
                operation_ids[operation_id] = f"{method.upper()} {path}"
            for requirement in operation.get("security", []):
                for name in sorted(set(requirement) - schemes):
                    found.append(f"{where}: security scheme {name} is not declared")
            params = shared + [follow(document, p) for p in operation.get("parameters", [])]
            in_path = [p for p in params if isinstance(p, dict) and p.get("in") == "path"]
            declared = {p.get("name") for p in in_path}
            for name in sorted(templated - declared):
                found.append(f"{where}: path parameter {{{name}}} is not declared")
            for name in sorted(declared - templated):
                found.append(f"{where}: path parameter {name} is not in the path")
            for p in in_path:
                if p.get("required") is not True:
                    found.append(f"{where}: path parameter {p.get('name')} must be required: true")
    return found


def problems(validator, document):
    return schema_errors(validator, document) + cross_errors(document)


def first_response(document, path, method):
    return next(iter(document["paths"][path][method]["responses"].values()))


def templated_path(document):
    return next(p for p in document["paths"] if "{" in p)


# Each a way a document goes wrong that the check exists to catch; the
# self-test applies each to a copy of the real document.
BREAKAGES = [
    ("a path item with an unknown field",
     lambda d: d["paths"][next(iter(d["paths"]))].__setitem__("summery", "typo")),
    ("a response without description",
     lambda d: [first_response(d, p, m).pop("description")
                for p, item in d["paths"].items() for m in METHODS if m in item][:1]),
    ("an operation without responses",
     lambda d: [item[m].pop("responses")
                for item in d["paths"].values() for m in METHODS if m in item][:1]),
    ("a parameter without 'in'",
     lambda d: d["paths"][next(iter(d["paths"]))].setdefault("parameters", []).append({"name": "x"})),
    ("a Swagger 2 version string", lambda d: d.__setitem__("openapi", "2.0")),
    ("no info", lambda d: d.pop("info")),
    ("a schema with an unknown type",
     lambda d: next(iter(d["components"]["schemas"].values())).__setitem__("type", "datetime")),
    ("a $ref to a missing schema",
     lambda d: next(iter(d["components"]["schemas"].values())).__setitem__(
         "properties", {"x": {"$ref": "#/components/schemas/NoSuchSchema"}})),
    ("a duplicate operationId",
     lambda d: [item[m].__setitem__("operationId", "same")
                for item in d["paths"].values() for m in METHODS if m in item]),
    ("a security requirement naming no declared scheme",
     lambda d: d.__setitem__("security", [{"basic": []}])),
    ("a templated path whose parameter is not declared",
     lambda d: d["paths"].__setitem__(templated_path(d).replace("{", "{x").replace("}", "x}"),
                                      d["paths"].pop(templated_path(d)))),
]


def main():
    args = sys.argv[1:]
    self_test = bool(args) and args[0] == "--self-test"
    if self_test:
        args = args[1:]
    if len(args) != 1:
        print("usage: openapi_check.py [--self-test] SOURCE_DIR", file=sys.stderr)
        return 64
    if not os.path.exists(SCHEMA):
        print(f"openapi_check: {SCHEMA} is absent (Debian package openapi-specification,"
              " scripts/install-deps.sh); skipped")
        return 77
    try:
        import jsonschema
    except ImportError:
        print(f"openapi_check: python3-jsonschema is not installed for {sys.executable}"
              " (scripts/install-deps.sh installs it for /usr/bin/python3)")
        return 1
    with open(SCHEMA) as f:
        schema = json.load(f)
    # The 3.0 schema is written in draft 4 ("$schema" says so); the class
    # must match it, and the schema must itself be valid in that draft.
    validator_class = jsonschema.validators.validator_for(schema)
    if validator_class is not jsonschema.Draft4Validator:
        print(f"openapi_check: {SCHEMA} declares {schema.get('$schema')}, expected draft 4")
        return 1
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)

    path = args[0] + "/doc/openapi.json"
    try:
        with open(path) as f:
            document = json.load(f)
    except (OSError, ValueError) as e:
        print(f"openapi_check: {path}: {e}")
        return 1
    found = problems(validator, document)
    if found:
        for problem in found:
            print(f"openapi_check: {path}: {problem}")
        return 1
    if not self_test:
        print(f"openapi_check: {path} is a valid OpenAPI {document.get('openapi')} document")
        return 0

    accepted = 0
    for name, breakage in BREAKAGES:
        broken = copy.deepcopy(document)
        breakage(broken)
        found = problems(validator, broken)
        if found:
            print(f"openapi_check: rejected {name}: {found[0]}")
        else:
            print(f"openapi_check: ACCEPTED {name}")
            accepted += 1
    return 1 if accepted else 0


if __name__ == "__main__":
    sys.exit(main())
