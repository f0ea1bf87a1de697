// Package text makes a character-level language-modelling data set from a
// text file: a byte-level vocabulary (the distinct bytes of the file, in
// byte order — UTF-8 text is modelled one byte at a time, which needs no
// tokenizer and keeps every file representable), the last part of the file
// held out as one contiguous span, and windows of the context length whose
// targets are the same bytes shifted by one position. The vocabulary is
// JSON (Vocab), so a checkpoint carries it and generation decodes with it.
package text
