package org.cloe4j.cuda;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

import java.util.Arrays;

import static org.cloe4j.backend.ShapeChecks.sameShape;
import static org.cloe4j.backend.ShapeChecks.volume;
import static org.cloe4j.cuda.CudaBackend.p;
import static org.cloe4j.cuda.CudaBackend.spatialOf;

/** The CUDA backend's channels family: Channel softmax, concat and slice, mirroring {@code CpuChannels}. */
final class CudaChannels {
    private final CudaBackend be;

    CudaChannels(CudaBackend be) {
        this.be = be;
    }

    void softmaxChannels(Tensor x, Tensor y) {
        be.ready();
        sameShape("softmaxChannels", x, y);
        volume("softmaxChannels", x);
        Shape s = x.shape();
        int sp = spatialOf(s);
        be.kern().cloe_softmax_channels_fwd(be.g1((long) s.n() * sp), p(x, "softmaxChannels"), p(y, "softmaxChannels"), s.n(), s.c(), sp);
    }

    void softmaxChannelsBackward(Tensor y, Tensor gy, Tensor gx) {
        be.ready();
        String op = "softmaxChannelsBackward";
        volume(op, y);
        sameShape(op, y, gy);
        sameShape(op, y, gx);
        Shape s = y.shape();
        int sp = spatialOf(s);
        be.kern().cloe_softmax_channels_bwd(be.g1((long) s.n() * sp), p(y, op), p(gy, op), p(gx, op), s.n(), s.c(), sp);
    }

    void concatChannels(Tensor[] xs, Tensor y) {
        be.ready();
        Shape ys = y.shape();
        int total = 0;
        for (Tensor x : xs) {
            Shape s = x.shape();
            if (s.rank() != ys.rank() || s.n() != ys.n() || spatialOf(s) != spatialOf(ys)
                    || !Arrays.equals(Arrays.copyOfRange(s.dims(), 2, s.rank()), Arrays.copyOfRange(ys.dims(), 2, ys.rank()))) {
                throw new IllegalArgumentException("concatChannels: input " + s + " does not fit output " + ys);
            }
            total += s.c();
        }
        if (total != ys.c()) throw new IllegalArgumentException("concatChannels: inputs have " + total + " channels, output " + ys);
        int off = 0, sp = spatialOf(ys);
        for (Tensor x : xs) {
            int c = x.shape().c();
            be.kern().cloe_copy_channels(be.g1(x.shape().size()), p(x, "concatChannels"), p(y, "concatChannels"), ys.n(), c, sp, c, 0, ys.c(), off);
            off += c;
        }
    }

    void sliceChannels(Tensor x, int offset, Tensor y) {
        be.ready();
        Shape xs = x.shape(), ys = y.shape();
        if (xs.rank() != ys.rank() || xs.n() != ys.n() || spatialOf(xs) != spatialOf(ys) || offset < 0 || offset + ys.c() > xs.c()) {
            throw new IllegalArgumentException("sliceChannels: cannot take " + ys + " at channel " + offset + " of " + xs);
        }
        be.kern().cloe_copy_channels(be.g1(ys.size()), p(x, "sliceChannels"), p(y, "sliceChannels"), ys.n(), ys.c(), spatialOf(ys), xs.c(), offset, ys.c(), 0);
    }
}
