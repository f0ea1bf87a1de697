package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/internal/onnxpb"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/ops"
)

// The sequence layers in ONNX (opset 13), all with a dynamic batch N and
// sequence length T:
//
//   - Embedding: Gather(weight, ids) (ids int64);
//   - PositionalEmbedding: Gather(weight, Range(0, T)) added to x;
//   - Dense on (N, T, D): MatMul and Add;
//   - LayerNorm: its decomposition (ReduceMean, Sub, Mul, ReduceMean, Add ε,
//     Sqrt, Div, Mul γ, Add β; LayerNormalization needs opset 17);
//   - GELU: 0.5·x·(1 + Erf(x/√2)); Softmax: Softmax(axis −1);
//   - LSTM and GRU: ONNX's LSTM and GRU on x transposed to (T, N, I), the
//     gates reordered from PyTorch's i, f, g, o to ONNX's i, o, f, c and
//     from r, z, n to z, r, h, with linear_before_reset = 1 (PyTorch's
//     r ⊙ (W_hn·h + b_hn)); Y back to (N, T, H), or Y_h for LastStep;
//   - MultiHeadAttention: MatMul/Add projections, Reshape to heads and
//     Transpose, MatMul, Mul by 1/√Dh, for a causal layer Where(j > i, −inf,
//     S) with the mask built from Range(0, T), Softmax, MatMul, back;
//   - Residual: its body and Add; TransformerBlock: its parts as above.

// seqKinds are the layer kinds whose models get a dynamic sequence length.
var seqKinds = map[string]bool{"embedding": true, "posembed": true, "lstm": true, "gru": true, "attention": true, "transformer": true}

// isSequenceModel reports whether d's input is a sequence: token ids, or a
// first layer (or any layer) of a sequence kind.
func isSequenceModel(d *nn.Description) bool {
	if d.Dtype == tensor.Int {
		return true
	}
	var walk func([]nn.LayerDesc) bool
	walk = func(ls []nn.LayerDesc) bool {
		for _, l := range ls {
			if seqKinds[l.Kind] || walk(l.Sub) {
				return true
			}
		}
		return false
	}
	return walk(d.Layers)
}

// seqLayer adds the nodes of a sequence layer; ok is false for a kind it
// does not know.
func (e *exporter) seqLayer(l nn.LayerDesc, x string, unsupported func(string) error) (y string, ok bool, err error) {
	out := l.Name + "/out"
	switch l.Kind {
	case "embedding":
		if len(l.Params) != 1 {
			return "", true, unsupported("want one table")
		}
		w, err := e.param(l.Params[0])
		if err != nil {
			return "", true, err
		}
		return e.node("Gather", l.Name, []string{w, x}, out, attrInt("axis", 0)), true, nil
	case "posembed":
		if len(l.Params) != 1 {
			return "", true, unsupported("want one table")
		}
		w, err := e.param(l.Params[0])
		if err != nil {
			return "", true, err
		}
		pos := e.node("Gather", l.Name+"/rows", []string{w, e.positions(l.Name, x)}, l.Name+"/table")
		return e.node("Add", l.Name, []string{x, pos}, out), true, nil
	case "layernorm":
		ln, ok := l.Layer.(*nn.LayerNormLayer)
		if !ok || len(l.Params) != 2 {
			return "", true, unsupported("not an nn.LayerNorm")
		}
		y, err := e.layerNorm(l.Name, x, l.Params[0], l.Params[1], ln.Opt.Eps)
		return y, true, err
	case "gelu":
		return e.gelu(l.Name, x), true, nil
	case "softmax":
		return e.node("Softmax", l.Name, []string{x}, out, attrInt("axis", -1)), true, nil
	case "lstm", "gru":
		r, ok := l.Layer.(*nn.RNNLayer)
		if !ok || len(l.Params) != 4 {
			return "", true, unsupported("not an nn.LSTM or nn.GRU")
		}
		y, err := e.rnn(l, r, x)
		return y, true, err
	case "attention":
		a, ok := l.Layer.(*nn.MultiHeadAttentionLayer)
		if !ok || len(l.In) != 2 {
			return "", true, unsupported("not an nn.MultiHeadAttention on (batch, T, E)")
		}
		y, err := e.attention(l.Name, x, a.Heads, l.In[1], a.IsCausal())
		return y, true, err
	case "residual":
		y := x
		for _, s := range l.Sub {
			if y, err = e.layer(s, y); err != nil {
				return "", true, err
			}
		}
		return e.node("Add", l.Name, []string{x, y}, out), true, nil
	case "transformer":
		b, ok := l.Layer.(*nn.TransformerBlockLayer)
		if !ok || len(l.In) != 2 {
			return "", true, unsupported("not an nn.TransformerBlock on (batch, T, E)")
		}
		y, err := e.transformer(l.Name, x, b, l.In[1])
		return y, true, err
	}
	return "", false, nil
}

// positions returns Range(0, T) for T the length of axis 1 of x.
func (e *exporter) positions(name, x string) string {
	shape := e.node("Shape", name+"/shape", []string{x}, name+"/x_shape")
	t := e.node("Gather", name+"/t", []string{shape, e.int64Scalar(name+"/axis1", 1)}, name+"/T")
	return e.node("Range", name+"/range", []string{e.int64Scalar(name+"/zero", 0), t, e.int64Scalar(name+"/one", 1)}, name+"/positions")
}

// matMulAdd is a Dense on (N, …, in): MatMul by w, then Add b if present.
func (e *exporter) matMulAdd(name, x string, params []string) (string, error) {
	if len(params) < 1 || len(params) > 2 {
		return "", fmt.Errorf("%w: layer %s (dense): parameters %v, want a weight and an optional bias", ErrUnsupported, name, params)
	}
	w, err := e.param(params[0])
	if err != nil {
		return "", err
	}
	y := e.node("MatMul", name+"/matmul", []string{x, w}, name+"/xw")
	if len(params) == 1 {
		return y, nil
	}
	b, err := e.param(params[1])
	if err != nil {
		return "", err
	}
	return e.node("Add", name+"/bias", []string{y, b}, name+"/out"), nil
}

// layerNorm is (x − μ)/√(σ² + ε)·γ + β over the last axis.
func (e *exporter) layerNorm(name, x, gamma, beta string, eps float64) (string, error) {
	if eps == 0 {
		eps = ops.DefaultLayerNormEps
	}
	g, err := e.param(gamma)
	if err != nil {
		return "", err
	}
	b, err := e.param(beta)
	if err != nil {
		return "", err
	}
	axes := attrInts("axes", -1)
	mean := e.node("ReduceMean", name+"/mean", []string{x}, name+"/mu", axes, attrInt("keepdims", 1))
	c := e.node("Sub", name+"/centre", []string{x, mean}, name+"/centred")
	sq := e.node("Mul", name+"/square", []string{c, c}, name+"/squared")
	v := e.node("ReduceMean", name+"/var", []string{sq}, name+"/variance", axes, attrInt("keepdims", 1))
	v = e.node("Add", name+"/eps", []string{v, e.scalar(name+"/epsilon", float32(eps))}, name+"/var_eps")
	sd := e.node("Sqrt", name+"/sqrt", []string{v}, name+"/std")
	n := e.node("Div", name+"/norm", []string{c, sd}, name+"/normalized")
	n = e.node("Mul", name+"/gamma", []string{n, g}, name+"/scaled")
	return e.node("Add", name+"/beta", []string{n, b}, name+"/out"), nil
}

// gelu is 0.5·x·(1 + Erf(x/√2)).
func (e *exporter) gelu(name, x string) string {
	d := e.node("Div", name+"/div", []string{x, e.scalar(name+"/sqrt2", float32(math.Sqrt2))}, name+"/x_sqrt2")
	r := e.node("Erf", name+"/erf", []string{d}, name+"/erf_out")
	r = e.node("Add", name+"/add1", []string{r, e.scalar(name+"/one", 1)}, name+"/one_plus")
	r = e.node("Mul", name+"/mulx", []string{x, r}, name+"/x_times")
	return e.node("Mul", name+"/half", []string{r, e.scalar(name+"/half_c", 0.5)}, name+"/out")
}

// rnn exports an LSTM or GRU layer.
func (e *exporter) rnn(l nn.LayerDesc, r *nn.RNNLayer, x string) (string, error) {
	h := r.Hidden
	// PyTorch's gate blocks, in ONNX's order: LSTM i, f, g, o → i, o, f, c;
	// GRU r, z, n → z, r, h.
	order := []int{0, 3, 1, 2}
	if r.Cell == "gru" {
		order = []int{1, 0, 2}
	}
	vals := make([][]float32, 4)
	for i, p := range l.Params {
		t, ok := e.m.Tensor(p)
		if !ok {
			return "", fmt.Errorf("%w: tensor %q has no value", ErrModel, p)
		}
		v, err := float32s(p, t)
		if err != nil {
			return "", err
		}
		if e.names[p] {
			return "", fmt.Errorf("%w: tensor %q is used twice", ErrUnsupported, p)
		}
		e.names[p] = true
		vals[i] = reorderGates(v, order, len(v)/len(order))
	}
	in := len(vals[0]) / (len(order) * h)
	w := e.unique(l.Name + "/W")
	e.floats(w, tensor.Shape{1, len(order) * h, in}, vals[0])
	rr := e.unique(l.Name + "/R")
	e.floats(rr, tensor.Shape{1, len(order) * h, h}, vals[1])
	b := e.unique(l.Name + "/B")
	e.floats(b, tensor.Shape{1, 2 * len(order) * h}, append(append([]float32(nil), vals[2]...), vals[3]...))
	xt := e.node("Transpose", l.Name+"/time_major", []string{x}, l.Name+"/x_tni", attrInts("perm", 1, 0, 2))
	op := "LSTM"
	attrs := []*onnxpb.AttributeProto{attrInt("hidden_size", h)}
	if r.Cell == "gru" {
		op = "GRU"
		attrs = append(attrs, attrInt("linear_before_reset", 1))
	}
	y, yh := e.unique(l.Name+"/Y"), e.unique(l.Name+"/Y_h")
	e.nodes = append(e.nodes, &onnxpb.NodeProto{
		Name: proto.String(l.Name), OpType: proto.String(op), Input: []string{xt, w, rr, b}, Output: []string{y, yh}, Attribute: attrs,
	})
	axes0 := e.int64s(l.Name+"/axis0", []int{0})
	if r.Last() {
		return e.node("Squeeze", l.Name+"/last", []string{yh, axes0}, l.Name+"/out"), nil
	}
	axes1 := e.int64s(l.Name+"/axis1", []int{1})
	s := e.node("Squeeze", l.Name+"/squeeze", []string{y, axes1}, l.Name+"/y_tnh")
	return e.node("Transpose", l.Name+"/batch_major", []string{s}, l.Name+"/out", attrInts("perm", 1, 0, 2)), nil
}

// reorderGates permutes the gate blocks of v (each of size block·cols laid
// out row-major): block k of the result is block order[k] of v.
func reorderGates(v []float32, order []int, block int) []float32 {
	out := make([]float32, 0, len(v))
	for _, k := range order {
		out = append(out, v[k*block:(k+1)*block]...)
	}
	return out
}

func float32s(name string, t *tensor.Dense) ([]float32, error) {
	switch d := t.Data().(type) {
	case []float32:
		return d, nil
	case []float64:
		v := make([]float32, len(d))
		for i, x := range d {
			v[i] = float32(x)
		}
		return v, nil
	}
	return nil, fmt.Errorf("%w: tensor %q holds %v, want float32 or float64", ErrModel, name, t.Dtype())
}

// attention exports multi-head self-attention on x (N, T, E) with the
// projections name/q, name/k, name/v and name/out.
func (e *exporter) attention(name, x string, heads, emb int, causal bool) (string, error) {
	if heads <= 0 || emb%heads != 0 {
		return "", fmt.Errorf("%w: layer %s (attention): %d heads for E = %d", ErrUnsupported, name, heads, emb)
	}
	dh := emb / heads
	split := e.int64s(name+"/heads_shape", []int{0, 0, heads, dh})
	var qkv [3]string
	for i, p := range []string{"q", "k", "v"} {
		proj, err := e.matMulAdd(name+"/"+p, x, []string{name + "/" + p + "/w", name + "/" + p + "/b"})
		if err != nil {
			return "", err
		}
		r := e.node("Reshape", name+"/"+p+"/split", []string{proj, split}, name+"/"+p+"/nthd")
		perm := attrInts("perm", 0, 2, 1, 3) // (N, heads, T, Dh)
		if p == "k" {
			perm = attrInts("perm", 0, 2, 3, 1) // kᵀ: (N, heads, Dh, T)
		}
		qkv[i] = e.node("Transpose", name+"/"+p+"/heads", []string{r}, name+"/"+p+"/nhtd", perm)
	}
	s := e.node("MatMul", name+"/scores", []string{qkv[0], qkv[1]}, name+"/qk")
	s = e.node("Mul", name+"/scale", []string{s, e.scalar(name+"/inv_sqrt_dh", float32(1/math.Sqrt(float64(dh))))}, name+"/s")
	if causal {
		pos := e.positions(name, x)
		rows := e.node("Unsqueeze", name+"/rows", []string{pos, e.int64s(name+"/axis_1", []int{1})}, name+"/i")
		cols := e.node("Unsqueeze", name+"/cols", []string{pos, e.int64s(name+"/axis_0", []int{0})}, name+"/j")
		mask := e.node("Greater", name+"/later", []string{cols, rows}, name+"/j_gt_i")
		s = e.node("Where", name+"/mask", []string{mask, e.scalar(name+"/minus_inf", float32(math.Inf(-1))), s}, name+"/masked")
	}
	p := e.node("Softmax", name+"/softmax", []string{s}, name+"/p", attrInt("axis", -1))
	o := e.node("MatMul", name+"/pv", []string{p, qkv[2]}, name+"/o_nhtd")
	o = e.node("Transpose", name+"/merge", []string{o}, name+"/o_nthd", attrInts("perm", 0, 2, 1, 3))
	o = e.node("Reshape", name+"/merged", []string{o, e.int64s(name+"/model_shape", []int{0, 0, emb})}, name+"/o")
	return e.matMulAdd(name+"/out", o, []string{name + "/out/w", name + "/out/b"})
}

// transformer exports a pre-norm block.
func (e *exporter) transformer(name, x string, b *nn.TransformerBlockLayer, emb int) (string, error) {
	h, err := e.layerNorm(name+"/ln1", x, name+"/ln1/weight", name+"/ln1/bias", 0)
	if err != nil {
		return "", err
	}
	if h, err = e.attention(name+"/attn", h, b.Heads, emb, b.IsCausal()); err != nil {
		return "", err
	}
	x = e.node("Add", name+"/res1", []string{x, h}, name+"/x1")
	if h, err = e.layerNorm(name+"/ln2", x, name+"/ln2/weight", name+"/ln2/bias", 0); err != nil {
		return "", err
	}
	if h, err = e.matMulAdd(name+"/fc1", h, []string{name + "/fc1/w", name + "/fc1/b"}); err != nil {
		return "", err
	}
	h = e.gelu(name+"/gelu", h)
	if h, err = e.matMulAdd(name+"/fc2", h, []string{name + "/fc2/w", name + "/fc2/b"}); err != nil {
		return "", err
	}
	return e.node("Add", name+"/res2", []string{x, h}, name+"/out"), nil
}

// int64Scalar adds a rank-0 int64 initializer.
func (e *exporter) int64Scalar(name string, v int) string {
	name = e.unique(name)
	raw := make([]byte, 8)
	binary.LittleEndian.PutUint64(raw, uint64(int64(v)))
	e.inits = append(e.inits, &onnxpb.TensorProto{
		Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), RawData: raw,
	})
	return name
}
