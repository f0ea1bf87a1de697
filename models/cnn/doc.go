// Package cnn builds the convolutional MNIST classifier of `gradlab train
// -model cnn` from a Config, on the layer API (package nn).
//
// With Shift > 0 the first layer is data augmentation (nn.RandomShift:
// random translations in training, the identity in evaluation). Each
// convolution block is a K×K convolution with "same" padding (K/2),
// optionally batch normalization (then without bias: β takes its place),
// ReLU and 2×2 max pooling; the blocks are followed by Flatten, the hidden
// dense layers (ReLU, dropout) and the output layer of logits. The default,
// "cnn-16-32-128": conv 5×5 16 → pool → conv 5×5 32 → pool → dense 128 →
// dense 10. Parameters are named by layer: conv1/w (16, 1, 5, 5), conv1/b or
// bn1/gamma and bn1/beta, …, fc1/w, out/w, out/b.
package cnn
