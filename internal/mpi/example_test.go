package mpi_test

import (
	"fmt"

	"github.com/gradlab/gradlab/internal/mpi"
)

// One data-parallel step's reduction: every rank adds its gradient and
// divides by the number of ranks. Run alone (as here, in either build) the
// world has one rank; under mpirun -np K (built with -tags mpi) every rank
// gets the same mean.
func Example() {
	w, err := mpi.Init()
	if err != nil {
		fmt.Println(err) // the default build under mpirun: mpi.ErrNotBuilt
		return
	}
	defer w.Finalize()

	grad := []float32{float32(w.Rank()) + 1, 2, -4}
	if err := w.AllReduceSum32(grad); err != nil {
		fmt.Println(err)
		w.Abort(1)
	}
	for i := range grad {
		grad[i] /= float32(w.Size())
	}
	fmt.Printf("rank %d of %d (launched by mpirun: %v): %v\n", w.Rank(), w.Size(), mpi.Launched(), grad)
	// Output: rank 0 of 1 (launched by mpirun: false): [1 2 -4]
}
