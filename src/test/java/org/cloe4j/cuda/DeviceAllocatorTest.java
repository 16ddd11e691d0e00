package org.cloe4j.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The allocator's size classes and the launch-argument checks: pure Java, no GPU needed. */
class DeviceAllocatorTest {

    @Test
    void smallRequestsRoundUpTo512Bytes() {
        assertEquals(512, DeviceAllocator.sizeClass(1));
        assertEquals(512, DeviceAllocator.sizeClass(512));
        assertEquals(1024, DeviceAllocator.sizeClass(513));
        assertEquals(1 << 20, DeviceAllocator.sizeClass(1 << 20));
    }

    @Test
    void largeRequestsWasteAtMostAnEighth() {
        for (long b = (1 << 20) + 1; b < (1L << 34); b = b * 3 / 2 + 7) {
            long c = DeviceAllocator.sizeClass(b);
            assertTrue(c >= b && c - b <= b / 8 + 1, b + " -> " + c);
            assertEquals(c, DeviceAllocator.sizeClass(c), "a class is its own class");
        }
    }

    @Test
    void launchArgumentsAreCheckedAgainstTheHeader() {
        KernelArgs.check("cloe_scale", new Object[]{1L, 2f, 3L, 4});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KernelArgs.check("cloe_scale", new Object[]{1L, 2, 3L, 4}));
        assertTrue(e.getMessage().contains("cloe_scale") && e.getMessage().contains("parameter 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KernelArgs.check("cloe_scale", new Object[]{1L}));
        assertThrows(IllegalArgumentException.class, () -> KernelArgs.check("no_such_kernel", new Object[0]));
    }
}
