/*
 * cloe4j-bind: class=cublas_h library=cublas
 *
 * The subset of cuBLAS (cublas_api.h, cuBLAS 12/13) that cloe4j binds: enough for SGEMM as a reference and a
 * benchmark peer. Written from the documented prototypes; handles and streams are opaque pointers.
 */

typedef int cublasStatus_t;
typedef int cublasOperation_t;
typedef int cublasMath_t;
typedef struct cublasContext *cublasHandle_t;
typedef struct CUstream_st *cudaStream_t;

#define CUBLAS_STATUS_SUCCESS 0
#define CUBLAS_STATUS_NOT_INITIALIZED 1
#define CUBLAS_STATUS_ALLOC_FAILED 3
#define CUBLAS_STATUS_INVALID_VALUE 7
#define CUBLAS_STATUS_EXECUTION_FAILED 13
#define CUBLAS_OP_N 0
#define CUBLAS_OP_T 1
#define CUBLAS_DEFAULT_MATH 0
#define CUBLAS_PEDANTIC_MATH 2
#define CUBLAS_TF32_TENSOR_OP_MATH 3

cublasStatus_t cublasCreate_v2(cublasHandle_t *handle);
cublasStatus_t cublasDestroy_v2(cublasHandle_t handle);
cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId);
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode);
cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                              int m, int n, int k,
                              const float *alpha, const float *A, int lda,
                              const float *B, int ldb,
                              const float *beta, float *C, int ldc);
