//@params LOCAL=16
// Whole-axis FFT in the last stage launch of each axis; every other stage launch does nothing.
// Lines up to 128 points (private arrays); a longer axis is left as it is.
#define MAXN 128
__kernel void fft_stage(const int nx, const int ny, const int nz, const int axis, const int p,
                        __global const float2* in, __global float2* out) {
    int n = axis == 0 ? nx : (axis == 1 ? ny : nz);
    if (2 * p != n) return;             /* not the axis' last stage: nothing to do */
    if (n > MAXN) return;
    int t = get_global_id(0);
    int total = nx * ny * nz;
    int lines = total / n;
    if (t >= lines) return;
    int stride = axis == 0 ? 1 : (axis == 1 ? nx : nx * ny);
    int base;
    if (axis == 0) base = t * nx;
    else if (axis == 1) base = (t / nx) * nx * ny + t % nx;
    else base = t;
    int logn = 0;
    while ((1 << logn) < n) ++logn;
    /* the previous axis' result sits in `in` when log2(n) is odd, else already in `out` */
    float2 v[MAXN];
    if (logn & 1) {
        for (int j = 0; j < n; ++j) {
            int r = 0;
            for (int b = 0; b < logn; ++b) r |= ((j >> b) & 1) << (logn - 1 - b);
            v[r] = in[base + j * stride];
        }
    } else {
        for (int j = 0; j < n; ++j) {
            int r = 0;
            for (int b = 0; b < logn; ++b) r |= ((j >> b) & 1) << (logn - 1 - b);
            v[r] = out[base + j * stride];
        }
    }
    float2 tw[MAXN / 2];
    for (int k = 0; k < n / 2; ++k) {
        float c;
        float s = sincos(-2.0f * M_PI_F * (float)k / (float)n, &c);
        tw[k] = (float2)(c, s);
    }
    for (int len = 2; len <= n; len <<= 1) {
        int hl = len >> 1, sp = n / len;
        for (int i = 0; i < n; i += len) {
            for (int j = 0; j < hl; ++j) {
                float2 w = tw[j * sp];
                float2 a = v[i + j], b = v[i + j + hl];
                float2 wb = (float2)(b.x * w.x - b.y * w.y, b.x * w.y + b.y * w.x);
                v[i + j] = a + wb;
                v[i + j + hl] = a - wb;
            }
        }
    }
    for (int k = 0; k < n; ++k) out[base + k * stride] = v[k];
}
