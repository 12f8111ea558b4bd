//@params LOCAL_R=64 LX=16 LY=1
__kernel void psi_max(const int n, __global const float* psi, __global float* partial) {
    __local float scratch[LOCAL_R];
    int lid = get_local_id(0);
    float m = -INFINITY;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) m = fmax(m, psi[i]);
    scratch[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = LOCAL_R / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partial[get_group_id(0)] = scratch[0];
}

__kernel void jacobi(const int nr, const int nz, const float r0, const float h, const int groups,
                     __global const float* psi, __global const float* partial, __global float* out) {
    int i = get_global_id(0), j = get_global_id(1);
    if (i >= nr || j >= nz) return;
    int k = j * nr + i;
    if (i == 0 || j == 0 || i == nr - 1 || j == nz - 1) { out[k] = psi[k]; return; }
    float pmax = partial[0];
    for (int g = 1; g < groups; ++g) pmax = fmax(pmax, partial[g]);
    if (fabs(pmax) < 0.005f) pmax = copysign(0.005f, pmax);  // guard the division below
    float r = r0 + i * h;
    float a = h / (2.0f * r);
    float q = psi[k] / pmax;
    float source = r * r * (1.0f - q * q);
    out[k] = ((1.0f - a) * psi[k + 1] + (1.0f + a) * psi[k - 1] + psi[k + nr] + psi[k - nr] + h * h * source) * 0.25f;
}
