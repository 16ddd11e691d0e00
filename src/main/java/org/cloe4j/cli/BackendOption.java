package org.cloe4j.cli;

import org.cloe4j.backend.Backend;
import org.cloe4j.backend.Backends;

import picocli.CommandLine.Option;

/** {@code --backend cpu|cuda|auto}: which backend computes (default: cloe.backend, else the best available). */
final class BackendOption {
    @Option(names = "--backend", paramLabel = "NAME", description = "cpu, cuda or auto (default: auto)", defaultValue = "auto")
    String name;

    Backend get() {
        return Backends.named(name);
    }
}
