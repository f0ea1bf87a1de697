package ops_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gradlab/gradlab/graph"
	"github.com/gradlab/gradlab/ops"
)

// seqGolden is ops/testdata/seq.json, written by gen_seq.py from PyTorch.
type seqGolden struct {
	Torch string `json:"torch"`
	RNN   []struct {
		Name, Kind   string
		N, T, I, H   int
		X, H0, C0    []float64
		WIH          []float64 `json:"w_ih"`
		WHH          []float64 `json:"w_hh"`
		BIH          []float64 `json:"b_ih"`
		BHH          []float64 `json:"b_hh"`
		R, Out       [][]float64
		DX, DH0, DC0 []float64
		DWIH         []float64 `json:"dw_ih"`
		DWHH         []float64 `json:"dw_hh"`
		DBIH         []float64 `json:"db_ih"`
		DBHH         []float64 `json:"db_hh"`
	}
	LayerNorm []struct {
		Name                 string
		Shape                []int
		Eps                  float64
		X, Gamma, Beta, R, Y []float64
		DX, DGamma, DBeta    []float64
	}
	GELU []struct {
		Name        string
		Shape       []int
		X, R, Y, DX []float64
	}
	Embedding []struct {
		Name     string
		IDsShape []int `json:"ids_shape"`
		V, D     int
		IDs      []int
		Table    []float64
		R, Y     []float64
		DTable   []float64
	}
	Attention []struct {
		Name          string
		Shape         []int
		Causal        bool
		Q, K, V, R, Y []float64
		DQ, DK, DV    []float64
	}
}

func loadSeqGolden(t *testing.T) seqGolden {
	t.Helper()
	raw, err := os.ReadFile("testdata/seq.json")
	require.NoError(t, err)
	var g seqGolden
	require.NoError(t, json.Unmarshal(raw, &g))
	require.NotEmpty(t, g.RNN)
	require.NotEmpty(t, g.LayerNorm)
	require.NotEmpty(t, g.GELU)
	require.NotEmpty(t, g.Embedding)
	require.NotEmpty(t, g.Attention)
	return g
}

// runSeqGolden compiles loss = Σ_k sum(out_k ⊙ r_k), runs it once and
// returns the outputs and the gradients of params.
func runSeqGolden(t *testing.T, b *graph.Builder, outs []*gorgonia.Node, r [][]float64, feeds graph.Feeds, params ...*gorgonia.Node) (got [][]float64, grads [][]float64) {
	t.Helper()
	require.Len(t, r, len(outs))
	var loss *gorgonia.Node
	if feeds == nil {
		feeds = graph.Feeds{}
	}
	for k, y := range outs {
		name := fmt.Sprintf("r%d", k)
		in, err := b.Input(name, y.Dtype(), y.Shape()...)
		require.NoError(t, err)
		feeds[name] = dense(y.Dtype(), append([]float64(nil), r[k]...), y.Shape()...)
		p, err := gorgonia.HadamardProd(y, in)
		require.NoError(t, err)
		s, err := gorgonia.Sum(p)
		require.NoError(t, err)
		if loss == nil {
			loss = s
		} else if loss, err = gorgonia.Add(loss, s); err != nil {
			t.Fatal(err)
		}
	}
	p, err := b.Compile(loss, outs...)
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.Run(feeds))
	for k := range outs {
		got = append(got, asF64(p.Output(k).Data()))
	}
	for _, n := range params {
		g, err := n.Grad()
		require.NoError(t, err)
		grads = append(grads, asF64(g.Data()))
	}
	return got, grads
}

// seqTol is the absolute tolerance per dtype (float32 through T steps of a
// recurrence rounds more than one convolution).
var seqTol = map[tensor.Dtype]float64{tensor.Float64: 1e-10, tensor.Float32: 5e-4}

var goldenDtypes = []tensor.Dtype{tensor.Float64, tensor.Float32}

func TestRNNGolden(t *testing.T) {
	gold := loadSeqGolden(t)
	seen := map[string]bool{}
	for _, dt := range goldenDtypes {
		for _, c := range gold.RNN {
			t.Run(dt.String()+"/"+c.Name, func(t *testing.T) {
				seen[c.Kind] = true
				b := graph.NewBuilder(1)
				g := 4
				if c.Kind == "gru" {
					g = 3
				}
				p := func(name string, v []float64, shape ...int) *gorgonia.Node {
					n, err := b.Param(name, dt, fromValues(v), shape...)
					require.NoError(t, err)
					return n
				}
				x, h0 := p("x", c.X, c.N, c.T, c.I), p("h0", c.H0, c.N, c.H)
				wih, whh := p("wih", c.WIH, g*c.H, c.I), p("whh", c.WHH, g*c.H, c.H)
				bih, bhh := p("bih", c.BIH, g*c.H), p("bhh", c.BHH, g*c.H)
				tol := seqTol[dt]
				if c.Kind == "lstm" {
					c0 := p("c0", c.C0, c.N, c.H)
					y, hT, cT, err := ops.LSTM(x, h0, c0, wih, whh, bih, bhh)
					require.NoError(t, err)
					out, gr := runSeqGolden(t, b, []*gorgonia.Node{y, hT, cT}, c.R, nil, x, h0, c0, wih, whh, bih, bhh)
					for k, name := range []string{"y", "hT", "cT"} {
						assert.InDeltaSlice(t, c.Out[k], out[k], tol, name)
					}
					for k, want := range [][]float64{c.DX, c.DH0, c.DC0, c.DWIH, c.DWHH, c.DBIH, c.DBHH} {
						assert.InDeltaSlice(t, want, gr[k], tol, "gradient %d", k)
					}
					return
				}
				y, hT, err := ops.GRU(x, h0, wih, whh, bih, bhh)
				require.NoError(t, err)
				out, gr := runSeqGolden(t, b, []*gorgonia.Node{y, hT}, c.R, nil, x, h0, wih, whh, bih, bhh)
				assert.InDeltaSlice(t, c.Out[0], out[0], tol, "y")
				assert.InDeltaSlice(t, c.Out[1], out[1], tol, "hT")
				for k, want := range [][]float64{c.DX, c.DH0, c.DWIH, c.DWHH, c.DBIH, c.DBHH} {
					assert.InDeltaSlice(t, want, gr[k], tol, "gradient %d", k)
				}
			})
		}
	}
	for _, k := range []string{"lstm", "gru"} {
		assert.True(t, seen[k], "no PyTorch golden case for %s", k)
	}
}

func TestLayerNormGELUEmbeddingGolden(t *testing.T) {
	gold := loadSeqGolden(t)
	for _, dt := range goldenDtypes {
		tol := seqTol[dt]
		for _, c := range gold.LayerNorm {
			t.Run(dt.String()+"/layernorm/"+c.Name, func(t *testing.T) {
				b := graph.NewBuilder(1)
				d := c.Shape[len(c.Shape)-1]
				x, _ := b.Param("x", dt, fromValues(c.X), c.Shape...)
				gm, _ := b.Param("gamma", dt, fromValues(c.Gamma), d)
				bt, _ := b.Param("beta", dt, fromValues(c.Beta), d)
				y, err := ops.LayerNorm(x, gm, bt, ops.LayerNormOptions{Eps: c.Eps})
				require.NoError(t, err)
				out, g := runSeqGolden(t, b, []*gorgonia.Node{y}, [][]float64{c.R}, nil, x, gm, bt)
				assert.InDeltaSlice(t, c.Y, out[0], tol, "y")
				assert.InDeltaSlice(t, c.DX, g[0], tol, "dx")
				assert.InDeltaSlice(t, c.DGamma, g[1], tol, "dgamma")
				assert.InDeltaSlice(t, c.DBeta, g[2], tol, "dbeta")
			})
		}
		for _, c := range gold.GELU {
			t.Run(dt.String()+"/gelu/"+c.Name, func(t *testing.T) {
				b := graph.NewBuilder(1)
				x, _ := b.Param("x", dt, fromValues(c.X), c.Shape...)
				y, err := ops.GELU(x)
				require.NoError(t, err)
				out, g := runSeqGolden(t, b, []*gorgonia.Node{y}, [][]float64{c.R}, nil, x)
				assert.InDeltaSlice(t, c.Y, out[0], tol, "y")
				assert.InDeltaSlice(t, c.DX, g[0], tol, "dx")
			})
		}
		for _, c := range gold.Embedding {
			t.Run(dt.String()+"/embedding/"+c.Name, func(t *testing.T) {
				b := graph.NewBuilder(1)
				ids, err := b.Input("ids", tensor.Int, c.IDsShape...)
				require.NoError(t, err)
				table, _ := b.Param("table", dt, fromValues(c.Table), c.V, c.D)
				y, err := ops.Embedding(ids, table)
				require.NoError(t, err)
				feeds := graph.Feeds{"ids": tensor.New(tensor.WithShape(c.IDsShape...), tensor.WithBacking(append([]int(nil), c.IDs...)))}
				out, g := runSeqGolden(t, b, []*gorgonia.Node{y}, [][]float64{c.R}, feeds, table)
				assert.InDeltaSlice(t, c.Y, out[0], tol, "y")
				assert.InDeltaSlice(t, c.DTable, g[0], tol, "dtable")
			})
		}
	}
}

func TestAttentionGolden(t *testing.T) {
	gold := loadSeqGolden(t)
	for _, dt := range goldenDtypes {
		for _, c := range gold.Attention {
			t.Run(dt.String()+"/"+c.Name, func(t *testing.T) {
				b := graph.NewBuilder(1)
				q, _ := b.Param("q", dt, fromValues(c.Q), c.Shape...)
				k, _ := b.Param("k", dt, fromValues(c.K), c.Shape...)
				v, _ := b.Param("v", dt, fromValues(c.V), c.Shape...)
				y, err := ops.Attention(q, k, v, ops.AttentionOptions{Causal: c.Causal})
				require.NoError(t, err)
				out, g := runSeqGolden(t, b, []*gorgonia.Node{y}, [][]float64{c.R}, nil, q, k, v)
				tol := seqTol[dt]
				assert.InDeltaSlice(t, c.Y, out[0], tol, "y")
				assert.InDeltaSlice(t, c.DQ, g[0], tol, "dq")
				assert.InDeltaSlice(t, c.DK, g[1], tol, "dk")
				assert.InDeltaSlice(t, c.DV, g[2], tol, "dv")
			})
		}
	}
}
