// ort_seq.js runs an ONNX model exported by gradlab in ONNX Runtime
// (npm's onnxruntime-node) on one input of any shape, for package onnx's
// tests of sequence models:
//
//	node ort_seq.js MODEL.onnx INPUT.bin DTYPE DIMS OUTPUT.f32
//
// INPUT.bin holds the input, little-endian, of DTYPE float32 or int64 and
// shape DIMS (JSON, e.g. [4,6]). OUTPUT.f32 receives every output in order,
// little-endian float32. Standard output gets one JSON line: input and
// output names and the outputs' shapes.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
	const [model, input, dtype, dims, output] = process.argv.slice(2);
	if (!output) throw new Error('usage: node ort_seq.js MODEL.onnx INPUT.bin DTYPE DIMS OUTPUT.f32');
	const shape = JSON.parse(dims);
	const session = await ort.InferenceSession.create(model);
	const buf = fs.readFileSync(input);
	const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
	const data = dtype === 'int64' ? new BigInt64Array(ab) : new Float32Array(ab);
	const feeds = { [session.inputNames[0]]: new ort.Tensor(dtype, data, shape) };
	const res = await session.run(feeds);
	const outs = session.outputNames.map((name) => res[name]);
	fs.writeFileSync(output, Buffer.concat(outs.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))));
	console.log(JSON.stringify({
		inputs: session.inputNames,
		outputs: session.outputNames,
		dims: outs.map((t) => t.dims),
	}));
}

main().catch((e) => {
	console.error(e && e.message ? e.message : e);
	process.exit(1);
});
