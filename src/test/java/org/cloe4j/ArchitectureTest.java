package org.cloe4j;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import com.tngtech.archunit.library.Architectures;
import org.cloe4j.tensor.LayerViolationFixture;
import org.junit.jupiter.api.Test;

/**
 * The layer order of the README's layout table, enforced: each package of {@code src/main} may use only the
 * packages before it in {@link #LAYERS} (sub-packages belong to their layer: {@code backend.cpu} to backend,
 * {@code cuda.ffm} to cuda). A second test runs the same rule over a class that breaks it, so the rule is known to
 * catch a violation and not merely to pass.
 */
class ArchitectureTest {
    /** Lowest first. */
    static final List<String> LAYERS = List.of("tensor", "io", "data", "backend", "cuda", "graph", "nn", "model",
            "infer", "train", "eval", "api", "spark", "cli");

    static ArchRule layers() {
        Architectures.LayeredArchitecture arch = Architectures.layeredArchitecture().consideringOnlyDependenciesInLayers()
                .withOptionalLayers(true);
        for (String l : LAYERS) arch = arch.layer(l).definedBy("org.cloe4j." + l + "..");
        arch = arch.whereLayer(LAYERS.get(0)).mayNotAccessAnyLayer();
        for (int i = 1; i < LAYERS.size(); i++) {
            arch = arch.whereLayer(LAYERS.get(i)).mayOnlyAccessLayers(LAYERS.subList(0, i).toArray(String[]::new));
        }
        return arch;
    }

    @Test
    void everyPackageUsesOnlyTheLayersBeforeIt() throws Exception {
        // the main classes' folder (or jar) itself: scanning the whole class path for the package is much slower
        Path mainClasses = Path.of(org.cloe4j.cli.Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        JavaClasses main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPath(mainClasses);
        // an import that found nothing would pass any rule (layers are optional for the fixture test below): make
        // sure every layer was seen
        for (String l : LAYERS) {
            assertTrue(main.stream().anyMatch(c -> c.getPackageName().startsWith("org.cloe4j." + l)),
                    "no main class found in layer " + l);
        }
        layers().check(main);
    }

    @Test
    void theRuleReportsALowLayerThatReachesAHighOne() {
        JavaClasses classes = new ClassFileImporter().importClasses(LayerViolationFixture.class,
                org.cloe4j.cli.Main.class, org.cloe4j.tensor.Shape.class);
        EvaluationResult r = layers().evaluate(classes);
        assertTrue(r.hasViolation(), "tensor → cli must be reported");
        String report = String.join("\n", r.getFailureReport().getDetails());
        assertTrue(report.contains(LayerViolationFixture.class.getName()) && report.contains("org.cloe4j.cli.Main"),
                report);
        // and the same rule passes the fixture's legal neighbour alone
        assertFalse(layers().evaluate(new ClassFileImporter().importClasses(org.cloe4j.tensor.Shape.class)).hasViolation());
    }
}
