package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.cloe_kernels_h;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.List;

/** Checks launch arguments against the kernel's generated descriptor (shared by both launch paths). */
public final class KernelArgs {
    private KernelArgs() {
    }

    public static List<MemoryLayout> check(String kernel, Object[] args) {
        FunctionDescriptor d = cloe_kernels_h.descriptorOf(kernel);
        if (d == null) throw new IllegalArgumentException("no kernel '" + kernel + "' in native/cloe_kernels.h");
        List<MemoryLayout> params = d.argumentLayouts();
        if (params.size() != args.length) {
            throw new IllegalArgumentException("kernel " + kernel + " takes " + params.size() + " arguments, got " + args.length);
        }
        for (int i = 0; i < args.length; i++) {
            MemoryLayout l = params.get(i);
            Object a = args[i];
            boolean ok = switch (l) {
                case ValueLayout.OfInt ignored -> a instanceof Integer;
                case ValueLayout.OfFloat ignored -> a instanceof Float;
                case ValueLayout.OfLong ignored -> a instanceof Long;
                case java.lang.foreign.AddressLayout ignored -> a instanceof Long;
                default -> false;
            };
            if (!ok) {
                throw new IllegalArgumentException("kernel " + kernel + " parameter " + i + " is " + l + ", got "
                        + (a == null ? "null" : a.getClass().getSimpleName() + " " + a));
            }
        }
        return params;
    }
}
