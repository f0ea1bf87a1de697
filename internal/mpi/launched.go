package mpi

import "os"

// launcherVars are the environment variables whose presence means that an
// MPI launcher started this process: OpenMPI's mpirun/mpiexec set
// OMPI_COMM_WORLD_SIZE (and OMPI_COMM_WORLD_RANK), PMIx launchers such as
// Slurm's srun --mpi=pmix set PMIX_RANK, PMI-1/PMI-2 launchers (srun
// --mpi=pmi2, MPICH's hydra) set PMI_RANK.
var launcherVars = []string{"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}

// Launched reports whether an MPI launcher started this process: whether
// one of OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK is set (to anything)
// in the environment. It calls no MPI function, works the same in both
// builds and may be called before Init. A program run alone (not by
// mpirun) gets false, and Init then gives it a world of one rank.
func Launched() bool {
	for _, v := range launcherVars {
		if _, ok := os.LookupEnv(v); ok {
			return true
		}
	}
	return false
}
