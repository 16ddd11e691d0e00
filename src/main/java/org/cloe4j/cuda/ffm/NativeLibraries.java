package org.cloe4j.cuda.ffm;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Finds the shared libraries the generated bindings call, lazily: nothing is opened until the first function of a
 * library is used, so loading a binding class on a machine without a GPU never fails. The outcome of each lookup,
 * success (which file) or failure (why), is kept and can be asked for with {@link #describe(Library)}.
 *
 * <p>libcuda comes from the loader path ({@code libcuda.so.1}, installed with the driver). cuDNN is looked for, in
 * order: the environment variable {@code CLOE_CUDNN} or system property {@code cloe.cudnn} naming the file; the folder
 * the machine's {@code python3} imports {@code nvidia.cudnn} from ({@link LibrarySearch#pythonPackageDirs}); the
 * Python {@code nvidia} packages in the usual site-packages folders (where pip and PyTorch put them:
 * {@code nvidia/cudnn/lib/libcudnn.so.9}); the folders {@code python3} itself reports; the loader path. cuDNN's
 * sub-libraries beside the file found are opened first by full path ({@link LibrarySearch#siblings}), since
 * {@code libcudnn.so.9} opens them by name.
 */
@SuppressWarnings("restricted")
public final class NativeLibraries {

    /** The libraries with generated bindings. */
    public enum Library {
        CUDA("libcuda.so.1", null, null, List.of()),
        CUDNN("libcudnn.so.9", "CLOE_CUDNN", "cloe.cudnn",
                List.of("nvidia/cudnn/lib/libcudnn.so.9", "nvidia/cu13/lib/libcudnn.so.9"));

        final String soname;
        final String env;
        final String property;
        final List<String> sitePackagePaths;

        Library(String soname, String env, String property, List<String> sitePackagePaths) {
            this.soname = soname;
            this.env = env;
            this.property = property;
            this.sitePackagePaths = sitePackagePaths;
        }
    }

    private record Loaded(SymbolLookup lookup, String file, String error) {
    }

    private static final Map<Library, Loaded> LOADED = new EnumMap<>(Library.class);

    private NativeLibraries() {
    }

    /** The address of {@code symbol} in {@code lib}; throws (saying what was tried) when either is missing. */
    public static MemorySegment find(Library lib, String symbol) {
        Loaded l = load(lib);
        if (l.lookup == null) throw new UnsatisfiedLinkError(lib.soname + " is not available: " + l.error);
        return l.lookup.find(symbol).orElseThrow(() ->
                new UnsatisfiedLinkError("symbol " + symbol + " not found in " + l.file));
    }

    /** Whether the library can be opened here (opens it on the first call). Never throws. */
    public static boolean isAvailable(Library lib) {
        return load(lib).lookup != null;
    }

    /** "loaded FILE" or "not available: WHY". Never throws. */
    public static String describe(Library lib) {
        Loaded l = load(lib);
        return l.lookup != null ? "loaded " + l.file : "not available: " + l.error;
    }

    private static synchronized Loaded load(Library lib) {
        Loaded l = LOADED.get(lib);
        if (l == null) {
            l = open(lib);
            LOADED.put(lib, l);
        }
        return l;
    }

    /**
     * Whether the CUDA simulator stands in for libcuda.so.1: only when asked for explicitly, with
     * {@code -Dcloe.cuda.driver=sim} or the environment variable {@code CLOE_CUDA_SIM=1}; never chosen on its own.
     */
    public static boolean simulatorSelected() {
        String p = System.getProperty("cloe.cuda.driver");
        if (p != null && !p.isBlank()) {
            if (p.strip().equals("sim")) return true;
            if (p.strip().equals("real")) return false;
            throw new IllegalArgumentException("-Dcloe.cuda.driver must be real or sim, got '" + p + "'");
        }
        return "1".equals(System.getenv("CLOE_CUDA_SIM"));
    }

    /** The simulated driver's file: {@code -Dcloe.cuda.sim.lib} or {@code target/sim/libcuda.so.1} (scripts/build-sim). */
    public static String simulatorLibrary() {
        String p = System.getProperty("cloe.cuda.sim.lib");
        return p != null && !p.isBlank() ? p.strip() : Path.of("target/sim/libcuda.so.1").toAbsolutePath().toString();
    }

    private static Loaded open(Library lib) {
        List<String> tried = new ArrayList<>();
        if (lib == Library.CUDA && simulatorSelected()) {
            // The simulated driver (kernels/sim) and nothing else: a missing build must not fall back to a real GPU.
            String file = simulatorLibrary();
            if (!Files.isRegularFile(Path.of(file))) {
                return new Loaded(null, null, "the CUDA simulator was selected (cloe.cuda.driver=sim / CLOE_CUDA_SIM=1) but "
                        + file + " does not exist (scripts/build-sim builds it; it needs g++ or clang++)");
            }
            SymbolLookup l = tryOpen(file, tried);
            return l != null ? new Loaded(l, file + " (simulated)", null) : new Loaded(null, null, "cannot open " + file + ": " + tried);
        }
        String forced = lib.env == null ? null : firstNonBlank(System.getProperty(lib.property), System.getenv(lib.env));
        if (forced != null) {
            // A file named explicitly is the only one tried: silently falling back would hide a typo.
            String pre = forced.contains("/") ? preloaded(lib, Path.of(forced)) : "";
            SymbolLookup l = tryOpen(forced, tried);
            return l != null ? new Loaded(l, forced + pre, null)
                    : new Loaded(null, null, "cannot open " + forced + " (named by " + lib.property + " / " + lib.env + "): " + tried);
        }
        // the package as the machine's Python imports it (wherever pip, conda or a venv put it)
        String module = pythonModule(lib);
        if (module != null) {
            for (Path dir : LibrarySearch.pythonPackageDirs("python3", module)) {
                Path p = dir.resolve("lib").resolve(lib.soname);
                if (!Files.isRegularFile(p)) continue;
                String pre = preloaded(lib, p);
                SymbolLookup l = tryOpen(p.toString(), tried);
                if (l != null) return new Loaded(l, p + " (python3's " + module + ")" + pre, null);
            }
        }
        for (boolean askPython : new boolean[]{false, true}) {
            if (lib.sitePackagePaths.isEmpty()) break;
            for (Path dir : sitePackages(askPython)) {
                for (String rel : lib.sitePackagePaths) {
                    Path p = dir.resolve(rel);
                    if (!Files.isRegularFile(p)) continue;
                    String pre = preloaded(lib, p);
                    SymbolLookup l = tryOpen(p.toString(), tried);
                    if (l != null) return new Loaded(l, p + pre, null);
                }
            }
        }
        SymbolLookup l = tryOpen(lib.soname, tried);
        if (l != null) return new Loaded(l, lib.soname + " (from the loader path)", null);
        return new Loaded(null, null, "tried " + String.join("; ", tried));
    }

    /** The Python package that ships {@code lib} in pip's layout ({@code <package>/lib/<soname>}), or null. */
    private static String pythonModule(Library lib) {
        return switch (lib) {
            case CUDNN -> "nvidia.cudnn";
            default -> null;
        };
    }

    /**
     * Opens {@code lib}'s sibling sub-libraries beside {@code front} by full path, in dependency order, so that the
     * front library's own by-name opens find them; returns a note for {@link #describe} ("" when there are none).
     */
    private static String preloaded(Library lib, Path front) {
        if (lib != Library.CUDNN) return "";
        List<String> ok = new ArrayList<>(), failed = new ArrayList<>();
        for (Path sub : LibrarySearch.siblings(front, LibrarySearch.CUDNN_ORDER)) {
            List<String> why = new ArrayList<>();
            if (tryOpen(sub.toString(), why) != null) ok.add(sub.getFileName().toString());
            else failed.add(String.join("; ", why));
        }
        if (ok.isEmpty() && failed.isEmpty()) return "";
        return " (preloaded " + ok.size() + " sub-libraries" + (ok.isEmpty() ? "" : ": " + String.join(", ", ok))
                + (failed.isEmpty() ? "" : "; could not open: " + String.join("; ", failed)) + ")";
    }

    private static SymbolLookup tryOpen(String nameOrPath, List<String> tried) {
        try {
            return nameOrPath.contains("/")
                    ? SymbolLookup.libraryLookup(Path.of(nameOrPath), Arena.global())
                    : SymbolLookup.libraryLookup(nameOrPath, Arena.global());
        } catch (IllegalArgumentException | UnsatisfiedLinkError | IllegalCallerException e) {
            tried.add(nameOrPath + " (" + e.getMessage() + ")");
            return null;
        }
    }

    /** Candidate site-packages folders; with {@code askPython}, the ones python3 reports (slower: a subprocess). */
    static List<Path> sitePackages(boolean askPython) {
        List<Path> out = new ArrayList<>();
        if (askPython) {
            try {
                Process p = new ProcessBuilder("python3", "-c",
                        "import site, sys; print('\\n'.join(site.getsitepackages() + [site.getusersitepackages()] + sys.path))")
                        .redirectErrorStream(true).start();
                if (p.waitFor(10, TimeUnit.SECONDS)) {
                    for (String s : new String(p.getInputStream().readAllBytes()).split("\n")) {
                        if (!s.isBlank() && Files.isDirectory(Path.of(s.strip()))) out.add(Path.of(s.strip()));
                    }
                } else {
                    p.destroyForcibly();
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                // no python3 here: nothing more to look at
            }
            return out;
        }
        String home = System.getProperty("user.home", "/root");
        List<String> roots = List.of("/usr/local/lib", "/usr/lib", home + "/.local/lib", "/opt/conda/lib", "/usr/lib64");
        for (String root : roots) {
            Path r = Path.of(root);
            if (!Files.isDirectory(r)) continue;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(r, "python3*")) {
                for (Path py : ds) {
                    for (String sub : List.of("site-packages", "dist-packages")) {
                        Path sp = py.resolve(sub);
                        if (Files.isDirectory(sp)) out.add(sp);
                    }
                }
            } catch (IOException e) {
                // unreadable folder: skip it
            }
        }
        out.add(Path.of("/usr/lib/python3/dist-packages"));
        return out;
    }

    private static String firstNonBlank(String a, String b) {
        if (a != null && !a.isBlank()) return a.strip();
        if (b != null && !b.isBlank()) return b.strip();
        return null;
    }
}
