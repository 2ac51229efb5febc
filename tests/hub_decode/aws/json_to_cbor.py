"""Writes the CBOR form of AWS Device Defender report fixtures, with cbor2 (an encoder
independent of the hub's): json_to_cbor.py OUT_DIR IN.json... writes OUT_DIR/<name>.cbor.
Run by the build with Debian's /usr/bin/python3, which has python3-cbor2."""
import json
import os
import sys

import cbor2


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as source:
            report = json.load(source)
        name = os.path.splitext(os.path.basename(path))[0] + ".cbor"
        with open(os.path.join(out_dir, name), "wb") as target:
            target.write(cbor2.dumps(report))


if __name__ == "__main__":
    main()
