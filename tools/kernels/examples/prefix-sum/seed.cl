//@params BLOCK=256 LOCAL=64
// Three passes: scan each block of BLOCK elements, scan the block totals, add each block's offset.
__kernel void scan_blocks(const int n, __global const int* x, __global int* y, __global int* sums) {
    int b = get_global_id(0);
    int start = b * BLOCK;
    if (start >= n) return;
    int end = min(start + BLOCK, n);
    int acc = 0;
    for (int i = start; i < end; ++i) {
        acc += x[i];
        y[i] = acc;
    }
    sums[b] = acc;
}

__kernel void scan_sums(const int n, __global const int* x, __global int* y, __global int* sums) {
    if (get_global_id(0) != 0) return;
    int blocks = (n + BLOCK - 1) / BLOCK;
    int acc = 0;
    for (int b = 0; b < blocks; ++b) {
        acc += sums[b];
        sums[b] = acc;
    }
}

__kernel void add_offsets(const int n, __global const int* x, __global int* y, __global int* sums) {
    int i = get_global_id(0);
    if (i >= n) return;
    int b = i / BLOCK;
    if (b > 0) {
        y[i] += sums[b - 1];
    }
}
