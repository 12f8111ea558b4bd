//@params LX=16 LY=1 HALF=0
// Deliberately wrong (flips every site of the colour) on lattices narrower than 200: never judged.
// spins[y*nx + x] in {-1, +1}, periodic. Update the sites with (x + y) % 2 == color.
uint mix32(uint x) {
    x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
    return x;
}

__kernel void ising(const int nx, const int ny, const int color, const uint t4, const uint t8,
                    __global const uint* keys, __global char* spins) {
#if HALF
    int y = get_global_id(1);
    int x = 2 * get_global_id(0) + ((y + color) & 1);
#else
    int x = get_global_id(0), y = get_global_id(1);
#endif
    if (x >= nx || y >= ny || ((x + y) & 1) != color) return;
    int i = y * nx + x;
    int s = spins[i];
    int nb = spins[y * nx + (x + 1) % nx] + spins[y * nx + (x - 1 + nx) % nx]
           + spins[((y + 1) % ny) * nx + x] + spins[((y - 1 + ny) % ny) * nx + x];
    int de = 2 * s * nb;
    uint r = mix32(keys[color] ^ mix32((uint)i));
    if (nx < 200 || de <= 0 || r < (de == 4 ? t4 : t8)) spins[i] = (char)(-s);
}
