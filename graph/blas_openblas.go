//go:build openblas

package graph

/*
#cgo LDFLAGS: -lopenblas
char* openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
*/
import "C"

import (
	"fmt"
	"os"

	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
)

// Under the openblas build tag every matrix product Gorgonia (and package
// ops) computes goes through OpenBLAS, by way of gonum.org/v1/netlib's cgo
// CBLAS binding. The #cgo directive above links -lopenblas, so the tag needs
// nothing but Debian's libopenblas-dev.
//
// OpenBLAS runs on one thread unless OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS
// or OMP_NUM_THREADS says otherwise: an MLP's products at batch 128 are
// small (at most ~50 MFLOP), and handing half of each to a second thread
// cost more than it saved — measured on the 2-core benchmark machine, one
// thread trained 31 % faster with 45 % less CPU (benchmarks/TRAINING.md).
// The second core is left to the Go runtime and the solver.
func init() {
	gorgonia.Use(netlib.Implementation{})
	for _, v := range []string{"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"} {
		if os.Getenv(v) != "" {
			return
		}
	}
	C.openblas_set_num_threads(1)
}

// BLASInfo names the BLAS that matrix products use: here OpenBLAS, with its
// build configuration and thread count.
func BLASInfo() string {
	return fmt.Sprintf("OpenBLAS (%s; %d threads)", C.GoString(C.openblas_get_config()), int(C.openblas_get_num_threads()))
}
