package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.gen.HeaderParser;
import org.cloe4j.cuda.ffm.gen.HeaderParser.Header;
import org.cloe4j.cuda.ffm.gen.HeaderParser.Kind;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeaderParserTest {

    private static final String HEAD = "/* cloe4j-bind: class=t_h library=cuda */\n";

    @Test
    void opaqueHandleTypedefsBecomePointers() {
        Header h = HeaderParser.parse("t.h", HEAD + "typedef struct CUctx_st *CUcontext;\nint f(CUcontext c);\n");
        assertEquals(Kind.POINTER, h.typedefs().getFirst().type().kind());
        assertEquals(Kind.POINTER, h.functions().getFirst().params().getFirst().type().kind());
    }

    @Test
    void scalarTypedefsResolveToTheirWidth() {
        Header h = HeaderParser.parse("t.h", HEAD + "typedef unsigned long long CUdeviceptr;\ntypedef int CUresult;\n"
                + "CUresult cuMemFree_v2(CUdeviceptr dptr);\n");
        var f = h.functions().getFirst();
        assertEquals("cuMemFree_v2", f.name(), "versioned symbols keep their exported name");
        assertEquals(Kind.INT, f.returnType().kind());
        assertEquals(Kind.LONG, f.params().getFirst().type().kind());
        assertEquals("dptr", f.params().getFirst().name());
    }

    @Test
    void integerDefinesBecomeConstantsAndOtherDirectivesAreIgnored() {
        Header h = HeaderParser.parse("t.h", HEAD + "#define A 7\n#define B 0x10\n#ifdef X\n#define K extern \"C\"\n#endif\n");
        assertEquals(2, h.constants().size());
        assertEquals(16, h.constants().get(1).value());
    }

    @Test
    void prototypesSpanLinesAndKeepTheirCText() {
        Header h = HeaderParser.parse("t.h", HEAD + "int g(const char *name,\n      unsigned int flags,\n float f);\nvoid h(void);\n");
        var g = h.functions().getFirst();
        assertEquals(3, g.params().size());
        assertEquals(Kind.POINTER, g.params().get(0).type().kind());
        assertEquals(Kind.FLOAT, g.params().get(2).type().kind());
        assertEquals("int g(const char *name, unsigned int flags, float f);", g.prototype());
        assertEquals(0, h.functions().get(1).params().size());
        assertEquals(Kind.VOID, h.functions().get(1).returnType().kind());
    }

    @Test
    void unknownTypeFailsNamingTheLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HeaderParser.parse("t.h", HEAD + "\nint f(mystery_t m);\n"));
        assertTrue(e.getMessage().contains("t.h:3") && e.getMessage().contains("mystery_t"), e.getMessage());
    }

    @Test
    void headerWithoutDirectiveIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> HeaderParser.parse("t.h", "int f(void);"));
    }

    @Test
    void kernelHeaderParsesWithItsExportMacro() throws Exception {
        Header h = HeaderParser.parse("native/cloe_kernels.h", Files.readString(Path.of("native/cloe_kernels.h")));
        assertTrue(h.isKernels());
        assertTrue(h.functions().size() > 40, "kernels found: " + h.functions().size());
        h.functions().forEach(f -> assertEquals(Kind.VOID, f.returnType().kind(), f.name() + " must return void"));
    }
}
