"""check.py runs onnx's checker (with full shape inference) on an ONNX file
exported by gradlab and prints its opset, IR version, inputs, outputs and
metadata keys as JSON, for package onnx's tests:

    python3 check.py MODEL.onnx
"""
import json
import sys

import onnx

m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
print(json.dumps({
    "onnx": onnx.__version__,
    "ir_version": m.ir_version,
    "opset": [o.version for o in m.opset_import],
    "inputs": [i.name for i in m.graph.input],
    "outputs": [o.name for o in m.graph.output],
    "ops": [n.op_type for n in m.graph.node],
    "metadata": {p.key: p.value for p in m.metadata_props},
}))
