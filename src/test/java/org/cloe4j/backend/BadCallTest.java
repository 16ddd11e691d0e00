package org.cloe4j.backend;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.Stream;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad calls — wrong rank, mismatched shapes, an empty mask, a NaN loss — throw, and the message names the op and the
 * offending shapes (Backend's contract), so a user can find the call from the message alone.
 */
class BadCallTest {
    private static final Backend BE = GradCheck.backend();

    private static Tensor t(int... dims) {
        return BE.zeros(Shape.of(dims));
    }

    /** A bad call that must throw IllegalArgumentException whose message contains {@code op} and every shape. */
    private static DynamicTest rejects(String behaviour, String op, Executable call, Tensor... named) {
        return DynamicTest.dynamicTest(behaviour, () -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call,
                    op + ": " + behaviour + " must throw IllegalArgumentException");
            String msg = String.valueOf(e.getMessage());
            assertTrue(msg.contains(op), "message must name the op '" + op + "': " + msg);
            for (Tensor x : named) {
                assertTrue(msg.contains(x.shape().toString()),
                        "message must name the shape " + x.shape() + ": " + msg);
            }
        });
    }

    @TestFactory
    Stream<DynamicTest> wrongRanksAndMismatchedShapesAreRejected() {
        ConvSpec same = ConvSpec.same3(ConvSpec.Padding.REFLECT);
        ConvSpec down = ConvSpec.down3(ConvSpec.Padding.ZERO);
        Tensor x4 = t(2, 3, 4, 5), w = t(4, 3, 3, 3, 3);
        Tensor x = t(1, 2, 4, 4, 4), wBadC = t(3, 5, 3, 3, 3), w2 = t(3, 2, 3, 3, 3);
        Tensor yFull = t(1, 3, 4, 4, 4), yHalf = t(1, 3, 2, 2, 2), badBias = t(4);
        Tensor a = t(2, 3, 4, 4, 4), b = t(2, 2, 4, 4, 4), b4 = t(2, 3, 4, 4);
        Tensor dx = t(3, 5), dw = t(4, 6), dy = t(3, 4);
        Tensor m1 = t(1, 2, 3, 3, 3), m2 = t(1, 2, 3, 3, 2), region = t(1, 2, 3, 3, 3);
        Tensor p = t(1, 3, 2, 2, 2), target = t(1, 4, 2, 2, 2), loss = t(1), loss2 = t(2);
        return Stream.of(
                rejects("conv3d of a rank-4 input", "conv3d", () -> BE.conv3d(x4, w, null, yFull, same), x4, w),
                rejects("conv3d with weight channels not matching the input", "conv3d",
                        () -> BE.conv3d(x, wBadC, null, yFull, same), x, wBadC),
                rejects("conv3d into an output of the wrong shape", "conv3d",
                        () -> BE.conv3d(x, w2, null, yFull, down), yFull, yHalf),
                rejects("conv3d with a bias of the wrong length", "conv3d",
                        () -> BE.conv3d(x, w2, badBias, yFull, same), badBias),
                rejects("conv3dBackwardData with gy of the wrong shape", "conv3d",
                        () -> BE.conv3dBackwardData(yFull, w2, x, down), yFull, yHalf),
                rejects("conv3dBackwardWeight with gy of the wrong shape", "conv3d",
                        () -> BE.conv3dBackwardWeight(x, yFull, w2, null, down), yFull, yHalf),
                rejects("add of shapes that do not broadcast", "add", () -> BE.add(a, b, a), a, b),
                rejects("add of different ranks", "add", () -> BE.add(a, b4, a), a, b4),
                rejects("mul into an output of the wrong shape", "mul", () -> BE.mul(a, a, b), a, b),
                rejects("sumTo a shape that is not a reduction", "sumTo", () -> BE.sumTo(a, b), a, b),
                rejects("leakyRelu into an output of another shape", "leakyRelu",
                        () -> BE.pointwise(Pointwise.LEAKY_RELU, 0.2f, a, b), a, b),
                rejects("sigmoid into an output of another shape", "sigmoid",
                        () -> BE.pointwise(Pointwise.SIGMOID, 0f, a, b), a, b),
                rejects("leakyRelu backward with gx of another shape", "leakyRelu backward",
                        () -> BE.pointwiseBackward(Pointwise.LEAKY_RELU, 0.2f, a, null, a, b), a, b),
                rejects("sigmoid backward without the forward's output it reads", "sigmoid backward: needs the forward's output",
                        () -> BE.pointwiseBackward(Pointwise.SIGMOID, 0f, a, null, a, a)),
                rejects("leakyRelu backward without the forward's input it reads", "leakyRelu backward: needs the forward's input",
                        () -> BE.pointwiseBackward(Pointwise.LEAKY_RELU, 0.2f, null, a, a, a)),
                rejects("sigmoid given a parameter it does not take", "sigmoid: takes no parameter",
                        () -> BE.pointwise(Pointwise.SIGMOID, 0.2f, a, a)),
                rejects("scale into an output of another shape", "scale", () -> BE.scale(a, 2f, b), a, b),
                rejects("upsample2x into an output that is not twice the input", "upsample2x",
                        () -> BE.upsample2x(m1, a), m1, a),
                rejects("instanceNorm of a rank-4 input", "instanceNorm",
                        () -> BE.instanceNorm(b4, null, null, b4, t(2, 3), t(2, 3), 1e-5f), b4),
                rejects("instanceNorm with statistics of the wrong shape", "instanceNorm",
                        () -> BE.instanceNorm(a, null, null, a, t(2, 2), t(2, 2), 1e-5f), t(2, 3), t(2, 2)),
                rejects("instanceNormBackward with statistics of the wrong shape", "instanceNorm",
                        () -> BE.instanceNormBackward(a, a, t(2, 2), t(2, 2), null, a, null, null), t(2, 2)),
                rejects("softmaxChannels of a rank-4 input", "softmaxChannels", () -> BE.softmaxChannels(b4, b4), b4),
                rejects("concatChannels whose channels do not add up", "concatChannels",
                        () -> BE.concatChannels(new Tensor[]{m1, m1}, t(1, 5, 3, 3, 3)), t(1, 5, 3, 3, 3)),
                rejects("concatChannels of inputs with other spatial sizes", "concatChannels",
                        () -> BE.concatChannels(new Tensor[]{m1, m2}, t(1, 4, 3, 3, 3)), m2),
                rejects("sliceChannels past the last channel", "sliceChannels",
                        () -> BE.sliceChannels(m1, 1, t(1, 2, 3, 3, 3)), m1),
                rejects("dense with mismatched inner sizes", "dense", () -> BE.dense(dx, dw, null, dy), dx, dw),
                rejects("denseBackward with mismatched inner sizes", "dense",
                        () -> BE.denseBackward(dx, dw, dy, dx, dw, null), dx, dw),
                rejects("maskedSoftmax with a mask of another length", "maskedSoftmax",
                        () -> BE.maskedSoftmax(t(4), t(3), t(4)), t(4), t(3)),
                rejects("pairwiseCosine of maps of different shapes", "pairwiseCosine",
                        () -> BE.pairwiseCosine(new Tensor[]{m1, m2}, null, t(2, 2)), m1, m2),
                rejects("pairwiseCosine with a region that is not [N,1,D,H,W]", "pairwiseCosine",
                        () -> BE.pairwiseCosine(new Tensor[]{m1, m1}, region, t(2, 2)), region),
                rejects("pairwiseCosine into a matrix of the wrong size", "pairwiseCosine",
                        () -> BE.pairwiseCosine(new Tensor[]{m1, m1}, null, t(3, 3)), t(2, 2), t(3, 3)),
                rejects("weightedSum with a weight per map missing", "weightedSum",
                        () -> BE.weightedSum(new Tensor[]{m1, m1}, t(3), m1), t(3)),
                rejects("weightedSumBackward with a weight gradient of the wrong length", "weightedSum",
                        () -> BE.weightedSumBackward(new Tensor[]{m1, m1}, t(2), m1, new Tensor[]{m1, m1}, t(3)), t(2), t(3)),
                rejects("weightedSumBackward with fewer map gradients than maps", "weightedSum",
                        () -> BE.weightedSumBackward(new Tensor[]{m1, m1}, t(2), m1, new Tensor[]{m1}, null)),
                rejects("pairwiseCosineBackward with a region gradient of the wrong shape", "pairwiseCosine",
                        () -> BE.pairwiseCosineBackward(new Tensor[]{m1, m1}, t(1, 1, 3, 3, 3), t(2, 2), null,
                                t(1, 1, 3, 3, 2)), t(1, 1, 3, 3, 2)),
                rejects("pairwiseCosineBackward without a region, with a region gradient of the wrong shape",
                        "pairwiseCosine", () -> BE.pairwiseCosineBackward(new Tensor[]{m1, m1}, null, t(2, 2), null,
                                t(1, 1, 3, 3, 2)), t(1, 1, 3, 3, 2)),
                rejects("pairwiseCosineBackward with fewer map gradients than maps", "pairwiseCosine",
                        () -> BE.pairwiseCosineBackward(new Tensor[]{m1, m1}, null, t(2, 2), new Tensor[]{m1}, null), m1),
                rejects("binaryCrossEntropyBackward with a non-scalar upstream gradient", "binaryCrossEntropy",
                        () -> BE.binaryCrossEntropyBackward(p, p, loss2, p), loss2),
                rejects("weightedCrossEntropy with a target of another shape", "weightedCrossEntropy",
                        () -> BE.weightedCrossEntropy(p, target, loss), p, target),
                rejects("softDice with a non-scalar loss", "softDice", () -> BE.softDice(p, p, loss2), loss2),
                rejects("binaryCrossEntropy with a target of another shape", "binaryCrossEntropy",
                        () -> BE.binaryCrossEntropy(p, target, loss), p, target),
                rejects("adamStep with a gradient of another shape", "adamStep",
                        () -> BE.adamStep(a, b, a, a, a, 1e-3f, 1, AdamConfig.cloe()), a, b),
                rejects("adamStep with amsgrad but no vmax state", "adamStep",
                        () -> BE.adamStep(a, a, a, a, null, 1e-3f, 1, AdamConfig.cloe())),
                rejects("addInPlace of another shape", "addInPlace", () -> BE.addInPlace(a, b), a, b),
                rejects("copy between different sizes", "copy", () -> BE.copy(a, b), a, b),
                rejects("fromHost with an array of the wrong length", "fromHost",
                        () -> BE.fromHost(Shape.of(2, 3), new float[5]), t(2, 3)));
    }

    @Test
    void maskedSoftmaxWithAnAllZeroMaskIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BE.maskedSoftmax(BE.fromHost(Shape.of(3), new float[]{1, 2, 3}), BE.zeros(Shape.of(3)), t(3)),
                "maskedSoftmax must refuse a mask that selects nothing");
        assertTrue(e.getMessage().contains("maskedSoftmax"), "message must name the op: " + e.getMessage());
    }

    /** A loss op hands a NaN prediction on as a NaN loss (the trainer's one check then stops the run). */
    private static float lossOf(java.util.function.Consumer<Tensor> op) {
        Tensor loss = t(1);
        op.accept(loss);
        return BE.toHost(loss)[0];
    }

    private static void assertNanLossIsReported(int nanIndex) {
        Shape s = Shape.ncdhw(1, 2, 1, 1, 2);
        float[] p = {0.3f, 0.6f, 0.7f, 0.4f};
        float[] y = {1, 0, 0, 1}; // voxel 0 is class 0, voxel 1 is class 1
        p[nanIndex] = Float.NaN;
        float loss = lossOf(l -> BE.weightedCrossEntropy(BE.fromHost(s, p), BE.fromHost(s, y), l));
        assertTrue(Float.isNaN(loss), "weightedCrossEntropy of probabilities " + Arrays.toString(p)
                + " must give a NaN loss, got " + loss);
    }

    @Test
    void weightedCrossEntropyReportsANanProbabilityOfTheTargetClass() {
        assertNanLossIsReported(0);
    }

    @Test
    void softDiceReportsANanProbability() {
        Shape s = Shape.ncdhw(1, 2, 1, 1, 2);
        Tensor p = BE.fromHost(s, new float[]{0.3f, Float.NaN, 0.7f, 0.4f});
        float loss = lossOf(l -> BE.softDice(p, BE.fromHost(s, new float[]{1, 0, 0, 1}), l));
        assertTrue(Float.isNaN(loss), "softDice of a NaN probability must give a NaN loss, got " + loss);
    }

    @Test
    void binaryCrossEntropyReportsANanProbability() {
        Shape s = Shape.ncdhw(1, 1, 1, 2, 2);
        Tensor p = BE.fromHost(s, new float[]{0.3f, Float.NaN, 0.7f, 0.4f});
        float loss = lossOf(l -> BE.binaryCrossEntropy(p, BE.fromHost(s, new float[]{1, 0, 0, 1}), l));
        assertTrue(Float.isNaN(loss), "binaryCrossEntropy of a NaN probability must give a NaN loss, got " + loss);
    }

    @Test
    void weightedCrossEntropyReportsANanProbabilityOfAnotherClass() {
        // PyTorch's loss is NaN here too (0 · log NaN = NaN): a broken prediction must not pass silently
        assertNanLossIsReported(1);
    }
}
