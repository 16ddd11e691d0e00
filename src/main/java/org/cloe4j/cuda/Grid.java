package org.cloe4j.cuda;

/** A kernel launch's geometry: grid x, y, z blocks of {@code block} threads (one-dimensional blocks). */
record Grid(int x, int y, int z, int block) {
    Grid {
        if (x < 1 || y < 1 || z < 1 || block < 1) throw new IllegalArgumentException("grid " + x + "x" + y + "x" + z + " block " + block);
    }

    /** A one-dimensional grid. */
    static Grid of(int blocks, int block) {
        return new Grid(blocks, 1, 1, block);
    }
}
