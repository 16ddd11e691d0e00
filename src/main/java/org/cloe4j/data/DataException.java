package org.cloe4j.data;

import java.nio.file.Path;

/**
 * Bad input or output on the data path: a file that is not what it should be (wrong magic, unknown datatype,
 * truncated, inconsistent with its siblings), values that cannot be used (NaN voxels, unknown labels) or a layout
 * that does not match what a cohort needs. The message always names the file (when there is one) and the problem.
 */
public final class DataException extends RuntimeException {

    private final transient Path file;

    /** A problem with {@code file} (may be null when no single file is at fault). */
    public DataException(Path file, String problem) {
        super(file == null ? problem : file + ": " + problem);
        this.file = file;
    }

    /** A problem with {@code file} caused by a lower-level exception, typically an {@link java.io.IOException}. */
    public DataException(Path file, String problem, Throwable cause) {
        super((file == null ? problem : file + ": " + problem)
                + (cause == null || cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")"), cause);
        this.file = file;
    }

    /** The file at fault, or null. */
    public Path file() {
        return file;
    }
}
