package org.cloe4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;

/**
 * Fails when an op of the backend has no gradient check. The differentiable ops are read from {@link Backend} by
 * reflection: every method {@code foo} with a {@code fooBackward*} method (conv3d has two). The checked ops are read
 * from the {@link GradCheckCase} annotations on the test methods of every test class compiled next to this one.
 */
class GradCheckCoverageTest {

    /** Ops whose backward is made of other ops (the graph runtime's rule), checked with that composition. */
    private static final Set<String> BACKWARD_BY_OTHER_OPS =
            Set.of("scale", "add", "mul", "sumTo", "concatChannels", "sliceChannels", "instanceNormLeakyRelu");

    /** Methods of Backend that are not differentiable ops: identity, memory, and the optimiser (AdamStepTest). */
    private static final Set<String> NOT_DIFFERENTIABLE = Set.of("name", "priority", "isAvailable",
            "unavailableReason", "misconfigured", "allocate", "release", "zeros", "fromHost", "toHost", "copy", "fill", "addInPlace",
            "bytesInUse", "peakBytes", "resetPeak", "synchronize", "close", "adamStep");

    static Set<String> backendMethods() {
        return Arrays.stream(Backend.class.getMethods()).map(Method::getName).collect(Collectors.toCollection(TreeSet::new));
    }

    /** Forward ops with a {@code <name>Backward*} method in Backend. */
    static Set<String> opsWithBackward() {
        Set<String> names = backendMethods();
        return names.stream()
                .filter(n -> !n.contains("Backward"))
                .filter(n -> names.stream().anyMatch(m -> m.startsWith(n + "Backward")))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Every test class compiled in this package's directory (and below), loaded by name. */
    static List<Class<?>> testClasses() {
        try {
            Path root = Path.of(GradCheck.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path dir = root.resolve(GradCheck.class.getPackageName().replace('.', '/'));
            try (Stream<Path> files = Files.walk(dir)) {
                return files.map(p -> root.relativize(p).toString())
                        .filter(p -> p.endsWith(".class") && !p.contains("$"))
                        .map(p -> p.substring(0, p.length() - ".class".length()).replace('/', '.').replace('\\', '.'))
                        .map(GradCheckCoverageTest::load)
                        .toList();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name, false, GradCheckCoverageTest.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Op names of every {@link GradCheckCase} on a method that JUnit runs. */
    static Set<String> checkedOps() {
        Set<String> ops = new TreeSet<>();
        for (Class<?> c : testClasses()) {
            for (Method m : c.getDeclaredMethods()) {
                GradCheckCase g = m.getAnnotation(GradCheckCase.class);
                if (g == null) continue;
                boolean runs = m.isAnnotationPresent(Test.class) || m.isAnnotationPresent(ParameterizedTest.class)
                        || m.isAnnotationPresent(TestFactory.class);
                assertTrue(runs, c.getSimpleName() + "." + m.getName() + " has @GradCheckCase but is not a test JUnit runs");
                ops.addAll(Arrays.asList(g.value()));
            }
        }
        return ops;
    }

    @Test
    void theScanFindsTheOpTestClasses() {
        List<String> names = testClasses().stream().map(Class::getSimpleName).toList();
        assertTrue(names.contains("Conv3dGradTest") && names.contains("LossGradTest") && names.contains("GradCheck"),
                "the class scan must find the op tests; found " + names);
        assertFalse(checkedOps().isEmpty(), "no @GradCheckCase found: the coverage check would pass vacuously");
    }

    @Test
    void everyOpWithABackwardHasAGradientCheck() {
        Set<String> differentiable = opsWithBackward();
        // the reflection rule must find the ops we know are differentiable, or it checks nothing
        assertTrue(differentiable.containsAll(Set.of("conv3d", "instanceNorm", "pairwiseCosine", "softDice")),
                "differentiable ops found by reflection: " + differentiable);
        Set<String> missing = new TreeSet<>(differentiable);
        missing.removeAll(checkedOps());
        assertEquals(Set.of(), missing, "ops of Backend with a backward but no @GradCheckCase test");
    }

    @Test
    void everyOpWhoseBackwardIsOtherOpsHasAGradientCheck() {
        Set<String> missing = new TreeSet<>(BACKWARD_BY_OTHER_OPS);
        missing.removeAll(checkedOps());
        assertEquals(Set.of(), missing, "ops whose backward is composed of other ops but have no @GradCheckCase test");
    }

    @Test
    void everyBackendMethodIsClassified() {
        // a new op added to Backend must either get a backward (and so a gradient check) or be classified here
        Set<String> unclassified = new TreeSet<>();
        for (String m : backendMethods()) {
            if (m.contains("Backward") || opsWithBackward().contains(m) || BACKWARD_BY_OTHER_OPS.contains(m)
                    || NOT_DIFFERENTIABLE.contains(m) || isObjectMethod(m)) {
                continue;
            }
            unclassified.add(m);
        }
        assertEquals(Set.of(), unclassified, "Backend methods that are neither checked ops nor known non-differentiable");
    }

    @Test
    void everyGradCheckCaseNamesARealBackendOp() {
        Set<String> unknown = new TreeSet<>(checkedOps());
        unknown.removeAll(backendMethods());
        if (!unknown.isEmpty()) fail("@GradCheckCase names that are not Backend methods (typos?): " + unknown);
    }

    private static boolean isObjectMethod(String name) {
        return Arrays.stream(Object.class.getMethods()).anyMatch(m -> m.getName().equals(name));
    }
}
