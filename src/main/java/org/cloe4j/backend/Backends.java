package org.cloe4j.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Finds backends through {@link ServiceLoader}. The system property {@code cloe.backend} (or an explicit name)
 * forces one; otherwise the available backend of highest priority wins. Probing never throws.
 */
public final class Backends {
    private static volatile List<Backend> all;

    private Backends() {
    }

    /** Every backend on the class path, available or not, best first. */
    public static synchronized List<Backend> all() {
        if (all == null) {
            List<Backend> found = new ArrayList<>();
            for (ServiceLoader.Provider<Backend> p : ServiceLoader.load(Backend.class).stream().toList()) {
                try {
                    found.add(p.get());
                } catch (Throwable t) {
                    // A backend whose class cannot even be created is simply absent here.
                }
            }
            found.sort(Comparator.comparingInt(Backend::priority).reversed());
            all = List.copyOf(found);
        }
        return all;
    }

    /** The backend named by {@code cloe.backend}, or the best available one. */
    public static Backend pick() {
        String forced = System.getProperty("cloe.backend");
        if (forced != null && !forced.isBlank() && !forced.equals("auto")) return named(forced);
        return best(all(), System.err);
    }

    /**
     * The first available backend of {@code candidates} (best first). A better one skipped because it is
     * {@link Backend#misconfigured() misconfigured} is named on {@code warnings} with its reason: a bad option must
     * not silently move the work to a slower backend.
     */
    public static Backend best(List<Backend> candidates, java.io.PrintStream warnings) {
        for (Backend b : candidates) {
            if (safeAvailable(b)) return b;
            if (safeMisconfigured(b)) {
                warnings.println("warning: backend '" + b.name() + "' skipped: " + b.unavailableReason());
            }
        }
        throw new IllegalStateException("no backend available (found: "
                + candidates.stream().map(Backend::name).toList() + ")");
    }

    private static boolean safeMisconfigured(Backend b) {
        try {
            return b.misconfigured();
        } catch (Throwable t) {
            return false;
        }
    }

    /** The backend with this name; throws, saying why, when it is absent or unavailable here. */
    public static Backend named(String name) {
        if (name == null || name.equals("auto")) return pick();
        for (Backend b : all()) {
            if (b.name().equalsIgnoreCase(name)) {
                if (!safeAvailable(b)) {
                    throw new IllegalStateException("backend '" + name + "' is not available here: " + b.unavailableReason());
                }
                return b;
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "' (known: " + names() + ")");
    }

    private static boolean safeAvailable(Backend b) {
        try {
            return b.isAvailable();
        } catch (Throwable t) {
            return false;
        }
    }

    private static List<String> names() {
        return all().stream().map(Backend::name).toList();
    }
}
