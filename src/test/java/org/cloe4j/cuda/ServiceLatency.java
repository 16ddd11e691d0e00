package org.cloe4j.cuda;

import org.cloe4j.data.Modality;
import org.cloe4j.infer.CapturedInference;

import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The GPU suite's service stage: what a caller of a segmentation service waits for per request, host wall time from
 * the images in host memory to the prediction back in host memory, captured-graph replay against the same graph run
 * uncaptured (paper preset, base 16, four sequences; windows 32³ and 64³, where launch overhead weighs most).
 * Medians and 95th percentiles over {@code requests} requests after two warm-up requests.
 */
final class ServiceLatency {
    private ServiceLatency() {
    }

    static List<String> run(CudaBackend g, int requests) {
        List<Modality> mods = CloeConfig.BRATS;
        List<String> rows = new ArrayList<>(List.of(
                "### Captured-graph service latency (host wall ms per request, images in, prediction out; " + requests + " requests)",
                "", "| window | uncaptured p50 | uncaptured p95 | captured p50 | captured p95 | speed-up (p50) |",
                "|---|---|---|---|---|---|"));
        for (int win : new int[]{32, 64}) {
            CloeModel m = new CloeModel(CloeConfig.paper(mods, 4).withArchitecture(16, win), g);
            CloeModel.Built b = m.inference(ModalityMask.full(mods), win, true);
            Map<String, float[]> images = new HashMap<>();
            SplittableRandom r = new SplittableRandom(win);
            b.graph().inputShapes().forEach((name, shape) -> {
                float[] v = new float[shape.intSize()];
                for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
                images.put(name, v);
            });
            try (CapturedInference ci = new CapturedInference(b, g)) {
                double[] un = time(requests, () -> {
                    ci.setInputs(images);
                    ci.predictUncaptured();
                });
                double[] cap = time(requests, () -> ci.predict(images));
                rows.add(String.format(Locale.ROOT, "| %d³ | %.2f | %.2f | %.2f | %.2f | %.1fx |", win, un[0], un[1], cap[0], cap[1],
                        un[0] / cap[0]));
            }
        }
        return rows;
    }

    /** {p50, p95} in ms of {@code n} calls after two warm-up calls. */
    private static double[] time(int n, Runnable call) {
        for (int i = 0; i < 2; i++) call.run();
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            call.run();
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        Arrays.sort(ms);
        return new double[]{ms[n / 2], ms[Math.min(n - 1, (int) Math.ceil(0.95 * n) - 1)]};
    }
}
