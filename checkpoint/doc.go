// Package checkpoint reads and writes named tensors with string metadata in
// the safetensors format (https://github.com/huggingface/safetensors), so a
// gradlab checkpoint opens in Python with safetensors.numpy.load_file.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON mapping
// each tensor name to {"dtype", "shape", "data_offsets"} plus a
// "__metadata__" object of strings, then the tensors' bytes (little-endian,
// row-major), in name order with no gaps. gradlab adds three metadata keys:
// "format" = "gradlab", "version" (see Version) and "sha256", the SHA-256 of
// the data section, so a corrupt or truncated file is detected on Read.
//
// Write is atomic: it writes a temporary file in the destination directory,
// syncs it, renames it over the destination and syncs the directory, so a
// crash at any point leaves either the old file or the new one, never a mix.
package checkpoint
