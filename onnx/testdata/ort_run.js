// ort_run.js runs an ONNX model exported by gradlab in ONNX Runtime
// (npm's onnxruntime-node), for package onnx's tests:
//
//	node ort_run.js MODEL.onnx INPUT.f32 N OUTPUT.f32
//
// INPUT.f32 holds N·(per-example size) little-endian float32 pixels in
// [0, 1], the model's input shape is read from the model itself (its first
// input, batch dimension N). OUTPUT.f32 receives the first output (logits)
// followed by the second (probabilities), little-endian float32. Standard
// output gets one JSON line: input and output names and shapes.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
	const [model, input, n, output] = process.argv.slice(2);
	if (!output) throw new Error('usage: node ort_run.js MODEL.onnx INPUT.f32 N OUTPUT.f32');
	const N = parseInt(n, 10);
	const session = await ort.InferenceSession.create(model);
	const buf = fs.readFileSync(input);
	const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
	const per = data.length / N;
	const shape = per === 784 ? [N, 1, 28, 28] : [N, per];
	const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
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
