"""Python peers for two Rust benches, on the very same input bytes.

The Rust benches write their inputs when `NHSI_BENCH_DUMP=<dir>` is set:
- `systmone_full_record.xml` (benches/systmone_codec.rs): the 5 MB GetPatientRecord response;
- `send_document.json` (benches/send_document.rs): the Send Document bundle with a 1 MB PDF.

Then: `.venv/bin/python benches/python_peers.py <dir>` prints the median of several runs of
- lxml `etree.fromstring` and the standard library's ElementTree on the SystmOne record (a
  parse into a tree, no typed step: less work than the Rust typed decode);
- fhir.resources (STU3) `Bundle.model_dump_xml()` and `model_dump_json()` of the bundle, read
  once beforehand with `model_validate_json`, and lxml `etree.tostring` of that XML re-parsed
  (lxml writing a tree it already holds: the C writer's floor).
"""

import statistics
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from lxml import etree


def median_ms(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/nhsi-bench")
    record = directory / "systmone_full_record.xml"
    if record.exists():
        data = record.read_bytes()
        print(f"systmone full record: {len(data)} bytes")
        print(f"  lxml etree.fromstring:        {median_ms(lambda: etree.fromstring(data), 10):8.1f} ms")
        print(f"  ElementTree.fromstring:       {median_ms(lambda: ElementTree.fromstring(data), 5):8.1f} ms")
    bundle_json = directory / "send_document.json"
    if bundle_json.exists():
        from fhir.resources.STU3.bundle import Bundle

        text = bundle_json.read_text()
        bundle = Bundle.model_validate_json(text)
        xml_text = bundle.model_dump_xml()
        tree = etree.fromstring(xml_text.encode() if isinstance(xml_text, str) else xml_text)
        print(f"send document bundle: {len(text)} bytes of JSON, {len(xml_text)} of XML")
        print(f"  fhir.resources model_dump_json: {median_ms(lambda: bundle.model_dump_json(), 10):8.1f} ms")
        print(f"  fhir.resources model_dump_xml:  {median_ms(lambda: bundle.model_dump_xml(), 10):8.1f} ms")
        print(f"  lxml etree.tostring (tree held): {median_ms(lambda: etree.tostring(tree), 10):8.1f} ms")


if __name__ == "__main__":
    main()
