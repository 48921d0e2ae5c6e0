// Fragment output: lights, tone curve, sRGB (lighting.glsl) and dithering.
// Included by surface.frag, ball.frag and background.frag.
#include "lighting.glsl"

uniform float u_dither;      // amplitude in output code values (1/255 for 8 bit)

vec3 dither(vec3 c) {
#if !defined(DITHER)
    return c;
#endif
    // interleaved gradient noise: breaks 8-bit banding in smooth gradients, deterministic
    float n = fract(52.9829189 * fract(dot(gl_FragCoord.xy, vec2(0.06711056, 0.00583715))));
    return c + (n - 0.5) * u_dither;
}

vec3 finish(vec3 linear_color) {
    return dither(encode_srgb(tonemap(linear_color)));
}
