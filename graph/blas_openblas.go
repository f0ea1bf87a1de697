//go:build openblas

package graph

/*
#cgo LDFLAGS: -lopenblas
char* openblas_get_config(void);
int openblas_get_num_threads(void);
*/
import "C"

import (
	"fmt"

	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
)

// Under the openblas build tag every matrix product Gorgonia (and package
// ops) computes goes through OpenBLAS, by way of gonum.org/v1/netlib's cgo
// CBLAS binding. The #cgo directive above links -lopenblas, so the tag needs
// nothing but Debian's libopenblas-dev.
func init() { gorgonia.Use(netlib.Implementation{}) }

// BLASInfo names the BLAS that matrix products use: here OpenBLAS, with its
// build configuration and thread count.
func BLASInfo() string {
	return fmt.Sprintf("OpenBLAS (%s; %d threads)", C.GoString(C.openblas_get_config()), int(C.openblas_get_num_threads()))
}
