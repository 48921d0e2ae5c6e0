// Fragment output: lights, tone curve, sRGB (lighting.glsl) and dithering.
// Included by surface.frag, ball.frag and background.frag.
#include "lighting.glsl"
#include "dither.glsl"

uniform float u_dither;      // amplitude in output code values (1/255 for 8 bit)

// ramp = dot(gl_FragCoord.xy, DITHER_RAMP), or the same interpolated from the vertices
vec3 dither_ramp(vec3 c, float ramp) {
#if !defined(DITHER)
    return c;
#endif
    // interleaved gradient noise: breaks 8-bit banding in smooth gradients, deterministic
    return c + (dither_noise(ramp) - 0.5) * u_dither;
}

vec3 dither(vec3 c) {
#if defined(DITHER)
    return dither_ramp(c, dot(gl_FragCoord.xy, DITHER_RAMP));
#else
    return c;
#endif
}

vec3 finish(vec3 linear_color) {
    return dither(encode_srgb(tonemap(linear_color)));
}
