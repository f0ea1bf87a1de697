//go:build mpi

package mpi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func init() {
	roles["collectives"] = childCollectives
	roles["single"] = childSingle
	roles["kill"] = childKill
	roles["abort"] = childAbort
}

// mpirun returns the path of mpirun, or skips the test (fails it when
// GRADLAB_REQUIRE_MPI=1, as in CI).
func mpirun(t *testing.T) string {
	t.Helper()
	if Launched() {
		t.Skip("running under mpirun: only the benchmarks run here")
	}
	path, err := exec.LookPath("mpirun")
	if err != nil {
		if os.Getenv("GRADLAB_REQUIRE_MPI") == "1" {
			t.Fatalf("GRADLAB_REQUIRE_MPI=1 but mpirun not found: %v (apt-get install openmpi-bin)", err)
		}
		t.Skipf("mpirun not found (apt-get install openmpi-bin): %v", err)
	}
	return path
}

// mpirunArgs are the arguments before the program: --oversubscribe (more
// ranks than cores), --allow-run-as-root when root (mpirun refuses root
// otherwise), then GRADLAB_MPIRUN_ARGS split on spaces.
func mpirunArgs(np int) []string {
	args := []string{"--oversubscribe", "-np", strconv.Itoa(np)}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-run-as-root")
	}
	return append(args, strings.Fields(os.Getenv("GRADLAB_MPIRUN_ARGS"))...)
}

type run struct {
	out     string // stdout and stderr, interleaved
	code    int    // exit status; -1 if killed by a signal
	elapsed time.Duration
	end     time.Time
}

// launch runs this test binary in role, under mpirun with np ranks (np > 0)
// or alone (np = 0), and waits at most limit. At the limit it sends SIGTERM
// (mpirun passes it to the ranks), then SIGKILL 10 s later, and fails t.
func launch(t *testing.T, np int, role string, limit time.Duration, env ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var cmd *exec.Cmd
	if np > 0 {
		cmd = exec.CommandContext(ctx, mpirun(t), append(mpirunArgs(np), os.Args[0])...)
	} else {
		cmd = exec.CommandContext(ctx, os.Args[0])
	}
	cmd.Env = append(append(withoutLauncher(os.Environ()), childEnv+"="+role, "GRADLAB_MPI_NP="+strconv.Itoa(np)), env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := run{out: out.String(), elapsed: time.Since(start), end: time.Now()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%s: %v\n%s", cmd, err, r.out)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s did not end within %v (status %d):\n%s", role, limit, r.code, r.out)
	}
	return r
}

// Every rank of 2 and 3 checks the collectives; 3 ranks (oversubscribed on
// this 2-core machine) for sums over a number of ranks that is not a power
// of two.
func TestCollectives(t *testing.T) {
	for _, np := range []int{2, 3} {
		t.Run(fmt.Sprint("np=", np), func(t *testing.T) {
			r := launch(t, np, "collectives", 60*time.Second)
			t.Logf("mpirun -np %d: %v, status %d\n%s", np, r.elapsed.Round(time.Millisecond), r.code, r.out)
			if r.code != 0 {
				t.Fatalf("status %d", r.code)
			}
			for rank := range np {
				if !strings.Contains(r.out, fmt.Sprintf("ok collectives rank %d/%d\n", rank, np)) {
					t.Errorf("rank %d did not report ok", rank)
				}
			}
		})
	}
}

func childCollectives() int {
	np, _ := strconv.Atoi(os.Getenv("GRADLAB_MPI_NP"))
	w, err := Init()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Init:", err)
		return 1
	}
	rank, size := w.Rank(), w.Size()
	c := &checker{who: fmt.Sprintf("collectives rank %d/%d", rank, size)}
	if !Launched() {
		c.errorf("Launched() false under mpirun")
	}
	if size != np || rank < 0 || rank >= size {
		c.errorf("rank %d size %d, want size %d", rank, size, np)
	}

	// Distinct ranks: each sets its own slot.
	seen := make([]float64, size)
	seen[rank] = 1
	if err := w.AllReduceSum64(seen); err != nil {
		c.errorf("AllReduceSum64: %v", err)
	}
	for r, v := range seen {
		if v != 1 {
			c.errorf("rank %d counted %v times", r, v)
		}
	}

	// Exact sums: rank r contributes i%1000 + r/2 (float32) and i + r/4
	// (float64), sums exact in both; the MLP's gradient length and odd ones.
	sumR := float64(size*(size-1)) / 2
	for _, n := range []int{1, 3, 1000, 536586} {
		f32 := make([]float32, n)
		f64 := make([]float64, n)
		for i := range n {
			f32[i] = float32(i%1000) + float32(rank)/2
			f64[i] = float64(i) + float64(rank)/4
		}
		if err := w.AllReduceSum32(f32); err != nil {
			c.errorf("AllReduceSum32(%d): %v", n, err)
		}
		if err := w.AllReduceSum64(f64); err != nil {
			c.errorf("AllReduceSum64(%d): %v", n, err)
		}
		for i := range n {
			if want := float32(size*(i%1000)) + float32(sumR/2); f32[i] != want {
				c.errorf("AllReduceSum32(%d)[%d] = %v, want %v", n, i, f32[i], want)
				break
			}
		}
		for i := range n {
			if want := float64(size*i) + sumR/4; f64[i] != want {
				c.errorf("AllReduceSum64(%d)[%d] = %v, want %v", n, i, f64[i], want)
				break
			}
		}
	}

	// The generic form, and zero lengths (return at once on every rank).
	g := []float32{float32(rank), 1}
	if err := AllReduceSum(w, g); err != nil || g[0] != float32(sumR) || g[1] != float32(size) {
		c.errorf("AllReduceSum[float32]: %v, %v", g, err)
	}
	g64 := []float64{float64(rank), 1}
	if err := AllReduceSum(w, g64); err != nil || g64[0] != sumR || g64[1] != float64(size) {
		c.errorf("AllReduceSum[float64]: %v, %v", g64, err)
	}
	if err := w.AllReduceSum32(nil); err != nil {
		c.errorf("AllReduceSum32(nil): %v", err)
	}
	if err := w.AllReduceSum64([]float64{}); err != nil {
		c.errorf("AllReduceSum64(empty): %v", err)
	}
	if err := w.Broadcast(nil, 0); err != nil {
		c.errorf("Broadcast(nil): %v", err)
	}

	// Sums of arbitrary values (rounded) are bit-identical on every rank:
	// rank 0's result, broadcast, equals every rank's own.
	rng := rand.New(rand.NewPCG(uint64(rank), 7))
	x := make([]float32, 215418)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	if err := w.AllReduceSum32(x); err != nil {
		c.errorf("AllReduceSum32(random): %v", err)
	}
	bits := make([]byte, 4*len(x))
	for i, v := range x {
		u := math.Float32bits(v)
		bits[4*i], bits[4*i+1], bits[4*i+2], bits[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	mine := bytes.Clone(bits)
	if err := w.Broadcast(bits, 0); err != nil {
		c.errorf("Broadcast(%d): %v", len(bits), err)
	}
	if !bytes.Equal(bits, mine) {
		c.errorf("all-reduced random float32s differ from rank 0's")
	}

	// Split into several MPI calls (maxCount elements each).
	maxCount = 7
	s := make([]float64, 100)
	for i := range s {
		s[i] = float64(i * (rank + 1))
	}
	if err := w.AllReduceSum64(s); err != nil {
		c.errorf("split AllReduceSum64: %v", err)
	}
	for i := range s {
		if want := float64(i) * float64(size*(size+1)/2); s[i] != want {
			c.errorf("split AllReduceSum64[%d] = %v, want %v", i, s[i], want)
			break
		}
	}
	sb := make([]byte, 50)
	if rank == size-1 {
		for i := range sb {
			sb[i] = byte(i + 1)
		}
	}
	if err := w.Broadcast(sb, size-1); err != nil {
		c.errorf("split Broadcast: %v", err)
	}
	for i := range sb {
		if sb[i] != byte(i+1) {
			c.errorf("split Broadcast[%d] = %d, want %d", i, sb[i], i+1)
			break
		}
	}
	maxCount = math.MaxInt32

	// Broadcast from rank 0 and from the last rank.
	for _, root := range []int{0, size - 1} {
		b := make([]byte, 1000)
		if rank == root {
			for i := range b {
				b[i] = byte(i*7 + root)
			}
		}
		if err := w.Broadcast(b, root); err != nil {
			c.errorf("Broadcast root %d: %v", root, err)
		}
		for i := range b {
			if b[i] != byte(i*7+root) {
				c.errorf("Broadcast root %d: byte %d = %d, want %d", root, i, b[i], byte(i*7+root))
				break
			}
		}
	}
	// BroadcastVar: each rank's own data differs in length; all get rank 0's.
	cfg := []byte(strings.Repeat(fmt.Sprint("rank", rank), rank+1))
	got, err := w.BroadcastVar(cfg, 0)
	if err != nil || string(got) != "rank0" {
		c.errorf("BroadcastVar: %q, %v; want \"rank0\"", got, err)
	}
	// Differing: all ranks alike, then the last rank with other data.
	if d, err := w.Differing([]byte("-batch 64")); err != nil || d != 0 {
		c.errorf("Differing, same data: %d, %v; want 0", d, err)
	}
	mycfg := []byte("-batch 64")
	if rank == size-1 {
		mycfg = []byte("-batch 32")
	}
	if d, err := w.Differing(mycfg); err != nil || d != 1 {
		c.errorf("Differing, last rank's data differs: %d, %v; want 1", d, err)
	}
	// Roots out of range: ErrRoot on every rank, nobody waits.
	for _, root := range []int{-1, size} {
		if err := w.Broadcast(make([]byte, 4), root); !errors.Is(err, ErrRoot) {
			c.errorf("Broadcast root %d: %v, want ErrRoot", root, err)
		}
	}

	// MPI's own errors come back (MPI_ERRORS_RETURN): an invalid root
	// passed to MPI_Bcast past the Go check (MPI checks it locally).
	err = w.b.broadcast(nil, 1, size)
	var me *Error
	if !errors.As(err, &me) || !errors.Is(err, ErrMPI) || me.Call != "MPI_Bcast" || !strings.Contains(me.Msg, "MPI_ERR_ROOT") {
		c.errorf("MPI_Bcast with root %d: %v, want an *Error for MPI_Bcast with MPI_ERR_ROOT", size, err)
	} else if rank == 0 {
		fmt.Printf("MPI's error, returned: %v\n", err)
	}

	// Barrier: the last rank arrives 300 ms late; the others wait for it.
	if rank == size-1 {
		time.Sleep(300 * time.Millisecond)
	}
	t0 := time.Now()
	if err := w.Barrier(); err != nil {
		c.errorf("Barrier: %v", err)
	}
	if waited := time.Since(t0); rank != size-1 && waited < 200*time.Millisecond {
		c.errorf("Barrier returned after %v, before the late rank arrived", waited)
	}

	// No allocation per call (every rank runs the same number of calls).
	a32, a64 := make([]float32, 4096), make([]float64, 4096)
	bb := make([]byte, 64)
	if n := testing.AllocsPerRun(20, func() {
		_ = w.AllReduceSum32(a32)
		_ = w.AllReduceSum64(a64)
		_ = AllReduceSum(w, a32)
		_ = w.Broadcast(bb, 0)
	}); n != 0 {
		c.errorf("%v allocations per round of calls, want 0", n)
	}

	// Go's own signal handling survives MPI_Init (OpenMPI's opal_signal
	// handlers for SIGSEGV etc. do not displace Go's): a nil dereference
	// is still a panic that recover catches.
	if !recoversNil() {
		c.errorf("nil dereference not recovered after Init")
	}

	if err := w.Finalize(); err != nil {
		c.errorf("Finalize: %v", err)
	}
	for name, err := range map[string]error{
		"AllReduceSum32": w.AllReduceSum32(a32),
		"AllReduceSum64": w.AllReduceSum64(a64),
		"Broadcast":      w.Broadcast(bb, 0),
		"Barrier":        w.Barrier(),
		"Finalize":       w.Finalize(),
	} {
		if !errors.Is(err, ErrFinalized) {
			c.errorf("after Finalize: %s: %v, want ErrFinalized", name, err)
		}
	}
	if w.Rank() != rank || w.Size() != size {
		c.errorf("after Finalize: rank %d size %d", w.Rank(), w.Size())
	}
	if _, err := Init(); !errors.Is(err, ErrInitialized) {
		c.errorf("Init after Finalize: %v, want ErrInitialized", err)
	}
	return c.exit()
}

type node struct{ next *node }

func recoversNil() (ok bool) {
	defer func() { ok = recover() != nil }()
	var p *node
	return p.next == nil // panics
}

// Without mpirun: Launched is false and MPI runs as a singleton of size 1.
func TestSingleton(t *testing.T) {
	mpirun(t) // OpenMPI's singleton mode starts orted, from openmpi-bin
	r := launch(t, 0, "single", 60*time.Second)
	t.Logf("alone: %v, status %d\n%s", r.elapsed.Round(time.Millisecond), r.code, r.out)
	if r.code != 0 || !strings.Contains(r.out, "ok single\n") {
		t.Fatalf("status %d", r.code)
	}
}

func childSingle() int {
	c := &checker{who: "single"}
	if Launched() {
		c.errorf("Launched() true without mpirun")
	}
	w, err := Init()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Init:", err)
		return 1
	}
	if w.Rank() != 0 || w.Size() != 1 {
		c.errorf("rank %d size %d, want 0 1", w.Rank(), w.Size())
	}
	f32 := []float32{1.5, -2, 3}
	if err := w.AllReduceSum32(f32); err != nil || f32[0] != 1.5 || f32[1] != -2 || f32[2] != 3 {
		c.errorf("AllReduceSum32 over one rank: %v, %v", f32, err)
	}
	f64 := []float64{0.1, 1e300}
	if err := AllReduceSum(w, f64); err != nil || f64[0] != 0.1 || f64[1] != 1e300 {
		c.errorf("AllReduceSum[float64] over one rank: %v, %v", f64, err)
	}
	b := []byte("config")
	if err := w.Broadcast(b, 0); err != nil || string(b) != "config" {
		c.errorf("Broadcast: %q, %v", b, err)
	}
	if err := w.Broadcast(b, 1); !errors.Is(err, ErrRoot) {
		c.errorf("Broadcast root 1 of 1: %v, want ErrRoot", err)
	}
	if got, err := w.BroadcastVar(b, 0); err != nil || string(got) != "config" {
		c.errorf("BroadcastVar: %q, %v", got, err)
	}
	if d, err := w.Differing(b); err != nil || d != 0 {
		c.errorf("Differing over one rank: %d, %v", d, err)
	}
	if err := w.Barrier(); err != nil {
		c.errorf("Barrier: %v", err)
	}
	if err := w.Finalize(); err != nil {
		c.errorf("Finalize: %v", err)
	}
	return c.exit()
}

// A rank SIGKILLed while the other waits in an all-reduce: mpirun ends the
// job, non-zero, well within 30 s.
func TestKilledRank(t *testing.T) {
	r := launch(t, 2, "kill", 60*time.Second)
	t.Logf("mpirun: %v, status %d\n%s", r.elapsed.Round(time.Millisecond), r.code, r.out)
	if r.code == 0 {
		t.Errorf("status 0 after a rank was killed")
	}
	if r.elapsed > 30*time.Second {
		t.Errorf("mpirun took %v after a rank was killed", r.elapsed)
	}
	if strings.Contains(r.out, "rank 0: all-reduce") {
		t.Errorf("the survivor's all-reduce returned")
	}
	if !strings.Contains(r.out, "rank 0: SIGTERM while in the all-reduce") {
		t.Errorf("the survivor did not get a SIGTERM")
	}
	if !strings.Contains(r.out, "rank 0: in all-reduce 3") {
		t.Errorf("rank 0 did not reach the all-reduce that rank 1 never joins")
	}
	var killed int64
	for line := range strings.Lines(r.out) {
		if s, ok := strings.CutPrefix(line, "killing myself at "); ok {
			killed, _ = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		}
	}
	if killed == 0 {
		t.Fatalf("rank 1 did not reach its kill")
	}
	t.Logf("from the SIGKILL to mpirun's end: %v", r.end.Sub(time.Unix(0, killed)).Round(time.Millisecond))
}

func childKill() int {
	w, err := Init()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Init:", err)
		return 1
	}
	buf := make([]float32, 536586)
	if err := w.Barrier(); err != nil {
		fmt.Fprintln(os.Stderr, "Barrier:", err)
		return 1
	}
	if w.Rank() == 1 {
		for range 3 {
			if err := w.AllReduceSum32(buf); err != nil {
				fmt.Fprintln(os.Stderr, "AllReduceSum32:", err)
				return 1
			}
		}
		time.Sleep(200 * time.Millisecond)
		fmt.Printf("killing myself at %d\n", time.Now().UnixNano())
		os.Stdout.Sync()
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	// What ends the survivor: orted's SIGTERM (then SIGKILL after
	// odls_base_sigkill_timeout, 1 s, had it not exited).
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		fmt.Println("rank 0: SIGTERM while in the all-reduce")
		os.Exit(143)
	}()
	for i := 0; ; i++ {
		if i == 3 {
			fmt.Println("rank 0: in all-reduce 3, which rank 1 never joins")
		}
		if err := w.AllReduceSum32(buf); err != nil {
			fmt.Printf("rank 0: all-reduce %d returned %v\n", i, err)
			return 3
		}
	}
}

// Abort from one goroutine while another is inside an all-reduce that the
// other rank never joins: the job ends at once with Abort's code.
func TestAbort(t *testing.T) {
	r := launch(t, 2, "abort", 60*time.Second)
	t.Logf("mpirun: %v, status %d\n%s", r.elapsed.Round(time.Millisecond), r.code, r.out)
	if r.code != 3 {
		t.Errorf("status %d, want Abort's 3", r.code)
	}
	if r.elapsed > 30*time.Second {
		t.Errorf("mpirun took %v after Abort", r.elapsed)
	}
	if !strings.Contains(r.out, "aborting while in an all-reduce") {
		t.Errorf("rank 0 did not reach its Abort")
	}
}

func childAbort() int {
	w, err := Init()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Init:", err)
		return 1
	}
	if err := w.Barrier(); err != nil {
		fmt.Fprintln(os.Stderr, "Barrier:", err)
		return 1
	}
	if w.Rank() == 1 {
		time.Sleep(50 * time.Second) // never joins the all-reduce
		return 0
	}
	go func() {
		err := w.AllReduceSum32(make([]float32, 1000))
		fmt.Println("rank 0: all-reduce returned", err)
	}()
	time.Sleep(300 * time.Millisecond)
	fmt.Println("rank 0: aborting while in an all-reduce")
	w.Abort(3)
	return 0
}
