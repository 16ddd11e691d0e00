package org.cloe4j.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which cuDNN statuses send a fixed legacy algorithm to the algorithm search (no cuDNN needed). */
class CudnnFallbackTest {
    @Test
    void notSupportedIsCudnn9sClassAndCudnn8sCode() {
        assertTrue(CudnnConv.notSupported(3000), "CUDNN_STATUS_NOT_SUPPORTED");
        assertTrue(CudnnConv.notSupported(3002), "a NOT_SUPPORTED sub-code (e.g. shape)");
        assertTrue(CudnnConv.notSupported(9), "cuDNN 8's NOT_SUPPORTED");
        assertFalse(CudnnConv.notSupported(0), "success");
        assertFalse(CudnnConv.notSupported(2000), "BAD_PARAM: a bug of ours, never hidden by a fallback");
        assertFalse(CudnnConv.notSupported(4000), "INTERNAL_ERROR");
        assertFalse(CudnnConv.notSupported(5000), "EXECUTION_FAILED");
    }
}
