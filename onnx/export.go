package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/checkpoint"
	"github.com/gradlab/gradlab/internal/onnxpb"
	"github.com/gradlab/gradlab/nn"
	"github.com/gradlab/gradlab/ops"
)

// Names of the exported graph's input and outputs: InputName for a model of
// float input, IDsName for a model of token ids (an nn.Embedding first).
const (
	InputName         = "pixels"
	IDsName           = "ids"
	LogitsName        = "logits"
	ProbabilitiesName = "probabilities"
	// ValuesName is the one output of a regressor (a model whose loss is
	// nn.Values): its predictions, in the target's units.
	ValuesName = "values"
)

// Versions of the files Export writes: ONNX IR version 8 (onnx 1.12's) and
// the default-domain opset 13.
const (
	IRVersion = 8
	Opset     = 13
)

// Options configure Export. The zero value exports a model trained on
// pixels in [0, 1] that takes (1, 28, 28) images.
type Options struct {
	// Mean and Std are the model's input scaling, put in the graph as its
	// first nodes: x' = (x − Mean)/Std for pixels x in [0, 1]. Std 0 means 1.
	// MNIST standardization is Mean 0.1307, Std 0.3081; [−1, 1] scaling is
	// Mean 0.5, Std 0.5.
	Mean, Std float64
	// InputName names the exported input; "" means InputName (pixels) for
	// a model of float input, IDsName for one of token ids.
	InputName string
	// Input is the shape of one example of the exported input (without the
	// batch); nil means (1, 28, 28). A model that takes another shape of the
	// same size (an MLP's 784 values) gets a Flatten or Reshape after the
	// scaling.
	Input []int
	// Metadata goes into the model's metadata_props (sorted by key).
	Metadata map[string]string
	// DocString describes the model (ModelProto.doc_string).
	DocString string
}

// Encode returns the ONNX file of m in Eval mode (see the package
// documentation for the graph it builds). m must have compiled a program, so
// its parameters and states exist (a model restored from a checkpoint has).
func Encode(m *nn.Model, opt Options) ([]byte, error) {
	mp, err := build(m, opt)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("%w: marshal: %w", ErrModel, err)
	}
	return b, nil
}

// Write writes the ONNX file of m to w (see Encode).
func Write(w io.Writer, m *nn.Model, opt Options) error {
	b, err := Encode(m, opt)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// WriteFile writes the ONNX file of m to path atomically: the model is
// encoded first, then written to a temporary file beside path that is
// renamed over it, so path is either the whole new file or what it was
// before, never a partial file. Errors wrap ErrWrite (for the file) or the
// error of Encode.
func WriteFile(path string, m *nn.Model, opt Options) error {
	b, err := Encode(m, opt)
	if err != nil {
		return err
	}
	if err := checkpoint.WriteAtomic(path, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrWrite, path, err)
	}
	return nil
}

// exporter accumulates the graph.
type exporter struct {
	m     *nn.Model
	nodes []*onnxpb.NodeProto
	inits []*onnxpb.TensorProto
	names map[string]bool // initializer and value names in use
}

// unique returns name, or name#k if it is taken (two layers Named alike, a
// layer named "scale"), and claims it.
func (e *exporter) unique(name string) string {
	u := name
	for k := 2; e.names[u]; k++ {
		u = fmt.Sprintf("%s#%d", name, k)
	}
	e.names[u] = true
	return u
}

func build(m *nn.Model, opt Options) (*onnxpb.ModelProto, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil model", ErrModel)
	}
	d, err := m.Describe()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if len(m.Params()) == 0 && len(m.States()) == 0 {
		return nil, fmt.Errorf("%w: the model has no parameter values yet (compile a program or restore a checkpoint first)", ErrModel)
	}
	seqModel := isSequenceModel(d)
	input := opt.Input
	if input == nil {
		input = []int{1, 28, 28}
		if seqModel {
			input = d.Input
		}
	}
	if prod(input) != prod(d.Input) || len(input) == 0 {
		return nil, fmt.Errorf("%w: the export's input %v per example has %d values, the model's %v has %d",
			ErrModel, input, prod(input), d.Input, prod(d.Input))
	}
	std := opt.Std
	if std == 0 {
		std = 1
	}
	if math.IsNaN(opt.Mean) || math.IsInf(opt.Mean, 0) || math.IsNaN(std) || math.IsInf(std, 0) {
		return nil, fmt.Errorf("%w: scaling mean %v, std %v, want finite values", ErrModel, opt.Mean, opt.Std)
	}
	ids := d.Dtype == tensor.Int
	inName, inType := InputName, onnxpb.TensorProto_FLOAT
	if ids {
		if opt.Mean != 0 || std != 1 || !slices.Equal(input, d.Input) {
			return nil, fmt.Errorf("%w: a model of token ids takes no input scaling or reshaping (Mean %v, Std %v, Input %v)", ErrModel, opt.Mean, opt.Std, opt.Input)
		}
		inName, inType = IDsName, onnxpb.TensorProto_INT64
	}
	if opt.InputName != "" {
		inName = opt.InputName
	}
	regressor := m.Loss() != nil && m.Loss().Kind() == nn.Values
	e := &exporter{m: m, names: map[string]bool{inName: true}}
	x := inName
	// The scaling the model was trained with, first.
	if opt.Mean != 0 {
		c := e.scalar("scale/mean", float32(opt.Mean))
		x = e.node("Sub", "scale/sub", []string{x, c}, "scale/centred")
	}
	if std != 1 {
		c := e.scalar("scale/std", float32(std))
		x = e.node("Div", "scale/div", []string{x, c}, "scale/out")
	}
	if !slices.Equal(input, d.Input) {
		if len(d.Input) == 1 {
			x = e.node("Flatten", "input/flatten", []string{x}, "input/flat", attrInt("axis", 1))
		} else {
			s := e.int64s("input/shape", append([]int{-1}, d.Input...))
			x = e.node("Reshape", "input/reshape", []string{x, s}, "input/reshaped")
		}
	}
	last := d.Input
	for _, l := range d.Layers {
		if x, err = e.layer(l, x); err != nil {
			return nil, err
		}
		last = l.Out
	}
	if len(last) == 0 && !regressor {
		return nil, fmt.Errorf("%w: the last layer's output per example is %v, want (classes) or (…, classes) logits", ErrModel, last)
	}
	if !seqModel && !regressor && len(last) != 1 {
		return nil, fmt.Errorf("%w: the last layer's output per example is %v, want (classes) logits", ErrModel, last)
	}
	// Name the logits (or a regressor's values): rename the last node's
	// output, or copy the input.
	first := LogitsName
	if regressor {
		first = ValuesName
	}
	if n := len(e.nodes); n > 0 && e.nodes[n-1].Output[0] == x {
		e.nodes[n-1].Output[0] = first
	} else {
		e.node("Identity", first, []string{x}, first)
	}
	switch {
	case regressor:
	case m.Loss() != nil && m.Loss().Kind() == nn.Binary: // independent labels: a sigmoid each
		e.node("Sigmoid", "sigmoid", []string{LogitsName}, ProbabilitiesName)
	default:
		axis := 1
		if len(last) > 1 {
			axis = -1 // per position: the softmax over the classes, the last axis
		}
		e.node("Softmax", "softmax", []string{LogitsName}, ProbabilitiesName, attrInt("axis", axis))
	}
	// A sequence model's dimension 1 is its sequence length T, dynamic in
	// the file as the batch is (an output keeps T where its layers do).
	inDims, outDims := append([]int{-1}, input...), append([]int{-1}, last...)
	if seqModel && len(input) >= 1 {
		inDims[1] = dimT
		if len(last) > 1 && last[0] == d.Input[0] {
			outDims[1] = dimT
		}
	}
	meta := make([]*onnxpb.StringStringEntryProto, 0, len(opt.Metadata))
	for _, k := range slices.Sorted(maps.Keys(opt.Metadata)) {
		meta = append(meta, &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(opt.Metadata[k])})
	}
	g := &onnxpb.GraphProto{
		Name:        proto.String("gradlab"),
		Node:        e.nodes,
		Initializer: e.inits,
		Input:       []*onnxpb.ValueInfoProto{typedValueInfo(inName, inType, inDims)},
		Output: []*onnxpb.ValueInfoProto{
			valueInfo(LogitsName, outDims),
			valueInfo(ProbabilitiesName, outDims),
		},
	}
	if regressor {
		g.Output = []*onnxpb.ValueInfoProto{valueInfo(ValuesName, outDims)}
	}
	mp := &onnxpb.ModelProto{
		IrVersion:     proto.Int64(IRVersion),
		OpsetImport:   []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ProducerName:  proto.String("gradlab"),
		Graph:         g,
		MetadataProps: meta,
	}
	if opt.DocString != "" {
		mp.DocString = proto.String(opt.DocString)
	}
	return mp, nil
}

// layer adds the nodes of one layer on input x and returns its output's name.
func (e *exporter) layer(l nn.LayerDesc, x string) (string, error) {
	unsupported := func(why string) error {
		return fmt.Errorf("%w: layer %s (%s): %s", ErrUnsupported, l.Name, l.Kind, why)
	}
	out := l.Name + "/out"
	switch l.Kind {
	case "dropout", "shift": // the identity in Eval mode
		return x, nil
	case "relu", "tanh", "sigmoid":
		return e.node(map[string]string{"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}[l.Kind], l.Name, []string{x}, out), nil
	case "flatten":
		if len(l.In) == 1 { // already (batch, features): the layer is the identity
			return x, nil
		}
		return e.node("Flatten", l.Name, []string{x}, out, attrInt("axis", 1)), nil
	case "affine": // fixed per-feature scale and shift over the last axis
		a, ok := l.Attrs.(nn.AffineAttrs)
		if !ok {
			return "", unsupported("no scale and shift")
		}
		scale, shift := e.unique(l.Name+"/scale"), e.unique(l.Name+"/shift")
		e.floats(scale, tensor.Shape{len(a.Scale)}, toFloat32(a.Scale))
		e.floats(shift, tensor.Shape{len(a.Shift)}, toFloat32(a.Shift))
		y := e.node("Mul", l.Name+"/mul", []string{x, scale}, l.Name+"/scaled")
		return e.node("Add", l.Name+"/add", []string{y, shift}, out), nil
	case "reshape":
		shape, ok := l.Attrs.([]int)
		if !ok {
			return "", unsupported("no target shape")
		}
		s := e.int64s(l.Name+"/shape", append([]int{-1}, shape...))
		return e.node("Reshape", l.Name, []string{x, s}, out), nil
	case "dense":
		if _, ok := l.Layer.(*nn.DenseLayer); !ok || len(l.In) < 1 {
			return "", unsupported("not an nn.Dense")
		}
		if len(l.In) > 1 { // (N, …, in): MatMul over the last axis, then the bias
			return e.matMulAdd(l.Name, x, l.Params)
		}
		in, err := e.weightAndBias(x, l.Params, unsupported)
		if err != nil {
			return "", err
		}
		return e.node("Gemm", l.Name, in, out), nil // A (N, in) · B (in, out) + C (out)
	case "conv2d":
		c, ok := l.Layer.(*nn.Conv2DLayer)
		o, ok2 := l.Attrs.(ops.ConvOptions)
		if !ok || !ok2 {
			return "", unsupported("not an nn.Conv2D")
		}
		in, err := e.weightAndBias(x, l.Params, unsupported)
		if err != nil {
			return "", err
		}
		return e.node("Conv", l.Name, in, out,
			attrInts("kernel_shape", c.Kernel[0], c.Kernel[1]),
			attrInts("strides", o.Stride[0], o.Stride[1]),
			attrInts("pads", o.Padding[0], o.Padding[1], o.Padding[0], o.Padding[1]),
			attrInts("dilations", o.Dilation[0], o.Dilation[1]),
			attrInt("group", 1)), nil
	case "maxpool2d", "avgpool2d":
		o, ok := l.Attrs.(ops.PoolOptions)
		if !ok {
			return "", unsupported("no pool options")
		}
		attrs := []*onnxpb.AttributeProto{
			attrInts("kernel_shape", o.Kernel[0], o.Kernel[1]),
			attrInts("strides", o.Stride[0], o.Stride[1]),
			attrInts("pads", o.Padding[0], o.Padding[1], o.Padding[0], o.Padding[1]),
		}
		op := "MaxPool"
		if l.Kind == "avgpool2d" {
			op = "AveragePool"
			attrs = append(attrs, attrInt("count_include_pad", 1)) // the layer divides by KH·KW, padding included
		}
		return e.node(op, l.Name, []string{x}, out, attrs...), nil
	case "batchnorm":
		o, ok := l.Attrs.(ops.BatchNormOptions)
		if !ok || len(l.Params) != 2 || len(l.States) != 2 {
			return "", unsupported("not an nn.BatchNorm (γ, β, running mean and variance)")
		}
		in := []string{x}
		for _, p := range []string{l.Params[0], l.Params[1], l.States[0], l.States[1]} { // scale, B, mean, var
			name, err := e.param(p)
			if err != nil {
				return "", err
			}
			in = append(in, name)
		}
		return e.node("BatchNormalization", l.Name, in, out,
			attrFloat("epsilon", float32(o.Eps)),
			attrFloat("momentum", float32(1-o.Momentum))), nil // ONNX's momentum weighs the running value (unused at inference)
	case "func":
		return "", unsupported("a LayerFunc is arbitrary Gorgonia code; export needs the layers of package nn")
	}
	if y, ok, err := e.seqLayer(l, x, unsupported); ok {
		return y, err
	}
	return "", unsupported("unknown layer kind")
}

// node appends a node and returns the name of its output.
func (e *exporter) node(op, name string, in []string, out string, attrs ...*onnxpb.AttributeProto) string {
	out = e.unique(out)
	e.nodes = append(e.nodes, &onnxpb.NodeProto{
		Name: proto.String(name), OpType: proto.String(op), Input: in, Output: []string{out}, Attribute: attrs,
	})
	return out
}

// weightAndBias returns the inputs of a Gemm or Conv node: x, then the
// layer's weight and optional bias added as initializers; any other number
// of parameters is the layer's unsupported error.
func (e *exporter) weightAndBias(x string, params []string, unsupported func(string) error) ([]string, error) {
	if len(params) < 1 || len(params) > 2 {
		return nil, unsupported(fmt.Sprintf("parameters %v, want a weight and an optional bias", params))
	}
	in := []string{x}
	for _, p := range params {
		name, err := e.param(p)
		if err != nil {
			return nil, err
		}
		in = append(in, name)
	}
	return in, nil
}

// param adds the model tensor name as a float32 initializer.
func (e *exporter) param(name string) (string, error) {
	t, ok := e.m.Tensor(name)
	if !ok || t == nil {
		return "", fmt.Errorf("%w: tensor %q has no value (compile a program or restore a checkpoint first)", ErrModel, name)
	}
	var v []float32
	switch d := t.Data().(type) {
	case []float32:
		v = d
	case []float64:
		v = make([]float32, len(d))
		for i, x := range d {
			v[i] = float32(x)
		}
	default:
		return "", fmt.Errorf("%w: tensor %q holds %T, want float32 or float64", ErrModel, name, d)
	}
	if e.names[name] {
		return "", fmt.Errorf("%w: tensor %q is used twice", ErrUnsupported, name)
	}
	e.names[name] = true
	e.floats(name, t.Shape(), v)
	return name, nil
}

func (e *exporter) floats(name string, shape tensor.Shape, v []float32) {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	e.inits = append(e.inits, &onnxpb.TensorProto{
		Name: proto.String(name), Dims: int64s(shape), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), RawData: raw,
	})
}

// toFloat32 converts v.
func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func (e *exporter) scalar(name string, v float32) string {
	name = e.unique(name)
	e.floats(name, nil, []float32{v})
	return name
}

func (e *exporter) int64s(name string, v []int) string {
	name = e.unique(name)
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(int64(x)))
	}
	e.inits = append(e.inits, &onnxpb.TensorProto{
		Name: proto.String(name), Dims: []int64{int64(len(v))}, DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), RawData: raw,
	})
	return name
}

// dimT marks the dynamic sequence length T in a valueInfo shape.
const dimT = -2

// valueInfo is a float32 tensor of shape s; a dimension −1 is the batch N,
// −2 the sequence length T.
func valueInfo(name string, s []int) *onnxpb.ValueInfoProto {
	return typedValueInfo(name, onnxpb.TensorProto_FLOAT, s)
}

// typedValueInfo is valueInfo for a tensor of element type et.
func typedValueInfo(name string, et onnxpb.TensorProto_DataType, s []int) *onnxpb.ValueInfoProto {
	dims := make([]*onnxpb.TensorShapeProto_Dimension, len(s))
	for i, d := range s {
		if d == dimT {
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "T"}}
		} else if d < 0 {
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}
		} else {
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}}
		}
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(et)),
			Shape:    &onnxpb.TensorShapeProto{Dim: dims},
		}}},
	}
}

func attrInt(name string, v int) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(int64(v))}
}

func attrInts(name string, v ...int) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: int64s(v)}
}

func attrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func int64s(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}
