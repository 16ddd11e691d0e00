/*
 * cloe4j-bind: class=cloe_kernels_h kernels=cloe_kernels.fatbin
 *
 * The C ABI of cloe4j's own CUDA kernels (the .cu files in kernels/). Every kernel is extern "C" so its symbol is its name;
 * the .cu files include this header, so nvcc rejects a definition whose parameters drift from what Java passes.
 * The binding generator turns each prototype into a launch descriptor (the parameter layouts cuLaunchKernel's
 * kernelParams array must point at), not into a downcall: kernels are launched with cuLaunchKernel.
 *
 * Conventions: counts are int (tensors stay below 2^31 elements; the backend checks), float* are device
 * pointers, a pointer documented "may be null" is passed as 0. Versions (_v1, _v2) compute the same thing and are
 * chosen with -Dcloe.cuda.kernel.<op>=1|2; the fixed-arity families (_m1 .. _m8) are one template instantiated per
 * number of experts M, with unused pointer slots passed as null.
 */
#ifdef __CUDACC__
#define CLOE_KERNEL extern "C" __global__
#else
#define CLOE_KERNEL
#endif

/* ---- elementwise.cu ---- */
CLOE_KERNEL void cloe_add_inplace(float *acc, const float *x, int n);
CLOE_KERNEL void cloe_scale(const float *x, float s, float *y, int n);
/* y = a op b (op 0: add, 1: mul) over y dims d0..d4 (rank padded to 5 with leading 1s); a and b element strides
   as0..as4 / bs0..bs4 are 0 on broadcast dimensions. */
CLOE_KERNEL void cloe_broadcast_binary(const float *a, const float *b, float *y, int op, int n,
                                       int d0, int d1, int d2, int d3, int d4,
                                       int as0, int as1, int as2, int as3, int as4,
                                       int bs0, int bs1, int bs2, int bs3, int bs4);
/* y = x summed over the dims whose bit is set in reduceMask (bit i = dim i of x dims x0..x4); ny outputs. */
CLOE_KERNEL void cloe_sum_to_v1(const float *x, float *y, int ny, int x0, int x1, int x2, int x3, int x4, int reduceMask);
CLOE_KERNEL void cloe_sum_to_v2(const float *x, float *y, int ny, int x0, int x1, int x2, int x3, int x4, int reduceMask);
/* v3, few outputs: grid (splits, ny), block (j, o) writes the partial sum partials[j * ny + o]; column-reduce after.
   (With many outputs version 3 runs the v1 kernel: one thread per output already fills the GPU.) */
CLOE_KERNEL void cloe_sum_to_split_v3(const float *x, float *partials, int ny, int x0, int x1, int x2, int x3, int x4,
                                      int reduceMask);
/* Copies `channels` channels of every sample: dst[n, dstOff + c, s] = src[n, srcOff + c, s]. */
CLOE_KERNEL void cloe_copy_channels(const float *src, float *dst, int batch, int channels, int spatial,
                                    int srcC, int srcOff, int dstC, int dstOff);
/* y[n, c, s] += b[c] (conv bias). */
CLOE_KERNEL void cloe_bias_add_channels(float *y, const float *b, int batch, int c, int spatial);
/* out[k] = sum over rows of partials[rows][cols], column k; one block per column. */
CLOE_KERNEL void cloe_reduce_columns(const float *partials, int rows, int cols, float *out, float scale);

/* ---- activation.cu ---- */
/* y = f(x; a) and gx = gy * f'(x; a) for the pointwise function with code `op` (org.cloe4j.backend.Pointwise: the
   kernels switch on it, so a new function is a new case, not a new kernel). x (the forward's input) or y (its output)
   may be null in the backward where the function does not read it. */
CLOE_KERNEL void cloe_pointwise_fwd(int op, float a, const float *x, float *y, int n);
CLOE_KERNEL void cloe_pointwise_bwd(int op, float a, const float *x, const float *y, const float *gy, float *gx, int n);
CLOE_KERNEL void cloe_softmax_channels_fwd(const float *x, float *y, int batch, int c, int spatial);
CLOE_KERNEL void cloe_softmax_channels_bwd(const float *y, const float *gy, float *gx, int batch, int c, int spatial);

/* ---- resample.cu ---- */
CLOE_KERNEL void cloe_upsample2x_fwd(const float *x, float *y, int nc, int d, int h, int w);
/* v1 scatters with atomics into a zeroed gx; v2 gathers (deterministic, no zeroing). */
CLOE_KERNEL void cloe_upsample2x_bwd_v1(const float *gy, float *gx, int nc, int d, int h, int w);
CLOE_KERNEL void cloe_upsample2x_bwd_v2(const float *gy, float *gx, int nc, int d, int h, int w);
/* Reflect padding by 1 on each side of D, H, W (PyTorch 'reflect'), and its adjoint. d, h, w: unpadded sizes. */
CLOE_KERNEL void cloe_pad_reflect1_fwd(const float *x, float *y, int nc, int d, int h, int w);
CLOE_KERNEL void cloe_pad_reflect1_bwd(const float *gy, float *gx, int nc, int d, int h, int w);

/* ---- norm.cu ---- */
/* One (n, c) map per thread (v1) or per block (v2); gamma, beta may be null. */
CLOE_KERNEL void cloe_instance_norm_fwd_v1(const float *x, const float *gamma, const float *beta, float *y,
                                           float *mean, float *rstd, int nc, int c, int spatial, float eps);
CLOE_KERNEL void cloe_instance_norm_fwd_v2(const float *x, const float *gamma, const float *beta, float *y,
                                           float *mean, float *rstd, int nc, int c, int spatial, float eps);
/* Writes gx and the per-map sums dgamma_nc = sum gy * xhat, dbeta_nc = sum gy into part[2 * nc]. */
CLOE_KERNEL void cloe_instance_norm_bwd_v1(const float *x, const float *gy, const float *mean, const float *rstd,
                                           const float *gamma, float *gx, float *part, int nc, int c, int spatial);
CLOE_KERNEL void cloe_instance_norm_bwd_v2(const float *x, const float *gy, const float *mean, const float *rstd,
                                           const float *gamma, float *gx, float *part, int nc, int c, int spatial);
/* v3: each map split over gridDim.x blocks (grid (splits, nc)), so that N*C = 16 maps still fill the GPU.
   stats: partials[(j * nc + map) * 2 + {0, 1}] = {sum (x - x0), sum (x - x0)^2} with x0 the map's first element
   (the shift keeps E[x^2] - E[x]^2 from cancelling); reduce with cloe_reduce_columns, then finish and apply. */
CLOE_KERNEL void cloe_instance_norm_stats_v3(const float *x, float *partials, int nc, int spatial);
CLOE_KERNEL void cloe_instance_norm_finish_v3(const float *sums, const float *x, float *mean, float *rstd, int nc,
                                              int spatial, float eps);
CLOE_KERNEL void cloe_instance_norm_apply_v3(const float *x, const float *gamma, const float *beta, const float *mean,
                                             const float *rstd, float *y, int nc, int c, int spatial);
/* backward v3: partials {sum gy * xhat, sum gy} per (split, map) (reduced, they are the part[] of v1/v2), then gx. */
CLOE_KERNEL void cloe_instance_norm_bwd_sums_v3(const float *x, const float *gy, const float *mean, const float *rstd,
                                                float *partials, int nc, int spatial);
CLOE_KERNEL void cloe_instance_norm_bwd_apply_v3(const float *x, const float *gy, const float *mean, const float *rstd,
                                                 const float *gamma, const float *part, float *gx, int nc, int c,
                                                 int spatial);
/* ggamma[c] / gbeta[c] = sums over the batch of part (either may be null). */
CLOE_KERNEL void cloe_instance_norm_affine_grad(const float *part, float *ggamma, float *gbeta, int batch, int c);

/* ---- loss.cu ---- */
/* Grid (splits, nc): block (j, map) writes the partial sums of its share of one (n, c) map to
   sums[(j * nc + map) * K + k]; mode 0 (K = 2): {sum t, sum t*log(clamp(p, 0.005, 1))}, mode 1 (K = 3):
   {sum p*t, sum p, sum t}. Reduce the [splits][nc * K] partials with cloe_reduce_columns. */
CLOE_KERNEL void cloe_loss_map_sums(const float *p, const float *t, float *sums, int nc, int spatial, int mode);
/* Cross-entropy with class weights max(1 - share, floor): floor 0 is RFNet's weighting, 1 plain cross-entropy. */
CLOE_KERNEL void cloe_wce_finish(const float *sums, float *loss, int batch, int c, int spatial, float floor);
CLOE_KERNEL void cloe_wce_bwd(const float *p, const float *t, const float *sums, const float *gloss, float *gp,
                              int batch, int c, int spatial, float floor);
/* Soft Dice 1 - (1/C) sum_c (2 I_c + smooth) / (P_c + T_c + smooth + 1e-7); smooth 0 is RFNet's. */
CLOE_KERNEL void cloe_dice_finish(const float *sums, float *loss, int batch, int c, float smooth);
CLOE_KERNEL void cloe_dice_bwd(const float *p, const float *t, const float *sums, const float *gloss, float *gp,
                               int batch, int c, int spatial, float smooth);
/* One partial sum of the clamped BCE terms per block; reduce with cloe_reduce_columns. */
CLOE_KERNEL void cloe_bce_partials(const float *p, const float *t, float *partials, int n);
CLOE_KERNEL void cloe_bce_bwd(const float *p, const float *t, const float *gloss, float *gp, int n);

/* ---- consistency.cu (MEC / REC) ---- */
/* v1: one dot product <r a, r b> (r may be null) per launch, atomically added to out[0] (zeroed first). */
CLOE_KERNEL void cloe_dot_v1(const float *a, const float *b, const float *r, float *out, int batch, int c, int spatial);
/* v2: every pairwise dot product of the M maps in one pass; per block it writes K = M(M+1)/2 sums (packed upper
   triangle, row-major) of the plain maps when r is null, of the region-weighted maps otherwise, and both (plain
   first, 2K sums) when both != 0. Reduce the [blocks][K] partials with cloe_reduce_columns. */
CLOE_KERNEL void cloe_pairwise_dots_v2_m1(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, float *partials, int batch, int c, int spatial, int both);
CLOE_KERNEL void cloe_pairwise_dots_v2_m2(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, float *partials, int batch, int c, int spatial, int both);
CLOE_KERNEL void cloe_pairwise_dots_v2_m3(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, float *partials, int batch, int c, int spatial, int both);
CLOE_KERNEL void cloe_pairwise_dots_v2_m4(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, float *partials, int batch, int c, int spatial, int both);
CLOE_KERNEL void cloe_pairwise_dots_v2_m5(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, float *partials, int batch, int c, int spatial, int both);
CLOE_KERNEL void cloe_pairwise_dots_v2_m6(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, float *partials, int batch, int c, int spatial, int both);
CLOE_KERNEL void cloe_pairwise_dots_v2_m7(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, float *partials, int batch, int c, int spatial, int both);
CLOE_KERNEL void cloe_pairwise_dots_v2_m8(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, float *partials, int batch, int c, int spatial, int both);
/* s [m, m] from the K packed dot products. */
CLOE_KERNEL void cloe_cosine_finish(const float *dots, float *s, int m);
/* A [m, m]: gz_a = sum_b A[a, b] z_b, from the packed dots and gs [m, m]. */
CLOE_KERNEL void cloe_cosine_bwd_coeffs(const float *dots, const float *gs, float *coeffs, int m);
/* gx_m = r * gz_m (gx slots may be null) and gregion[n, s] = sum_c sum_m gz_m x_m (may be null); one thread per
   (n, s) looping over channels. */
CLOE_KERNEL void cloe_cosine_bwd_apply_m1(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, const float *coeffs, float *g0, float *g1, float *g2, float *g3, float *g4, float *g5, float *g6, float *g7, float *gr, int batch, int c, int spatial);
CLOE_KERNEL void cloe_cosine_bwd_apply_m2(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, const float *coeffs, float *g0, float *g1, float *g2, float *g3, float *g4, float *g5, float *g6, float *g7, float *gr, int batch, int c, int spatial);
CLOE_KERNEL void cloe_cosine_bwd_apply_m3(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, const float *coeffs, float *g0, float *g1, float *g2, float *g3, float *g4, float *g5, float *g6, float *g7, float *gr, int batch, int c, int spatial);
CLOE_KERNEL void cloe_cosine_bwd_apply_m4(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, const float *coeffs, float *g0, float *g1, float *g2, float *g3, float *g4, float *g5, float *g6, float *g7, float *gr, int batch, int c, int spatial);
CLOE_KERNEL void cloe_cosine_bwd_apply_m5(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, const float *coeffs, float *g0, float *g1, float *g2, float *g3, float *g4, float *g5, float *g6, float *g7, float *gr, int batch, int c, int spatial);
CLOE_KERNEL void cloe_cosine_bwd_apply_m6(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, const float *coeffs, float *g0, float *g1, float *g2, float *g3, float *g4, float *g5, float *g6, float *g7, float *gr, int batch, int c, int spatial);
CLOE_KERNEL void cloe_cosine_bwd_apply_m7(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, const float *coeffs, float *g0, float *g1, float *g2, float *g3, float *g4, float *g5, float *g6, float *g7, float *gr, int batch, int c, int spatial);
CLOE_KERNEL void cloe_cosine_bwd_apply_m8(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *r, const float *coeffs, float *g0, float *g1, float *g2, float *g3, float *g4, float *g5, float *g6, float *g7, float *gr, int batch, int c, int spatial);

/* ---- gating.cu (gate MLP, masked softmax, fused fusion) ---- */
CLOE_KERNEL void cloe_dense_fwd(const float *x, const float *w, const float *b, float *y, int batch, int in, int out);
CLOE_KERNEL void cloe_dense_bwd_x(const float *gy, const float *w, float *gx, int batch, int in, int out);
CLOE_KERNEL void cloe_dense_bwd_w(const float *x, const float *gy, float *gw, int batch, int in, int out);
CLOE_KERNEL void cloe_dense_bwd_b(const float *gy, float *gb, int batch, int out);
CLOE_KERNEL void cloe_masked_softmax_fwd(const float *logits, const float *mask, float *y, int m);
CLOE_KERNEL void cloe_masked_softmax_bwd(const float *y, const float *gy, float *gx, int m);
/* v1: y (accumulate ? += : =) w[k] * x, one launch per input k. */
CLOE_KERNEL void cloe_weighted_sum_v1(const float *x, const float *w, int k, float *y, int n, int accumulate);
/* v2: y = sum_k w[k] x_k for all m inputs in one pass (float4 body, scalar tail). */
CLOE_KERNEL void cloe_weighted_sum_v2(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *w, float *y, int m, int n);
/* v1 backward: gx = w[k] * gy for one input. */
CLOE_KERNEL void cloe_weighted_sum_bwd_gx_v1(const float *gy, const float *w, int k, float *gx, int n);
/* v2 backward: every gx_k = w[k] gy (slots may be null) and per-block partials [blocks][m] of <gy, x_k>, one pass. */
CLOE_KERNEL void cloe_weighted_sum_bwd_v2(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4, const float *x5, const float *x6, const float *x7, const float *w, const float *gy, float *g0, float *g1, float *g2, float *g3, float *g4, float *g5, float *g6, float *g7, float *partials, int m, int n);

/* ---- optim.cu ---- */
/* PyTorch Adam (L2 weight decay added to the gradient; amsgrad keeps vmax). bc1 = 1 - beta1^t,
   bc2sqrt = sqrt(1 - beta2^t), computed on the host in double. */
CLOE_KERNEL void cloe_adam_step(float *p, const float *g, float *m, float *v, float *vmax, float lr, float beta1,
                                float beta2, float eps, float wd, float bc1, float bc2sqrt, int amsgrad, int n);

/* ---- conv3d.cu ---- */
/* NCDHW, weight [co, ci, k, k, k]; d, h, w input sizes, dO, hO, wO output sizes; k 1 or 3, stride 1 or 2, pad 0 or 1,
   reflect 1 for reflect padding (folded into the addressing). bias may be null. v1: direct, one thread per output
   element (fwd) / input-gradient element (bwd_data) / one block per weight element (bwd_weight, overwrites gw).
   v2: implicit GEMM, 128 threads, 64x64 tiles; _fp32 CUDA cores, _tf32 and _bf16 tensor cores (wmma) with FP32
   accumulation. v2 bwd_weight splits K = n * dO * hO * wO into chunks of kChunk (a multiple of 16) over gridDim.z;
   block z writes its partial sums to gw + z * co * ci * k^3 (gw is a [gridDim.z][co * ci * k^3] partials buffer,
   every element written, no atomics): add the slices with cloe_reduce_columns (with one split, gw is the gradient). */
CLOE_KERNEL void cloe_conv3d_fwd_v1(const float *x, const float *wt, const float *bias, float *y, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_data_v1(const float *gy, const float *wt, float *gx, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_weight_v1(const float *x, const float *gy, float *gw, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_fwd_v2_fp32(const float *x, const float *wt, const float *bias, float *y, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_data_v2_fp32(const float *gy, const float *wt, float *gx, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_weight_v2_fp32(const float *x, const float *gy, float *gw, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect, int kChunk);
CLOE_KERNEL void cloe_conv3d_fwd_v2_tf32(const float *x, const float *wt, const float *bias, float *y, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_data_v2_tf32(const float *gy, const float *wt, float *gx, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_weight_v2_tf32(const float *x, const float *gy, float *gw, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect, int kChunk);
CLOE_KERNEL void cloe_conv3d_fwd_v2_bf16(const float *x, const float *wt, const float *bias, float *y, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_data_v2_bf16(const float *gy, const float *wt, float *gx, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_weight_v2_bf16(const float *x, const float *gy, float *gw, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect, int kChunk);
/* v3: v2 with tiles shaped for 16 channels: 128 x 16 (fwd, bwd_data; co / ci <= 16), 16 x 128 (bwd_weight, co <= 16). */
CLOE_KERNEL void cloe_conv3d_fwd_v3_fp32(const float *x, const float *wt, const float *bias, float *y, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_data_v3_fp32(const float *gy, const float *wt, float *gx, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_weight_v3_fp32(const float *x, const float *gy, float *gw, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect, int kChunk);
CLOE_KERNEL void cloe_conv3d_fwd_v3_tf32(const float *x, const float *wt, const float *bias, float *y, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_data_v3_tf32(const float *gy, const float *wt, float *gx, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_weight_v3_tf32(const float *x, const float *gy, float *gw, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect, int kChunk);
CLOE_KERNEL void cloe_conv3d_fwd_v3_bf16(const float *x, const float *wt, const float *bias, float *y, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_data_v3_bf16(const float *gy, const float *wt, float *gx, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect);
CLOE_KERNEL void cloe_conv3d_bwd_weight_v3_bf16(const float *x, const float *gy, float *gw, int n, int ci, int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad, int reflect, int kChunk);
