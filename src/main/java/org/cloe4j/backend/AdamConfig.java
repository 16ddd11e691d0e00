package org.cloe4j.backend;

/**
 * Adam hyper-parameters with PyTorch's semantics: weight decay is added to the gradient (L2, not AdamW), and
 * {@code amsgrad} keeps the running maximum of the second moment.
 */
public record AdamConfig(float beta1, float beta2, float eps, float weightDecay, boolean amsgrad) {
    /** CLoE's settings: betas (0.9, 0.999), eps 1e-8, weight decay 1e-4, amsgrad. */
    public static AdamConfig cloe() {
        return new AdamConfig(0.9f, 0.999f, 1e-8f, 1e-4f, true);
    }
}
