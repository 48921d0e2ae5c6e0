// Fragment output: lights (lighting.glsl), tone mapping, sRGB encoding, dithering.
// Included by surface.frag, ball.frag and background.frag.
#include "lighting.glsl"

uniform float u_exposure;
uniform float u_dither;      // amplitude in output code values (1/255 for 8 bit)

vec3 tonemap(vec3 c) {
    c *= u_exposure;
#if defined(FILMIC)
    // ACES filmic fit (Narkowicz 2015); the 0.6 maps scene-referred mid grey to its input
    c *= 0.6;
    c = (c * (2.51 * c + 0.03)) / (c * (2.43 * c + 0.59) + 0.14);
#endif
    return clamp(c, 0.0, 1.0);
}

vec3 encode_srgb(vec3 c) {
    // sRGB transfer curve from three square roots instead of pow (pow dominated the
    // per-pixel cost on llvmpipe); coefficients least-squares fitted with numpy to the
    // exact curve on [0.0031308, 1]: max error 0.15 code values of 255.
    vec3 s1 = sqrt(c);
    vec3 s2 = sqrt(s1);
    vec3 s3 = sqrt(s2);
    vec3 hi = 0.59151571 * s1 + 0.76914122 * s2 - 0.36010173 * s3;
    return mix(c * 12.92, hi, step(vec3(0.0031308), c));
}

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
