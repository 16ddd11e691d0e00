package org.cloe4j.backend;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test method that runs {@link GradCheck} on the named {@link Backend} ops (forward against a double
 * reference, backward against central differences). {@link GradCheckCoverageTest} reads these annotations to fail
 * when an op of the backend has no gradient check.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface GradCheckCase {
    /** Names of the forward ops of {@link Backend} this test checks, e.g. {@code "conv3d"}. */
    String[] value();
}
