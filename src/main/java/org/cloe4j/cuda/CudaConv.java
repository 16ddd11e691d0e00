package org.cloe4j.cuda;

import org.cloe4j.backend.ConvSpec;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

import static org.cloe4j.backend.ShapeChecks.shape;
import static org.cloe4j.cuda.CudaBackend.n;
import static org.cloe4j.cuda.CudaBackend.p;

/** The CUDA backend's conv family: conv3d's three passes on our kernels ({@code kernels/conv3d.cu}, planned by {@link ConvLaunch}) or through cuDNN ({@link CudnnConv}), mirroring {@code CpuConv3d}. */
final class CudaConv {
    private final CudaBackend be;

    CudaConv(CudaBackend be) {
        this.be = be;
    }

    private CudnnConv requireCudnn() {
        CudnnConv c = be.cudnn();
        if (c == null) throw new UnsupportedOperationException("-Dcloe.cuda.conv=cudnn, but cuDNN is not available (" + be.cudnnStatus() + ")");
        return c;
    }

    private boolean reflect(ConvSpec spec) {
        return spec.padding() == ConvSpec.Padding.REFLECT && spec.pad() > 0;
    }

    /** An explicitly reflect-padded copy of x (pad 1), for cuDNN, which only pads with zeros. */
    private Tensor padReflect(Tensor x) {
        Shape s = x.shape();
        Tensor xp = be.allocate(Shape.ncdhw(s.n(), s.c(), s.d() + 2, s.h() + 2, s.w() + 2));
        be.kern().cloe_pad_reflect1_fwd(be.g1(xp.shape().size()), p(x, "conv3d"), xp.devicePointer(), s.n() * s.c(), s.d(), s.h(), s.w());
        return xp;
    }

    private void run(ConvLaunch.Launch l) {
        be.kern().launcher().launch(l.kernel(), l.gridX(), l.gridY(), l.gridZ(), l.block(), 1, 1, 0, l.args());
    }

    void conv3d(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec spec) {
        be.ready();
        String op = "conv3d";
        Shape ys = spec.outputShape(x.shape(), w.shape());
        shape(op, "y", y, ys);
        shape(op, "bias", bias, Shape.of(w.shape().dim(0)));
        n(x, op);
        n(y, op);
        if (be.options().conv().equals("cudnn")) {
            conv3dCudnn(x, w, bias, y, spec, ys);
            return;
        }
        run(ConvLaunch.forward(be.options().version(op), be.options().precision(), p(x, op), p(w, op), p(bias, op), p(y, op), x.shape(),
                w.shape(), ys, spec, be.maxBlocks()));
    }

    private void conv3dCudnn(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec spec, Shape ys) {
        CudnnConv c = requireCudnn();
        boolean tensorOps = !be.options().precision().equals("fp32");
        if (reflect(spec)) {
            Tensor xp = padReflect(x);
            try {
                c.forward(be.allocator(), xp.devicePointer(), xp.shape(), p(w, "conv3d"), w.shape(), p(y, "conv3d"), ys, 0, spec.stride(), tensorOps);
            } finally {
                be.release(xp);
            }
        } else {
            c.forward(be.allocator(), p(x, "conv3d"), x.shape(), p(w, "conv3d"), w.shape(), p(y, "conv3d"), ys, spec.pad(), spec.stride(), tensorOps);
        }
        if (bias != null) {
            be.kern().cloe_bias_add_channels(be.g1(ys.size()), y.devicePointer(), bias.devicePointer(), ys.n(), ys.c(), ys.spatialSize());
        }
    }

    void conv3dBackwardData(Tensor gy, Tensor w, Tensor gx, ConvSpec spec) {
        be.ready();
        String op = "conv3dBackwardData";
        Shape xs = gx.shape();
        shape(op, "gy", gy, spec.outputShape(xs, w.shape()));
        n(gx, op);
        n(gy, op);
        if (be.options().conv().equals("cudnn")) {
            conv3dBackwardDataCudnn(gy, w, gx, spec);
            return;
        }
        run(ConvLaunch.backwardData(be.options().version("conv3d"), be.options().precision(), p(gy, op), p(w, op), p(gx, op), xs, w.shape(),
                gy.shape(), spec, be.maxBlocks()));
    }

    private void conv3dBackwardDataCudnn(Tensor gy, Tensor w, Tensor gx, ConvSpec spec) {
        CudnnConv c = requireCudnn();
        boolean tensorOps = !be.options().precision().equals("fp32");
        Shape xs = gx.shape();
        if (reflect(spec)) {
            Tensor gxp = be.allocate(Shape.ncdhw(xs.n(), xs.c(), xs.d() + 2, xs.h() + 2, xs.w() + 2));
            try {
                c.backwardData(be.allocator(), p(gy, "conv3dBackwardData"), gy.shape(), p(w, "conv3dBackwardData"), w.shape(),
                        gxp.devicePointer(), gxp.shape(), 0, spec.stride(), tensorOps);
                be.kern().cloe_pad_reflect1_bwd(be.g1(xs.size()), gxp.devicePointer(), gx.devicePointer(), xs.n() * xs.c(), xs.d(), xs.h(), xs.w());
            } finally {
                be.release(gxp);
            }
        } else {
            c.backwardData(be.allocator(), p(gy, "conv3dBackwardData"), gy.shape(), p(w, "conv3dBackwardData"), w.shape(),
                    p(gx, "conv3dBackwardData"), xs, spec.pad(), spec.stride(), tensorOps);
        }
    }

    /** The bias gradient uses our sumTo kernel on every path. */
    void conv3dBackwardWeight(Tensor x, Tensor gy, Tensor gw, Tensor gb, ConvSpec spec) {
        be.ready();
        String op = "conv3dBackwardWeight";
        Shape ws = gw.shape();
        shape(op, "gy", gy, spec.outputShape(x.shape(), ws));
        shape(op, "gb", gb, Shape.of(ws.dim(0)));
        n(x, op);
        n(gy, op);
        if (be.options().conv().equals("cudnn")) {
            conv3dBackwardWeightCudnn(x, gy, gw, spec);
        } else {
            ConvLaunch.WeightPlan plan = ConvLaunch.backwardWeight(be.options().version("conv3d"), be.options().precision(), p(x, op), p(gy, op),
                    p(gw, op), x.shape(), ws, gy.shape(), spec, be.maxBlocks(), be.device().multiprocessors());
            long partials = plan.partialFloats() > 0 ? be.scratch(plan.partialFloats(), "conv3d backward-weight partials") : 0L;
            try {
                for (ConvLaunch.Launch l : plan.launches(partials)) run(l);
            } finally {
                if (partials != 0) be.free(partials);
            }
        }
        if (gb != null) {
            Shape g = gy.shape();
            // gy seen as [1, 1, N, Co, S]: sum over N (dim 2) and S (dim 4)
            be.sumToRaw(gy.devicePointer(), gb.devicePointer(), g.c(), new int[]{1, 1, g.n(), g.c(), g.spatialSize()}, (1 << 2) | (1 << 4));
        }
    }

    private void conv3dBackwardWeightCudnn(Tensor x, Tensor gy, Tensor gw, ConvSpec spec) {
        CudnnConv c = requireCudnn();
        boolean tensorOps = !be.options().precision().equals("fp32");
        if (reflect(spec)) {
            Tensor xp = padReflect(x);
            try {
                c.backwardFilter(be.allocator(), xp.devicePointer(), xp.shape(), p(gy, "conv3dBackwardWeight"), gy.shape(),
                        p(gw, "conv3dBackwardWeight"), gw.shape(), 0, spec.stride(), tensorOps);
            } finally {
                be.release(xp);
            }
        } else {
            c.backwardFilter(be.allocator(), p(x, "conv3dBackwardWeight"), x.shape(), p(gy, "conv3dBackwardWeight"), gy.shape(),
                    p(gw, "conv3dBackwardWeight"), gw.shape(), spec.pad(), spec.stride(), tensorOps);
        }
    }
}
