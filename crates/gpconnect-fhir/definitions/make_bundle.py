"""Builds definitions/stu3-structure-definitions.json.gz from the published FHIR STU3 files.

Input: `profiles-types.json` and `profiles-resources.json` of FHIR 3.0.1 as published by HL7
(CC0-1.0), here as shipped in the npm registry package `fhir@3.2.0` (`profiles/stu3/`):

    npm pack fhir@3.2.0 && tar xzf fhir-3.2.0.tgz package/profiles/stu3
    python3 make_bundle.py package/profiles/stu3 stu3-structure-definitions.json.gz

Output: one Bundle (type collection) of the StructureDefinitions the table has rows for: every
non-abstract resource and complex data type with derivation `specialization`, and the
`SimpleQuantity` constraint; sorted by id; each resource unmodified except that its `text`
(the human-readable narrative, not part of the definition) is left out to keep the file small.
"""
import gzip
import json
import sys

src, out = sys.argv[1], sys.argv[2]
defs = {}
for name in ("profiles-types.json", "profiles-resources.json"):
    with open(f"{src}/{name}", encoding="utf-8") as f:
        for entry in json.load(f)["entry"]:
            r = entry["resource"]
            if r.get("resourceType") != "StructureDefinition":
                continue
            keep = r["id"] == "SimpleQuantity" or (
                r.get("kind") in ("resource", "complex-type")
                and not r.get("abstract", False)
                and r.get("derivation") == "specialization"
            )
            if keep:
                r = {k: v for k, v in r.items() if k != "text"}
                defs[r["id"]] = r
bundle = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [{"resource": defs[i]} for i in sorted(defs)],
}
data = json.dumps(bundle, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode()
with gzip.GzipFile(out, "wb", mtime=0) as f:
    f.write(data)
print(f"{len(defs)} definitions, {len(data)} bytes of JSON")
