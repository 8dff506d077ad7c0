// The reference transformer of the benchmarks: the model whose training step every backend is timed on.

/** Decoder-only, d_model 256, 4 layers, 4 heads, SwiGLU 1024, vocab 512, sequence 96, batch 16. */
export const REFERENCE = {
  vocabSize: 512,
  dModel: 256,
  nLayers: 4,
  nHeads: 4,
  ffnHidden: 1024,
  seq: 96,
  batch: 16,
};
