package org.cloe4j.backend.cpu;

/** Placeholder direct convolution (replaced by the blocked Vector API version on the conv branch). */
public final class CpuConv3d {
    public enum Padding { ZERO, REFLECT }

    private CpuConv3d() {
    }

    public static int outSize(int in, int k, int stride, int pad) {
        return (in + 2 * pad - k) / stride + 1;
    }

    private static int src(int i, int n, Padding p) {
        if (i >= 0 && i < n) return i;
        if (p == Padding.ZERO) return -1;
        return i < 0 ? -i : 2 * n - 2 - i;
    }

    public static void forward(float[] x, float[] w, float[] bias, float[] y, int n, int ci, int d, int h, int wd,
                               int co, int k, int stride, int pad, Padding padding) {
        int od = outSize(d, k, stride, pad), oh = outSize(h, k, stride, pad), ow = outSize(wd, k, stride, pad);
        Parallel.forEach(n * co, job -> {
            int b = job / co, o = job % co;
            for (int z = 0; z < od; z++) for (int yy = 0; yy < oh; yy++) for (int xx = 0; xx < ow; xx++) {
                double s = bias == null ? 0 : bias[o];
                for (int c = 0; c < ci; c++) for (int kz = 0; kz < k; kz++) {
                    int iz = src(z * stride - pad + kz, d, padding);
                    if (iz < 0) continue;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = src(yy * stride - pad + ky, h, padding);
                        if (iy < 0) continue;
                        for (int kx = 0; kx < k; kx++) {
                            int ix = src(xx * stride - pad + kx, wd, padding);
                            if (ix < 0) continue;
                            s += x[(((b * ci + c) * d + iz) * h + iy) * wd + ix]
                                    * w[(((o * ci + c) * k + kz) * k + ky) * k + kx];
                        }
                    }
                }
                y[(((b * co + o) * od + z) * oh + yy) * ow + xx] = (float) s;
            }
        });
    }

    public static void backwardData(float[] gy, float[] w, float[] gx, int n, int ci, int d, int h, int wd, int co,
                                    int k, int stride, int pad, Padding padding) {
        int od = outSize(d, k, stride, pad), oh = outSize(h, k, stride, pad), ow = outSize(wd, k, stride, pad);
        Parallel.forEach(n * ci, job -> {
            int b = job / ci, c = job % ci;
            java.util.Arrays.fill(gx, (b * ci + c) * d * h * wd, (b * ci + c + 1) * d * h * wd, 0f);
            for (int o = 0; o < co; o++) for (int z = 0; z < od; z++) for (int yy = 0; yy < oh; yy++)
                for (int xx = 0; xx < ow; xx++) {
                    float g = gy[(((b * co + o) * od + z) * oh + yy) * ow + xx];
                    for (int kz = 0; kz < k; kz++) {
                        int iz = src(z * stride - pad + kz, d, padding);
                        if (iz < 0) continue;
                        for (int ky = 0; ky < k; ky++) {
                            int iy = src(yy * stride - pad + ky, h, padding);
                            if (iy < 0) continue;
                            for (int kx = 0; kx < k; kx++) {
                                int ix = src(xx * stride - pad + kx, wd, padding);
                                if (ix < 0) continue;
                                gx[(((b * ci + c) * d + iz) * h + iy) * wd + ix] +=
                                        g * w[(((o * ci + c) * k + kz) * k + ky) * k + kx];
                            }
                        }
                    }
                }
        });
    }

    public static void backwardWeight(float[] x, float[] gy, float[] gw, float[] gb, int n, int ci, int d, int h,
                                      int wd, int co, int k, int stride, int pad, Padding padding) {
        int od = outSize(d, k, stride, pad), oh = outSize(h, k, stride, pad), ow = outSize(wd, k, stride, pad);
        Parallel.forEach(co, o -> {
            double bsum = 0;
            double[] acc = new double[ci * k * k * k];
            for (int b = 0; b < n; b++) for (int z = 0; z < od; z++) for (int yy = 0; yy < oh; yy++)
                for (int xx = 0; xx < ow; xx++) {
                    float g = gy[(((b * co + o) * od + z) * oh + yy) * ow + xx];
                    bsum += g;
                    for (int c = 0; c < ci; c++) for (int kz = 0; kz < k; kz++) {
                        int iz = src(z * stride - pad + kz, d, padding);
                        if (iz < 0) continue;
                        for (int ky = 0; ky < k; ky++) {
                            int iy = src(yy * stride - pad + ky, h, padding);
                            if (iy < 0) continue;
                            for (int kx = 0; kx < k; kx++) {
                                int ix = src(xx * stride - pad + kx, wd, padding);
                                if (ix < 0) continue;
                                acc[((c * k + kz) * k + ky) * k + kx] += g * x[(((b * ci + c) * d + iz) * h + iy) * wd + ix];
                            }
                        }
                    }
                }
            for (int i = 0; i < acc.length; i++) gw[o * acc.length + i] = (float) acc[i];
            if (gb != null) gb[o] = (float) bsum;
        });
    }
}
