/**
 * The inference engine: {@link org.cloe4j.infer.SlidingWindow} (window positions over a prepared case),
 * {@link org.cloe4j.infer.Stitcher} (softmax averaged over overlapping windows, optionally Gaussian-weighted) and
 * {@link org.cloe4j.infer.Segmenter} (a trained model run window by window for one or many modality sets, with the
 * experts' agreement and the gate weights). Evaluation, the API and the command line segment through it.
 */
package org.cloe4j.infer;
