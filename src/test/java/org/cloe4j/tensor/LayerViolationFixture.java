package org.cloe4j.tensor;

/**
 * A deliberate layer violation for {@code ArchitectureTest}: a class in the lowest layer (tensor) that uses the
 * highest (cli). It lives in the test sources only, so the main classes stay clean.
 */
public final class LayerViolationFixture {
    private LayerViolationFixture() {
    }

    public static String reachUp() {
        return org.cloe4j.cli.Main.class.getName() + new org.cloe4j.cli.Main().hashCode();
    }
}
