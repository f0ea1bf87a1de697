//go:build mpi

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gradlab/gradlab/train"
)

// The tests here start this test binary under mpirun as gradlab itself:
// with GRADLAB_AS_GRADLAB=1 TestMain runs the command line after "--"
// (and a rank writes its pid to $GRADLAB_PID_DIR/rankN).
func TestMain(m *testing.M) {
	if os.Getenv("GRADLAB_AS_GRADLAB") == "1" {
		if dir := os.Getenv("GRADLAB_PID_DIR"); dir != "" {
			os.WriteFile(filepath.Join(dir, "rank"+os.Getenv("OMPI_COMM_WORLD_RANK")), []byte(strconv.Itoa(os.Getpid())), 0o644)
		}
		args := os.Args[slices.Index(os.Args, "--")+1:]
		if err := run(context.Background(), args, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "gradlab:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// mpirunGradlab returns the command mpirun -np K <this binary as gradlab> args
// (several programs when args holds more than one command line).
func mpirunGradlab(t *testing.T, env []string, cmds ...[]string) *exec.Cmd {
	t.Helper()
	mpirun, err := exec.LookPath("mpirun")
	if err != nil {
		if os.Getenv("GRADLAB_REQUIRE_MPI") == "1" {
			t.Fatal("GRADLAB_REQUIRE_MPI=1 but mpirun is not installed")
		}
		t.Skip("mpirun is not installed (apt-get install openmpi-bin)")
	}
	args := []string{"--oversubscribe"}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-run-as-root")
	}
	args = append(args, strings.Fields(os.Getenv("GRADLAB_MPIRUN_ARGS"))...)
	np := "2"
	if len(cmds) > 1 {
		np = "1"
	}
	for i, c := range cmds {
		if i > 0 {
			args = append(args, ":")
		}
		args = append(append(args, "-np", np, os.Args[0], "-test.run=^$", "--"), c...)
	}
	cmd := exec.Command(mpirun, args...)
	cmd.Env = append(append(os.Environ(), "GRADLAB_AS_GRADLAB=1"), env...)
	return cmd
}

// small is a run of a float64 MLP without batch norm or dropout, where two
// ranks and one process agree to rounding.
func smallRun(out string, epochs int) []string {
	return []string{"train", "-out", out, "-hidden", "16", "-bn=false", "-dropout", "0", "-dtype", "float64", "-epochs", strconv.Itoa(epochs),
		"-train-limit", "512", "-test-limit", "200", "-opt", "adam", "-lr", "0.01", "-schedule", "constant", "-batch", "64"}
}

// TestMPIMatchesOneProcess: 2 ranks log one process's training and test
// metrics (the test set sharded, the training metrics merged). The
// one-process run is this test binary, built with -tags mpi and started
// without mpirun: it runs alone, as one rank, without calling MPI.
func TestMPIMatchesOneProcess(t *testing.T) {
	one, two := t.TempDir(), t.TempDir()
	_, errb, err := runCmd(smallRun(one, 2)...)
	require.NoError(t, err, errb)
	out, err := mpirunGradlab(t, nil, smallRun(two, 2)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, 1, strings.Count(string(out), "final test accuracy"), "rank 0 alone reports:\n%s", out)
	sameCSV(t, one, two, "train_loss", "train_acc", "test_loss", "test_acc")
}

// sameCSV asserts that the last rows of two runs' metrics.csv agree in the
// columns to 1e-9 relative.
func sameCSV(t *testing.T, one, two string, cols ...string) {
	t.Helper()
	a, b := lastCSV(t, one), lastCSV(t, two)
	for _, col := range cols {
		var x, y float64
		_, err := fmt.Sscan(a[col], &x)
		require.NoError(t, err, "%s: %q", col, a[col])
		_, err = fmt.Sscan(b[col], &y)
		require.NoError(t, err, "%s: %q", col, b[col])
		assert.InDelta(t, x, y, 1e-9*max(1, x), "%s: 1 process %s, 2 ranks %s", col, a[col], b[col])
	}
}

// TestMPISyncBatchNorm: with -sync-bn, 2 ranks of a float64 MLP with batch
// norm (SGD) log one process's metrics; -np 3 with a global batch of 2 is
// the named error of a batch smaller than the world.
func TestMPISyncBatchNorm(t *testing.T) {
	one, two := t.TempDir(), t.TempDir()
	args := func(dir string) []string {
		a := smallRun(dir, 2)
		a[slices.Index(a, "-bn=false")] = "-bn=true"
		a[slices.Index(a, "adam")] = "sgd"
		a[slices.Index(a, "0.01")] = "0.1"
		return a
	}
	_, errb, err := runCmd(args(one)...)
	require.NoError(t, err, errb)
	out, err := mpirunGradlab(t, nil, append(args(two), "-sync-bn")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	sameCSV(t, one, two, "train_loss", "train_acc", "test_loss", "test_acc")

	small := append(smallRun(t.TempDir(), 1), "-batch", "1")
	out, err = mpirunGradlab(t, nil, small).CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "batch 1 is the global batch, split across 2 processes: want at least one example each")
}

// TestMPIResumeOtherRanks: a run of one process resumed by 2 ranks ends
// where the uninterrupted run of one process ends.
func TestMPIResumeOtherRanks(t *testing.T) {
	whole, split := t.TempDir(), t.TempDir()
	_, errb, err := runCmd(smallRun(whole, 2)...)
	require.NoError(t, err, errb)
	_, errb, err = runCmd(smallRun(split, 1)...)
	require.NoError(t, err, errb)
	out, err := mpirunGradlab(t, nil, []string{"train", "-resume", "-out", split, "-epochs", "2"}).CombinedOutput()
	require.NoError(t, err, "%s", out)
	sameCSV(t, whole, split, "epoch", "train_loss", "test_loss", "test_acc")
}

func TestMPIRanksWithOtherFlags(t *testing.T) {
	dir := t.TempDir()
	other := smallRun(dir, 1)
	other[slices.Index(other, "0.01")] = "0.02"
	out, err := mpirunGradlab(t, nil, smallRun(dir, 1), other).CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "1 of 2 ranks were started with another configuration than rank 0's")
}

// TestMPIKilledRank: a rank killed mid-run stops the job within a bounded
// time, the last checkpoint is intact, and -resume continues from it with
// another number of processes (here one).
func TestMPIKilledRank(t *testing.T) {
	dir, pids := t.TempDir(), t.TempDir()
	cmd := mpirunGradlab(t, []string{"GRADLAB_PID_DIR=" + pids}, smallRun(dir, 60))
	require.NoError(t, cmd.Start())
	ckpt := filepath.Join(dir, train.CheckpointFile)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ckpt); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "no checkpoint after 60 s")
		time.Sleep(50 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(pids, "rank1"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(string(b))
	require.NoError(t, err)
	killed := time.Now()
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.Error(t, err, "the job fails when a rank dies")
		t.Logf("mpirun ended %.2f s after the kill: %v", time.Since(killed).Seconds(), err)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the job still runs 30 s after a rank was killed")
	}
	_, cfg, err := train.ReadCheckpoint(ckpt)
	require.NoError(t, err, "the last checkpoint is intact")
	_, errb, err := runCmd("train", "-resume", "-out", dir, "-epochs", strconv.Itoa(cfg.Epochs))
	require.NoError(t, err, "resumed by one process: %s", errb)
	h, _, err := func() ([]train.Epoch, int, error) {
		f, _, err := train.ReadCheckpoint(ckpt)
		if err != nil {
			return nil, 0, err
		}
		return train.History(f)
	}()
	require.NoError(t, err)
	assert.Len(t, h, cfg.Epochs)
}
