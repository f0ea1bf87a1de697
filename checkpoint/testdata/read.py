#!/usr/bin/python3
"""Reads a gradlab checkpoint following the safetensors specification
(https://github.com/huggingface/safetensors#format) with numpy only, as an
independent check of the format (the safetensors package itself was not
installable where gradlab is developed). Prints each tensor's dtype, shape
and first values, and the metadata keys.

    /usr/bin/python3 checkpoint/testdata/read.py runs/mnist/checkpoint.safetensors
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}

with open(sys.argv[1], "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n])
data = blob[8 + n:]
meta = header.pop("__metadata__", {})
for name in sorted(header):
    e = header[name]
    b, end = e["data_offsets"]
    a = np.frombuffer(data[b:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    print(f"{name}: {a.dtype} {a.shape} {a.ravel()[:3]}")
print("metadata:", sorted(meta))
