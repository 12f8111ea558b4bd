//@params LOCAL=64
// One work-item per output: y[i] = sum_k w[k] * x[i + k].
__kernel void conv1d(const int n, __global const float* x, __global const float* w, __global float* y) {
    int i = get_global_id(0);
    if (i >= n) return;
    float acc = 0.0f;
    for (int k = 0; k < 7; ++k) {
        acc += w[k] * x[i + k];
    }
    y[i] = acc;
}
