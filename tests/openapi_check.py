#!/usr/bin/env python3
"""Checks doc/openapi.json against the OpenAPI 3 specification.

    python3 tests/openapi_check.py SOURCE_DIR

Uses openapi-spec-validator (pip install openapi-spec-validator); exits 77
(CTest: skipped) when it is not installed, 1 when the document is not a
valid OpenAPI document, 0 when it is. That the document and the server's
route table list the same routes is the unit test ApiOpenApi's job.
"""
import sys

def main():
    if len(sys.argv) != 2:
        print("usage: openapi_check.py SOURCE_DIR", file=sys.stderr)
        return 64
    try:
        from openapi_spec_validator import validate
        from openapi_spec_validator.readers import read_from_filename
    except ImportError:
        print("openapi_check: openapi-spec-validator is not installed; skipped")
        return 77
    path = sys.argv[1] + "/doc/openapi.json"
    try:
        document, _ = read_from_filename(path)
        validate(document)
    except Exception as e:  # the validator's errors, and a file that is not JSON
        # The validator's text goes on to print the whole document.
        print(f"openapi_check: {path}: {getattr(e, 'message', None) or str(e).splitlines()[0]}")
        return 1
    print(f"openapi_check: {path} is a valid OpenAPI {document.get('openapi')} document")
    return 0

if __name__ == "__main__":
    sys.exit(main())
