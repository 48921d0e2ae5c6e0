// Interleaved gradient noise (Jimenez 2014) for dithering to 8 bits, deterministic.
// The noise is fract(52.98 * fract(ramp)) with ramp = dot(pixel center, DITHER_RAMP):
// ramp is linear in window coordinates, so a vertex shader can compute it and pass it
// as a noperspective varying (surface.vert, dense grids) instead of reading gl_FragCoord.
const vec2 DITHER_RAMP = vec2(0.06711056, 0.00583715);

float dither_noise(float ramp) {
    return fract(52.9829189 * fract(ramp));
}
